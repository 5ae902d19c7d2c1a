"""Our STCN side by side with the reference implementation's own evaluation code.

`python benchmarks/propagation.py --compare PATH` runs, in turn, the reference's `eval_davis.py`
from a checkout of https://github.com/hkchengrex/STCN (patched to run on the CPU, see
`CPU_PATCH`) and our propagator on the same clip, the same checkpoint and the same settings, and
prints both times, their ratio per pair, peak RSS, how many labels agree and how many of the
others are one object against another (ties at the cut between two objects). Each run is a fresh
process; start-up (imports, reading the checkpoint and the frames) is outside the timed part:
the reference's own timer runs from its first frame on the device to its last label map, ours
from the call to `propagate` to the last label map. Seconds per frame are that time divided by
the propagated frames; the CPU columns divide the process's CPU time over the same span, which
other jobs on the machine disturb less than the wall time. Pairs alternate which side runs
first, so a change of machine load hits both, and the load average is printed before every
pair: the output is meant to be pasted whole into docs/BENCHMARKS.md.

Setup: bring https://github.com/hkchengrex/STCN here (`git clone`), run `CPU_PATCH` in it, and
give its folder to `--compare`. Its Python dependencies (torch, torchvision, numpy, Pillow) are
the project's own; `progressbar` is replaced by a pass-through when missing. The clip is a
DAVIS-layout sequence (`--data`, `--sequence`, default bear from ../shared/data/davis16-dev);
the checkpoint is built from the fixture's rule weights of the official layout. Nothing of the
reference enters this repository: the checkout stays where the user keeps it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from fresh import in_fresh_process
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VOS_SHARED", REPO.parent / "shared"))
DEFAULT_DATA = SHARED / "data" / "davis16-dev"
KEYS_FILE = SHARED / "fixtures" / "stcn" / "state_dict_keys.json"
# The issue named DAVIS blackswan, which is in DAVIS 2016's validation split and so never on
# this machine; bear (davis16-dev, 854x480) stands in for it.
DEFAULT_SEQUENCE = "bear"
TOP_K = 20
MEM_EVERY = 5
# eval_davis.py reads its output palette from this sequence's first mask; the benchmark puts a
# copy of the clip's own first mask there (no DAVIS validation data is involved).
PALETTE_SEQUENCE = "blackswan"
# The local patch that makes the checkout run here: CPU tensors, and no download of ImageNet
# weights for the encoders (the checkpoint replaces them anyway).
CPU_PATCH = (
    "sed -i -e 's/\\.cuda()//g' -e 's/torch\\.cuda\\.synchronize/torch.cpu.synchronize/' "
    "-e \"s/device='cuda'/device='cpu'/\" -e \"s/self\\.device = 'cuda'/self.device = 'cpu'/\" "
    "eval_davis.py inference_core.py && sed -i 's/pretrained=True/pretrained=False/g' "
    "model/modules.py"
)
REFERENCE_FILES = ("eval_davis.py", "inference_core.py", "model/eval_network.py")
UNPATCHED = (
    ("eval_davis.py", ".cuda()"),
    ("eval_davis.py", "torch.cuda.synchronize"),
    ("inference_core.py", ".cuda()"),
    ("model/modules.py", "pretrained=True"),
)
# Runs eval_davis.py in the checkout with a fixed thread count and prints the process's peak
# RSS and the CPU time between the two synchronize calls that bracket its timer; `progressbar`
# (a display-only dependency) is replaced by a pass-through when missing.
REFERENCE_RUNNER = """
import resource, runpy, sys, time, types
import torch
torch.set_num_threads(int(sys.argv[1]))
marks = []
torch.cpu.synchronize = lambda *_: marks.append(time.process_time())
try:
    import progressbar
except ImportError:
    stub = types.ModuleType("progressbar")
    stub.progressbar = lambda iterable, **_: iterable
    sys.modules["progressbar"] = stub
