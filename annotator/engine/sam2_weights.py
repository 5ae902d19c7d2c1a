"""Which SAM 2.1 checkpoint to use: the registered or present one that suits the device."""

from __future__ import annotations

from pathlib import Path

from annotator.engine.device import pick_device
from annotator.engine.weights import find_weights
from annotator.errors import AnnotatorError

# a CPU wants the small one, a GPU the large one
PREFERENCE_CPU = ("sam2.1_tiny", "sam2.1_small", "sam2.1_base_plus", "sam2.1_large")
PREFERENCE_GPU = tuple(reversed(PREFERENCE_CPU))
HOW_TO_GET = (
    "run `vos-annotator weights download sam2.1_tiny` (or sam2.1_large for a GPU), "
    "`vos-annotator weights add FILE`, or pass --weights FILE"
)


def find_sam2_weights(device: str | None = None, folder: str | Path | None = None) -> Path:
    """The SAM 2.1 checkpoint that suits `device` best among those in the weights `folder`
    (default: the user's); none is an error that says what to do."""
    order = PREFERENCE_CPU if pick_device(device).type == "cpu" else PREFERENCE_GPU
    found = (find_weights(name, folder) for name in order)
    path = next((path for path in found if path is not None), None)
    if path is None:
        raise AnnotatorError(f"no SAM 2.1 checkpoint found: {HOW_TO_GET}")
    return path
