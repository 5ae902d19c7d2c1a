"""Quality, confidence and speed of the classic propagator on DAVIS-layout roots (single object,
DAVIS 2016); by default the two sets in ../shared/data, davis16-dev and davis16-tune.

    python benchmarks/davis.py [ROOT ...] [--sequences a b ...] [--max-frames N] [--reverse]

Each sequence is propagated from its first mask (with --reverse: played backward, from its last
mask to the first, a different tracking problem to check that tuning on the forward runs
generalises); J and F are scored on every frame but the first and the last (the DAVIS
protocol); frames per second time the propagation, frame reads included: `fps` by the wall
clock (noisy on a shared machine), `cpu-fps` by this process's CPU time (all its threads
together, so a floor for a quiet machine). The load average is printed with them.

The confidence the propagator gives each frame is checked against J: per sequence its rank
correlation with J (Spearman), and per set how well it tells frames with J < 0.5 (AUC; the
precision and recall of flagging confidence < 0.5), and how many of the frames where J first
falls below 0.5 were flagged at or before that frame.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("VOS_SHARED", REPO.parent / "shared"))
DEFAULT_SETS = [SHARED / "data/davis16-dev", SHARED / "data/davis16-tune"]

from annotator.formats.masks import read_label_map  # noqa: E402
from annotator.quality.metrics import frame_scores  # noqa: E402
from models.classic.propagator import ClassicPropagator  # noqa: E402

LOW_J = 0.5  # a frame whose J is below this counts as failed


class JpegFrames:
    """Frames of one sequence folder, decoded when asked for."""

    def __init__(self, paths: list[Path]) -> None:
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


class Result:
    """One sequence's per-frame J, F and confidence (scored frames only) and its speed."""

    def __init__(self, j: np.ndarray, f: np.ndarray, confidence: np.ndarray, fps: float,
                 cpu_fps: float) -> None:
        self.j, self.f, self.confidence = j, f, confidence
        self.fps, self.cpu_fps = fps, cpu_fps


def run_sequence(images: Path, masks: Path, max_frames: int | None, reverse: bool = False
                 ) -> Result:
    paths = sorted(images.glob("*.jpg"))[:max_frames]
    gts = [read_label_map(masks / f"{p.stem}.png") for p in paths]
    gts = [(g > 0).astype(np.uint8) for g in gts]
    key = len(paths) - 1 if reverse else 0
    targets = range(key - 1, -1, -1) if reverse else range(1, len(paths))
    propagator = ClassicPropagator()
    frames = JpegFrames(paths)
    start, cpu_start = time.perf_counter(), time.process_time()
    preds = {out.index: (out.labels, out.confidence)
             for out in propagator.propagate(frames, {key: gts[key]}, targets)}
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    scored = range(1, len(paths) - 1)
    if reverse:  # in the order the frames were propagated, for the first failure's timing
        scored = scored[::-1]
    scores = [frame_scores(gts[i], preds[i][0], [1]) for i in scored]
    return Result(np.array([s[0][0] for s in scores]), np.array([s[1][0] for s in scores]),
                  np.array([preds[i][1][1] for i in scored]),
                  (len(paths) - 1) / elapsed, (len(paths) - 1) / cpu)


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a positive ranks above a negative by `score` (ties count half)."""
    from scipy.stats import rankdata

    n1, n0 = int(positive.sum()), int((~positive).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def confidence_summary(results: list[Result]) -> str:
    """How well confidence < 0.5 flags frames with J < 0.5 over a set, and how often the
    first failed frame of a sequence is flagged at or before it."""
    j = np.concatenate([r.j for r in results])
    conf = np.concatenate([r.confidence for r in results])
    failed, flagged = j < LOW_J, conf < 0.5
    hits = int((failed & flagged).sum())
    precision = hits / max(int(flagged.sum()), 1)
    recall = hits / max(int(failed.sum()), 1)
    early = [r for r in results if (r.j < LOW_J).any()]
    in_time = sum(bool((r.confidence[: int(np.argmax(r.j < LOW_J)) + 1] < 0.5).any())
                  for r in early)
    return (f"confidence vs J < {LOW_J}: AUC {auc(-conf, failed):.3f}, flagging confidence "
            f"< 0.5: precision {precision:.2f} recall {recall:.2f} ({int(failed.sum())} of "
            f"{j.size} frames failed); first failure flagged at or before it in {in_time} of "
            f"{len(early)} sequences")


def _row(name: str, j: float, f: float, fps: float, cpu_fps: float, rho: float) -> None:
    scores = f"{100 * j:6.1f} {100 * f:6.1f} {50 * (j + f):6.1f}"
    print(f"{name:<18} {scores} {fps:6.1f} {cpu_fps:8.1f} {rho:8.2f}", flush=True)


def run_set(root: Path, names: list[str] | None, max_frames: int | None, reverse: bool
            ) -> None:
    images, masks = _layout(root)
    present = sorted(p.name for p in images.iterdir() if p.is_dir())
    names = [n for n in names if n in present] if names else present
    if not names:
        print(f"{root.name}: none of the sequences asked for")
        return
    print(f"{root.name}{' (reversed)' if reverse else ''}")
    print(f"{'sequence':<18} {'J':>6} {'F':>6} {'J&F':>6} {'fps':>6} {'cpu-fps':>8} "
          f"{'conf~J':>8}")
    results = []
    for name in names:
        r = run_sequence(images / name, masks / name, max_frames, reverse)
        results.append(r)
        _row(name, r.j.mean(), r.f.mean(), r.fps, r.cpu_fps, spearman(r.confidence, r.j))
    _row("mean", *(float(np.mean([np.mean(getattr(r, k)) for r in results]))
                   for k in ("j", "f", "fps", "cpu_fps")),
         float(np.nanmean([spearman(r.confidence, r.j) for r in results])))
    print(f"lowest J {100 * min(r.j.mean() for r in results):.1f}; "
          + confidence_summary(results))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", type=Path, nargs="*", default=DEFAULT_SETS)
    parser.add_argument("--sequences", nargs="*", help="only these sequences")
    parser.add_argument("--max-frames", type=int, help="first N frames of each sequence")
    parser.add_argument("--reverse", action="store_true",
                        help="propagate from the last mask back to the first frame")
    args = parser.parse_args()
    for root in args.roots:
        run_set(root, args.sequences, args.max_frames, args.reverse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