sys.path.insert(0, ".")
sys.argv = ["eval_davis.py", *sys.argv[2:]]
runpy.run_path("eval_davis.py", run_name="__main__")
print("peak_rss_bytes", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
print("cpu_seconds", marks[-1] - marks[-2])
"""


@dataclass(frozen=True)
class Clip:
    """The compared clip laid out as eval_davis.py expects it (DAVIS 2017 trainval)."""

    root: Path  # holds trainval/
    sequence: str
    frames: list[Path]
    objects: int

    @property
    def first_mask(self) -> Path:
        return self.root / "trainval" / "Annotations" / "480p" / self.sequence / "00000.png"


def check_checkout(path: Path) -> None:
    """Exit with a message unless `path` is an STCN checkout patched to run on the CPU."""
    missing = [name for name in REFERENCE_FILES if not (path / name).is_file()]
    if missing:
        sys.exit(f"{path} is not an STCN checkout (no {', '.join(missing)})")
    unpatched = [name for name, needle in UNPATCHED if needle in (path / name).read_text()]
    if unpatched:
        sys.exit(
            f"{path} is not patched to run on the CPU offline ({', '.join(unpatched)}); "
            f"in the checkout run: {CPU_PATCH}"
        )


def split_objects(mask: np.ndarray, objects: int) -> np.ndarray:
    """Label map with `objects` ids: the foreground cut into vertical bands of its bounding box."""
    foreground = mask > 0
    if objects == 1:
        return foreground.astype(np.uint8)
    columns = np.flatnonzero(foreground.any(axis=0))
    edges = np.linspace(columns[0], columns[-1] + 1, objects + 1).round().astype(int)
    labels = np.zeros(mask.shape, np.uint8)
    for index in range(objects):
        band = np.zeros_like(foreground)
        band[:, edges[index] : edges[index + 1]] = True
        labels[foreground & band] = index + 1
    return labels


def make_clip(data: Path, sequence: str, length: int, objects: int, dest: Path) -> Clip:
    """Links the first `length` frames of `sequence` into a DAVIS 2017 layout under `dest`."""
    source = sorted((data / "JPEGImages" / "480p" / sequence).glob("*.jpg"))[:length]
    if len(source) < length:
        sys.exit(f"{data}: {sequence} has {len(source)} frames, the comparison needs {length}")
    trainval = dest / "trainval"
    images = trainval / "JPEGImages" / "480p" / sequence
    images.mkdir(parents=True)
    frames = []
    for index, path in enumerate(source):
        link = images / f"{index:05d}.jpg"
        link.symlink_to(path.resolve())
        frames.append(link)
    mask_file = data / "Annotations" / "480p" / sequence / f"{source[0].stem}.png"
    labels = split_objects(np.asarray(Image.open(mask_file).convert("L")), objects)
    mask = Image.fromarray(labels, mode="P")
    mask.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [0] * (256 - 4) * 3)
    for name in (sequence, PALETTE_SEQUENCE):
        folder = trainval / "Annotations" / "480p" / name
        folder.mkdir(parents=True)
        mask.save(folder / "00000.png")
    imagesets = trainval / "ImageSets" / "2017"
    imagesets.mkdir(parents=True)
    (imagesets / "val.txt").write_text(sequence + "\n")
    return Clip(dest, sequence, frames, objects)


def run_reference(checkout: Path, clip: Clip, checkpoint: Path, threads: int) -> dict[str, Any]:
    """One run of eval_davis.py in a fresh process; its timer, peak RSS and output labels."""
    out = clip.root / "reference_output"
    command = [
        sys.executable, "-c", REFERENCE_RUNNER, str(threads),
        "--model", str(checkpoint), "--davis_path", str(clip.root), "--output", str(out),
        "--top", str(TOP_K), "--mem_every", str(MEM_EVERY),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    seconds = re.search(r"Total processing time:\s+([0-9.]+)", done.stdout)
    peak = re.search(r"peak_rss_bytes (\d+)", done.stdout)
    cpu = re.search(r"cpu_seconds ([0-9.]+)", done.stdout)
    if done.returncode != 0 or seconds is None or peak is None or cpu is None:
        sys.exit(f"the reference run failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    outputs = sorted((out / clip.sequence).glob("*.png"))[1:]
    labels = np.stack([np.asarray(Image.open(path)) for path in outputs])
    return {
        "seconds": float(seconds.group(1)),
        "cpu": float(cpu.group(1)),
        "peak_rss": int(peak.group(1)),
        "labels": labels,
    }


def run_ours(settings: dict[str, Any]) -> dict[str, Any]:
    """One run of our propagator (called in a fresh process, whose allocator is set up as the
    app's entry points set theirs): time, peak RSS, labels."""
    from annotator.allocator import tune_allocator
    from annotator.engine.stcn_loader import load_stcn
    from models.stcn.propagator import STCNPropagator

    tune_allocator()
    torch.set_num_threads(settings["threads"])
    frames = [np.asarray(Image.open(path).convert("RGB")) for path in settings["frames"]]
    first = np.asarray(Image.open(settings["first_mask"]))
    propagator = STCNPropagator(
        load_stcn(settings["checkpoint"]), "cpu", top_k=TOP_K, mem_every=MEM_EVERY
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    results = propagator.propagate(frames, {0: first}, range(1, len(frames)))
    labels = [result.labels for result in results]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"seconds": seconds, "cpu": cpu, "peak_rss": peak, "labels": np.stack(labels)}


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else model
    return (
        f"{model}, {os.cpu_count()} logical CPUs, torch {torch.__version__}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def build_checkpoint(dest: Path) -> Path:
    """The fixture's rule weights of the official layout, saved as `stcn.pth` would be."""
    from models.stcn.rule_weights import rule_state_dict

    path = dest / "stcn_rule_weights.pth"
    torch.save(rule_state_dict(json.loads(KEYS_FILE.read_text())), path)
    return path


def run_pair(
    pair: int, checkout: Path, clip: Clip, checkpoint: Path, settings: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sides once; odd pairs run the reference first, even pairs ours."""
    if pair % 2:
        reference = run_reference(checkout, clip, checkpoint, settings["threads"])
        return reference, in_fresh_process(run_ours, settings)
    ours = in_fresh_process(run_ours, settings)
    return run_reference(checkout, clip, checkpoint, settings["threads"]), ours


def compare(
    checkout: Path,
    data: Path,
    sequence: str,
    length: int,
    object_counts: list[int],
    pairs: int,
    threads: int,
) -> None:
    """Prints the side-by-side table: per pair, then medians, peak RSS and label agreement."""
    check_checkout(checkout)
    propagated = length - 1
    print(f"STCN side by side: reference {checkout} (its eval_davis.py) and ours ({REPO})")
    print(f"machine: {machine()}")
    print(
        f"clip: {data.name}/{sequence}, frames 0..{length - 1} at 854x480 (frame 0 annotated, "
        f"{propagated} propagated); rule weights of the official stcn.pth layout; top-k {TOP_K}, "
        f"a memory frame every {MEM_EVERY}, float32, {threads} threads each; start-up excluded. "
        f"s/frame: timed wall seconds / {propagated}; CPU: the process's CPU seconds over the "
        f"same span / {propagated} (all threads; less sensitive to other jobs than wall time)"
    )
    header = (
        "| reference s/frame | ours s/frame | reference / ours | reference CPU s/frame "
        "| ours CPU s/frame | reference / ours (CPU) |"
    )
    summary = []
    with tempfile.TemporaryDirectory(prefix="stcn-compare-") as scratch:
        checkpoint = build_checkpoint(Path(scratch))
        for objects in object_counts:
            clip = make_clip(data, sequence, length, objects, Path(scratch) / f"clip{objects}")
            settings = {
                "threads": threads,
                "checkpoint": str(checkpoint),
                "frames": [str(path) for path in clip.frames],
                "first_mask": str(clip.first_mask),
            }
            print(f"\n{objects} object(s)\n\n| pair | first | load before (1, 5, 15 min) {header}")
            print("| --- " * 9 + "|")
            results = []
            for pair in range(1, pairs + 1):
                load = load_line().removeprefix("load average ")
                reference, ours = run_pair(pair, checkout, clip, checkpoint, settings)
                first = "reference" if pair % 2 else "ours"
                print(f"| {pair} | {first} | {load} {row(reference, ours, propagated)}", flush=True)
                results.append((reference, ours))
            summary.append((objects, results))
    print(f"\nmedians over the pairs ({load_line()} at the end)\n")
    print(f"| objects {header} peak RSS reference / ours | labels equal | of the others, "
          "object against object |")
    print("| --- " * 10 + "|")
    for objects, results in summary:
        median = {
            side: {
                key: float(np.median([r[i][key] for r in results])) for key in ("seconds", "cpu")
            }
            for i, side in enumerate(("reference", "ours"))
        }
        peaks = [max(r[i]["peak_rss"] for r in results) / 2**30 for i in (0, 1)]
        theirs = np.stack([reference["labels"] for reference, _ in results])
        mine = np.stack([ours["labels"] for _, ours in results])
        differ = theirs != mine
        swapped = np.count_nonzero(differ & (theirs > 0) & (mine > 0))
        print(
            f"| {objects} {row(median['reference'], median['ours'], propagated)} "
            f"{peaks[0]:.2f} / {peaks[1]:.2f} GB | {1 - differ.mean():.3%} | "
            f"{swapped / max(1, np.count_nonzero(differ)):.0%} |"
        )


def row(reference: dict[str, Any], ours: dict[str, Any], frames: int) -> str:
    """Table cells: wall and CPU seconds per frame of both sides and their ratios."""
    cells = []
    for key in ("seconds", "cpu"):
        theirs, mine = reference[key] / frames, ours[key] / frames
        cells += [f"{theirs:.3f}", f"{mine:.3f}", f"{theirs / mine:.2f}"]
    return "| " + " | ".join(cells) + " |"
