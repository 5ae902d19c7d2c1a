"""Quality and speed of the classic propagator on a DAVIS-layout root (single object, DAVIS 2016).

    python benchmarks/davis.py ROOT [--sequences a b ...] [--max-frames N] [--reverse]

Each sequence is propagated from its first mask (with --reverse: played backward, from its last
mask to the first, a different tracking problem to check that tuning on the forward runs
generalises); J and F are scored on every frame but the first and the last (the DAVIS
protocol); frames per second time the propagation, frame reads included: `fps` by the wall
clock (noisy on a shared machine), `cpu-fps` by this process's CPU time (all its threads
together, so a floor for a quiet machine).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from annotator.formats.masks import read_label_map  # noqa: E402
from annotator.quality.metrics import frame_scores  # noqa: E402
from models.classic.propagator import ClassicPropagator  # noqa: E402


class JpegFrames:
    """Frames of one sequence folder, decoded when asked for."""

    def __init__(self, paths: list[Path]):
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        bgr = cv2.imread(str(self.paths[index]), cv2.IMREAD_COLOR)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _layout(root: Path) -> tuple[Path, Path]:
    for images, masks in ((root / "JPEGImages" / "480p", root / "Annotations" / "480p"),
                          (root / "JPEGImages", root / "Annotations")):
        if images.is_dir() and masks.is_dir():
            return images, masks
    raise SystemExit(f"{root}: no JPEGImages/ and Annotations/ folders")


def run_sequence(
    images: Path, masks: Path, max_frames: int | None, reverse: bool = False
) -> tuple[float, float, float, float]:
    paths = sorted(images.glob("*.jpg"))[:max_frames]
    gts = [read_label_map(masks / f"{p.stem}.png") for p in paths]
    gts = [(g > 0).astype(np.uint8) for g in gts]
    key = len(paths) - 1 if reverse else 0
    targets = range(key - 1, -1, -1) if reverse else range(1, len(paths))
    propagator = ClassicPropagator()
    frames = JpegFrames(paths)
    start, cpu_start = time.perf_counter(), time.process_time()
    preds = {f.index: f.labels for f in propagator.propagate(frames, {key: gts[key]}, targets)}
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    scored = range(1, len(paths) - 1)
    scores = [frame_scores(gts[i], preds[i], [1]) for i in scored]
    j = float(np.mean([s[0][0] for s in scores]))
    f = float(np.mean([s[1][0] for s in scores]))
    return j, f, (len(paths) - 1) / elapsed, (len(paths) - 1) / cpu


def _row(name: str, j: float, f: float, fps: float, cpu_fps: float) -> None:
    scores = f"{100 * j:6.1f} {100 * f:6.1f} {50 * (j + f):6.1f}"
    print(f"{name:<16} {scores} {fps:6.1f} {cpu_fps:8.1f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--sequences", nargs="*", help="only these sequences")
    parser.add_argument("--max-frames", type=int, help="first N frames of each sequence")
    parser.add_argument("--reverse", action="store_true",
                        help="propagate from the last mask back to the first frame")
    args = parser.parse_args()
    images, masks = _layout(args.root)
    names = args.sequences or sorted(p.name for p in images.iterdir() if p.is_dir())
    print(f"{'sequence':<16} {'J':>6} {'F':>6} {'J&F':>6} {'fps':>6} {'cpu-fps':>8}")
    rows = []
    for name in names:
        row = run_sequence(images / name, masks / name, args.max_frames, args.reverse)
        rows.append(row)
        _row(name, *row)
    _row("mean", *(float(np.mean(c)) for c in zip(*rows, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
