"""A child for the kill -9 tests: opens a video, recovers its journal, then paints strokes one
after another through the Project API, logging each stroke number once `paint` has returned
(so once its journal record is synced), until it is killed.

    python tests/journal_child.py ROOT FIRST_STROKE PROGRESS_FILE
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

SIZE = (480, 854)


def stroke_place(number: int, frames: int) -> tuple[int, np.ndarray]:
    """Stroke `number`'s frame and its 16 x 16 square, which no other stroke touches."""
    frame, slot = number % frames, number // frames
    row, column = divmod(slot, 25)
    mask = np.zeros(SIZE, bool)
    mask[10 + 24 * row : 26 + 24 * row, 10 + 32 * column : 26 + 32 * column] = True
    return frame, mask


def main(root: str, first: int, progress: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from annotator.annotation.project import Project

    project = Project.open(root)
    if project.has_recovery():
        project.recover()
    annotation = project.annotation
    obj = 1 if 1 in annotation.objects else annotation.add_object("ball").id
    log = os.open(progress, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(log, b"ready\n")
    for number in range(first, first + 100_000):
        frame, mask = stroke_place(number, len(annotation))
        annotation.paint(frame, obj, mask)
        os.write(log, f"{number}\n".encode())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
