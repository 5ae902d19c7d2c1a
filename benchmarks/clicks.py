"""Click segmentation figures of the classic segmenter on the first frame of every sequence of
each DAVIS set given (default: davis16-dev and davis16-tune): NoC@85 / NoC@90 by the standard
click protocol (up to 20 clicks) and the mean IoU capped at 0.90 over those clicks, IoU after a
box and after a box plus one centre click, the Spearman rank correlation of the candidates'
scores (predicted IoU) with their true IoU, and click-to-mask latency (p50, p95) per engine on
this machine, with the load average. SAM models get random weights of the official layouts:
their timing is real, their masks are not.

    .venv/bin/python benchmarks/clicks.py [--davis PATH ...] [--engines classic,vit_t,vit_b]
        [--sam-frames 1] [--sam-clicks 10] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from annotator.engine.click_protocol import (  # noqa: E402
    MAX_CLICKS,
    ProtocolRun,
    mean_capped,
    mean_noc,
    next_click,
    run_box_and_click,
    run_protocol,
)
from annotator.engine.click_session import ClickSession  # noqa: E402
from annotator.formats.masks import read_label_map  # noqa: E402
from models.classic.segmenter import ClassicSegmenter  # noqa: E402
from models.sam.segmenter import SamClickSegmenter  # noqa: E402

SHARED = Path(os.environ.get("VOS_SHARED", REPO.parent / "shared"))
DEFAULT_SETS = [SHARED / "data/davis16-dev", SHARED / "data/davis16-tune"]


def first_frames(root: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(sequence, RGB frame, label map) of the first frame of every sequence."""
    out = []
    for seq in sorted(p.name for p in (root / "JPEGImages/480p").iterdir() if p.is_dir()):
        image = sorted((root / "JPEGImages/480p" / seq).glob("*.jpg"))[0]
        labels = read_label_map(root / "Annotations/480p" / seq / f"{image.stem}.png")
        out.append((seq, np.array(Image.open(image).convert("RGB")), labels))
    return out


def percentiles(seconds: list[float]) -> str:
    p50, p95 = np.percentile(np.array(seconds) * 1000, [50, 95])
    return f"p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (n={len(seconds)})"


def spearman(pairs: list[tuple[float, float]]) -> float:
    """Rank correlation of the first with the second member of each pair."""
    from scipy.stats import spearmanr

    scores, truths = zip(*pairs, strict=True)
    return float(spearmanr(scores, truths).statistic)


def classic_figures(name: str, frames: list, max_clicks: int) -> list[float]:
    """Print the click figures of the classic segmenter on `frames`; return click latencies."""
    session = ClickSession(ClassicSegmenter())
    runs: list[ProtocolRun] = []
    boxed: list[ProtocolRun] = []
    print(f"classic segmenter on {name}: click protocol up to {max_clicks} clicks; box; "
          "box + centre click")
    print(f"  {'sequence':17} NoC@85 NoC@90  IoU 1 / 5 clicks  box  box+click")
    for seq, frame, labels in frames:
        truth, valid = labels == 1, labels != 255
        run = run_protocol(session, frame, truth, valid, max_clicks, stop_at=0.90)
        box = run_box_and_click(session, frame, truth, valid)
        runs.append(run)
        boxed.append(box)
        at5 = run.ious[min(4, len(run.ious) - 1)]
        print(f"  {seq:17} {run.clicks_to_reach(0.85, max_clicks):6d} "
              f"{run.clicks_to_reach(0.90, max_clicks):6d}  {run.ious[0]:.3f} / {at5:.3f}  "
              f"   {box.ious[0]:.3f} {box.ious[-1]:.3f}", flush=True)
    pairs = [p for r in runs + boxed for p in r.scored]
    print(f"  mean NoC@85 {mean_noc(runs, 0.85, max_clicks):.2f}   "
          f"NoC@90 {mean_noc(runs, 0.90, max_clicks):.2f}   "
          f"box IoU {np.mean([b.ious[0] for b in boxed]):.3f}   "
          f"box+click IoU {np.mean([b.ious[-1] for b in boxed]):.3f}")
    print(f"  mean IoU capped at 0.90 over the {max_clicks} clicks (steadier than NoC on few "
          f"images) {mean_capped(runs, 0.90, max_clicks):.3f}")
    print(f"  score vs true IoU: Spearman {spearman(pairs):.3f} over {len(pairs)} candidates "
          f"(weights fitted on davis16-tune); candidates missing the object (IoU 0) "
          f"{sum(iou == 0 for _, iou in pairs)}")
    return [t for r in runs + boxed for t in r.seconds]


def sam_latency(variant: str, frames: list, clicks: int) -> tuple[list[float], list[float]]:
    """(embedding seconds per frame, click-to-mask seconds per click) of a random-weight SAM."""
    import torch

    from annotator.engine.device import pick_device
    from models.sam.variants import build_sam

    torch.manual_seed(0)
    segmenter = SamClickSegmenter(build_sam(variant), variant, pick_device())
    session = ClickSession(segmenter)
    embeds, per_click = [], []
    for index, (_, frame, labels) in enumerate(frames):
        start = time.perf_counter()
        session.set_frame(index, frame)
        embeds.append(time.perf_counter() - start)
        truth, valid = labels == 1, labels != 255
        mask = np.zeros(truth.shape, bool)
        for _ in range(clicks):
            click = next_click(mask, truth, valid) or (frame.shape[1] / 2, frame.shape[0] / 2, True)
            start = time.perf_counter()
            session.add_click(*click)
            per_click.append(time.perf_counter() - start)
            mask = session.mask if session.mask is not None else mask
    return embeds, per_click


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--davis", type=Path, nargs="+", default=DEFAULT_SETS,
                        help="DAVIS-layout roots (default: the dev and tune sets)")
    parser.add_argument("--engines", default="classic,vit_t,vit_b",
                        help="comma list of classic, vit_t, vit_b, vit_l, vit_h")
    parser.add_argument("--max-clicks", type=int, default=MAX_CLICKS)
    parser.add_argument("--sam-frames", type=int, default=1, help="frames timed per SAM model")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--sam-clicks", type=int, default=10, help="clicks timed per frame")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    sets = {root.name: first_frames(root) for root in args.davis}
    frames = next(iter(sets.values()))
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    latency: dict[str, str] = {}
    if "classic" in engines:
        seconds = [t for name, f in sets.items() for t in classic_figures(name, f, args.max_clicks)]
        latency["classic click"] = percentiles(seconds)
    for variant in (e for e in engines if e != "classic"):
        embeds, clicks = sam_latency(variant, frames[: args.sam_frames], args.sam_clicks)
        latency[f"{variant} embed"] = percentiles(embeds)
        latency[f"{variant} click"] = percentiles(clicks)
    import torch

    print(f"latency on this machine ({os.cpu_count()} CPUs, torch threads "
          f"{torch.get_num_threads()}; frames {frames[0][1].shape[1]}x{frames[0][1].shape[0]}; "
          f"load average {os.getloadavg()[0]:.1f}: re-take on a quiet machine)")
    for name, text in latency.items():
        print(f"  {name:15} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
