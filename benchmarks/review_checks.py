"""Review checks without ground truth: their cost per frame stays flat as the video grows.

    python benchmarks/review_checks.py [--frames 600] [--sequence bear] [--davis PATH]
    python benchmarks/review_checks.py --truth-flags [--davis PATH]

Loops a DAVIS dev sequence (frames and ground-truth masks, forward then backward so that the
motion stays smooth) into a video of --frames frames, checks every frame as the app's worker
and the `review` command do (flags, confidence, IoU with the frame before, optical flow), and
prints the milliseconds per frame over the first and the last 100 frames and the resident
memory (RSS) after each (flat = neither grows with the video's length), with the machine's
load. Take the final figures on a quiet machine.

With --truth-flags: the false alarms instead, the flags raised on every sequence's own ground
truth taken as a prediction (the thresholds were set on the dev sequences).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from annotator.engine.qa import check_frames  # noqa: E402
from annotator.formats.masks import read_label_map  # noqa: E402
from annotator.video.opening import open_frames  # noqa: E402

DEFAULT_DAVIS = REPO.parent / "shared" / "data" / "davis16-dev"
MIB = 2**20
WINDOW = 100


class Looped:
    """A clip played forward, backward, forward… to `count` frames (frames and masks alike)."""

    def __init__(self, frames: object, masks: list[Path], count: int) -> None:
        self.frames, self.masks, self.count = frames, masks, count
        self.frame_names = [f"{i:06d}" for i in range(count)]

    def _source(self, index: int) -> int:
        period = 2 * len(self.masks) - 2
        position = index % period
        return position if position < len(self.masks) else period - position

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> np.ndarray:
        return self.frames[self._source(index)]  # type: ignore[index]

    def label_map(self, index: int) -> np.ndarray:
        return read_label_map(self.masks[self._source(index)])


class Truth:
    """A sequence's ground-truth masks, read as a prediction."""

    def __init__(self, masks: list[Path]) -> None:
        self.masks = masks
        self.frame_names = [path.stem for path in masks]

    def label_map(self, index: int) -> np.ndarray:
        return read_label_map(self.masks[index])


def truth_flags(davis: Path) -> None:
    """Print the flags on each sequence's ground truth: every one a false alarm or a true
    oddity of the ground truth itself."""
    frames_in_all = flags_in_all = 0
    for folder in sorted((davis / "Annotations" / "480p").iterdir()):
        truth = Truth(sorted(folder.glob("*.png")))
        with open_frames(davis / "JPEGImages" / "480p" / folder.name,
                         cache_bytes=64 * MIB) as frames:
            signals = check_frames(truth, frames, range(len(truth.masks)))
        assert signals is not None
        flags = [flag for frame in signals for flag in frame.flags]
        kinds = sorted({flag.kind.value for flag in flags})
        print(f"{folder.name}: {len(flags)} flags over {len(signals)} frames"
              + (f" ({', '.join(kinds)})" if kinds else ""))
        frames_in_all += len(signals)
        flags_in_all += len(flags)
    print(f"in all: {flags_in_all} flags over {frames_in_all} frames of ground truth")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--sequence", default="bear")
    parser.add_argument("--davis", type=Path, default=DEFAULT_DAVIS)
    parser.add_argument("--truth-flags", action="store_true",
                        help="print the flags raised on each sequence's own ground truth")
    args = parser.parse_args()
    if args.truth_flags:
        truth_flags(args.davis)
        return 0
    masks = sorted((args.davis / "Annotations" / "480p" / args.sequence).glob("*.png"))
    stamps: list[tuple[float, int]] = []
    with open_frames(args.davis / "JPEGImages" / "480p" / args.sequence,
                     cache_bytes=64 * MIB) as frames:
        video = Looped(frames, masks, args.frames)
        started = time.perf_counter()
        check_frames(video, video, range(args.frames), progress=lambda done, _: stamps.append(
            (time.perf_counter(), psutil.Process().memory_info().rss)))
    total = time.perf_counter() - started
    times = np.diff([started] + [t for t, _ in stamps])
    first, last = times[:WINDOW].mean() * 1000, times[-WINDOW:].mean() * 1000
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{args.frames} frames of {args.sequence} (looped), {total:.1f} s in all")
    print(f"first {WINDOW} frames: {first:.1f} ms/frame, RSS {stamps[WINDOW - 1][1] / MIB:.0f} MiB")
    print(f"last {WINDOW} frames:  {last:.1f} ms/frame, RSS {stamps[-1][1] / MIB:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
