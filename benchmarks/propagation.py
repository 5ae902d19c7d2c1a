"""STCN propagation speed and memory on the CPU (or a GPU when asked).

Prints seconds per frame, frames per second and peak RSS at 854x480 for 1 and 3 objects, then
runs a synthetic 2,000-frame clip (generated frame by frame, at a reduced size by
default) and prints the time per frame in its first and last tenth and the peak RSS, which the
memory budget bounds. Weights are random: speed does not depend on their values.

The default run keeps to a few minutes: the long clip is 500 frames of a 2,000-frame clip at
112x64 (the memory is full from frame 100 on, so the last tenth shows the steady state).

    python benchmarks/propagation.py                           # default, a few minutes
    python benchmarks/propagation.py --objects --long-frames 2000   # the whole 2,000 frames
    python benchmarks/propagation.py --long-size 480x854       # the long clip at full size
    python benchmarks/propagation.py --compare ../STCN          # side by side with the reference

`--compare` runs the reference implementation's own evaluation code and ours alternately on a
DAVIS clip with the same checkpoint and settings (`stcn_compare.py`): every speed claim about
the reference comes from such a run, with the machine and its load.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import torch
from fresh import in_fresh_process
from stcn_compare import DEFAULT_DATA, DEFAULT_SEQUENCE, compare, load_line

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


class SyntheticClip:
    """Frames made on demand: textured background and `objects` ellipses drifting across it."""

    def __init__(self, length: int, height: int, width: int, objects: int) -> None:
        self.length, self.height, self.width, self.objects = length, height, width, objects
        rows, cols = np.meshgrid(
            np.linspace(0, 1, height, dtype=np.float32),
            np.linspace(0, 1, width, dtype=np.float32),
            indexing="ij",
        )
        self.background = np.stack([rows * 160 + 40, cols * 160 + 40, (rows + cols) * 80 + 40], -1)
        self.yy, self.xx = np.mgrid[0:height, 0:width]

    def __len__(self) -> int:
        return self.length

    def _ellipse(self, index: int, obj: int) -> np.ndarray:
        phase = index * 0.02 + obj * 2.1
        cy = self.height * (0.5 + 0.25 * np.sin(phase))
        cx = self.width * (0.5 + 0.3 * np.cos(phase * 0.7 + obj))
        ry, rx = self.height * 0.15, self.width * 0.1
        return ((self.yy - cy) / ry) ** 2 + ((self.xx - cx) / rx) ** 2 <= 1

    def labels(self, index: int) -> np.ndarray:
        labels = np.zeros((self.height, self.width), np.uint8)
        for obj in range(self.objects):
            labels[self._ellipse(index, obj)] = obj + 1
        return labels

    def __getitem__(self, index: int) -> np.ndarray:
        rng = np.random.default_rng(index)
        frame = self.background + rng.normal(0, 12, self.background.shape).astype(np.float32)
        colours = ((230, 40, 40), (40, 200, 60), (60, 60, 230))
        for obj in range(self.objects):
            frame[self._ellipse(index, obj)] = colours[obj % 3]
        return np.clip(frame, 0, 255).astype(np.uint8)


def run_scenario(settings: dict) -> dict:
    """One propagation in this (fresh) process, its allocator set up as the app's entry points
    set theirs; returns timings and peak RSS."""
    from annotator.allocator import tune_allocator
    from models.stcn.network import STCN
    from models.stcn.propagator import STCNPropagator

    tune_allocator()
    torch.manual_seed(0)
    if settings["threads"]:
        torch.set_num_threads(settings["threads"])
    clip = SyntheticClip(settings["frames"], *settings["size"], settings["objects"])
    propagator = STCNPropagator(STCN(), settings["device"], memory_frames=settings["memory_frames"])
    process = psutil.Process()
    started = time.perf_counter()
    previous = started
    cpu_started = time.process_time()
    durations, cpu, rss = [], [], []
    results = propagator.propagate(clip, {0: clip.labels(0)}, range(1, len(clip)))
    for _ in results:
        now = time.perf_counter()
        durations.append(now - previous)
        previous = now
        cpu.append(time.process_time())
        rss.append(process.memory_info().rss)
    return {
        "durations": durations,
        "cpu": np.diff([cpu_started, *cpu]).tolist(),
        "total": previous - started,
        "rss": rss,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "memory_frames": propagator.last_memory_frames,
        "threads": torch.get_num_threads(),
    }


def parse_size(text: str) -> tuple[int, int]:
    height, width = (int(v) for v in text.lower().split("x"))
    return height, width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=11, help="frames at 854x480 (incl. key)")
    parser.add_argument(
        "--objects", type=int, nargs="*", default=[1, 3], help="object counts at 854x480"
    )
    parser.add_argument("--long-frames", type=int, default=500, help="2000 for the full clip")
    parser.add_argument("--long-size", type=parse_size, default=(64, 112), help="HxW")
    parser.add_argument("--memory-frames", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="0: torch's default")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="STCN_CHECKOUT",
        help="run the reference's eval_davis.py from this checkout and ours side by side",
    )
    parser.add_argument("--data", type=Path, help="DAVIS-layout root with --sequence (--compare)")
    parser.add_argument("--sequence", help="clip for --compare")
    parser.add_argument("--clip-frames", type=int, default=21, help="frames of it (--compare)")
    parser.add_argument("--pairs", type=int, default=3, help="runs of each side (--compare)")
    args = parser.parse_args()
    if args.compare is not None:
        compare(
            args.compare,
            args.data or DEFAULT_DATA,
            args.sequence or DEFAULT_SEQUENCE,
            args.clip_frames,
            args.objects,
            args.pairs,
            args.threads or 2,
        )
        return
    common = {"threads": args.threads, "device": args.device, "memory_frames": args.memory_frames}

    print(
        f"STCN propagation on {args.device}, memory budget {args.memory_frames} frames "
        f"({load_line()}); --compare measures the reference beside it"
    )
    for objects in args.objects:
        result = in_fresh_process(
            run_scenario, {**common, "frames": args.frames, "size": (480, 854), "objects": objects}
        )
        steady = result["durations"][1:] or result["durations"]
        per_frame = float(np.mean(steady))
        cpu_per_frame = float(np.mean(result["cpu"][1:] or result["cpu"])) / result["threads"]
        print(
            f"854x480, {objects} object(s), {len(result['durations'])} frames "
            f"({result['threads']} threads): {per_frame:.3f} s/frame, "
            f"{1 / per_frame:.2f} frames/s, "
            f"first frame {result['durations'][0]:.3f} s, peak RSS "
            f"{result['peak_rss'] / 2**30:.2f} GB; CPU time per frame / threads "
            f"{cpu_per_frame:.3f} s (about the wall time on an idle machine, more under load)"
        )
    if args.skip_long:
        return
    height, width = args.long_size
    result = in_fresh_process(
        run_scenario, {**common, "frames": args.long_frames, "size": args.long_size, "objects": 1}
    )
    durations = np.array(result["durations"])
    tenth = max(1, len(durations) // 10)
    rss = np.array(result["rss"]) / 2**20
    cpu = np.array(result["cpu"]) / result["threads"]
    print(
        f"synthetic clip of {args.long_frames} frames at {width}x{height} (generated on demand), "
        f"1 object: first tenth {durations[:tenth].mean() * 1000:.1f} ms/frame (median "
        f"{np.median(durations[:tenth]) * 1000:.1f}), last tenth "
        f"{durations[-tenth:].mean() * 1000:.1f} ms/frame (median "
        f"{np.median(durations[-tenth:]) * 1000:.1f}); CPU time / threads: "
        f"{cpu[:tenth].mean() * 1000:.1f} and {cpu[-tenth:].mean() * 1000:.1f} ms/frame; "
        f"RSS after the first "
        f"tenth {rss[tenth - 1]:.0f} MB, at the end {rss[-1]:.0f} MB, peak "
        f"{result['peak_rss'] / 2**20:.0f} MB; memory frames at the end "
        f"{result['memory_frames']} (budget {args.memory_frames})"
    )


if __name__ == "__main__":
    main()
