"""Where predicted masks and the ground truth differ, in two kinds: a true object pixel the
masks miss (or give to another object), and a pixel the masks claim that the truth does not.
One definition for the GUI's marks, the report's thumbnails and the overlay video."""

from __future__ import annotations

import numpy as np

from models.protocols import VOID

AGREE, MISSED, EXTRA = 0, 1, 2
# code -> RGB, and the legend's words (the colours stand out on most footage)
DIFFERENCE_COLOURS: dict[int, tuple[int, int, int]] = {MISSED: (255, 0, 255),
                                                        EXTRA: (0, 255, 255)}
DIFFERENCE_NAMES: dict[int, str] = {
    MISSED: "missed (false negative): the truth has the object, the masks do not",
    EXTRA: "extra (false positive): the masks have the object, the truth does not",
}


def difference_codes(pred: np.ndarray, truth: np.ndarray, object_id: int | None = None,
                     ) -> np.ndarray:
    """H x W uint8: MISSED, EXTRA or AGREE per pixel; void in the truth always agrees.

    With `object_id`, only that object's pixels count: missed where the truth has it and the
    masks do not, extra where the masks have it and the truth does not. Without, every object:
    missed where the truth has an object the masks do not give there, extra where the truth is
    background and the masks hold an object.
    """
    if object_id is None:
        wrong = (pred != truth) & (truth != VOID)
        return np.where(wrong, np.where(truth == 0, EXTRA, MISSED), AGREE).astype(np.uint8)
    in_truth, in_pred = truth == object_id, pred == object_id
    codes = np.zeros(truth.shape, np.uint8)
    codes[in_truth & ~in_pred] = MISSED
    codes[in_pred & ~in_truth & (truth != VOID)] = EXTRA
    return codes
