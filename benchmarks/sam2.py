"""SAM 2.1 speed and memory: clicks and propagation at the official 1024 working size, and a
long synthetic clip whose memory must stay flat.

Per variant (random weights from a fixed seed: speed does not depend on their values): seconds
per image embedding and per click decode, and seconds per propagated frame (two objects) at
1024. Then a synthetic clip of 2,000 frames, generated frame by frame (never held whole), is
propagated from one keyframe, and the RSS after the first tenth and at the end, the peak RSS,
the pass memory's bytes and the time per frame in the first and last tenth are printed (on
CUDA also the GPU memory). On a CPU the long clip runs the model at a reduced working size
(`--long-working-size`, default 128) so that 2,000 frames take minutes, not hours: what is kept
per frame is smaller, but what is kept is the same. Each part runs in a fresh process.

    python benchmarks/sam2.py                                   # CPU: tiny, about 30 minutes
    python benchmarks/sam2.py --long-frames 300                 # a shorter long clip
    python benchmarks/sam2.py --long-only --threads 1           # only the long clip
    python benchmarks/sam2.py --device cuda --variants tiny large --long-working-size 1024
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its name would hide the
# `sam2` package: the repository root takes its place, the folder goes last.
REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "benchmarks"))  # the helpers propagation.py imports, after packages

import numpy as np  # noqa: E402
import psutil  # noqa: E402
import torch  # noqa: E402

from benchmarks.propagation import SyntheticClip, parse_size  # noqa: E402

CLICK_SIZE = (480, 854)
OBJECTS = 2


def _model(settings: dict[str, Any]) -> Any:
    from models.sam2.variants import build_sam2

    torch.manual_seed(0)
    if settings["threads"]:
        torch.set_num_threads(settings["threads"])
    return build_sam2(settings["variant"], settings["working_size"])


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def click_scenario(settings: dict[str, Any]) -> dict[str, Any]:
    """Seconds per embedding and per decode (a click, then a refining click with the prior)."""
    from models.sam2.click import Sam2ClickSegmenter

    core = Sam2ClickSegmenter(_model(settings), settings["variant"], settings["device"])
    clip = SyntheticClip(settings["embeds"] + 1, *CLICK_SIZE, 1)
    core.set_image(clip[0])  # warm-up
    embeds = []
    for index in range(1, settings["embeds"] + 1):
        started = time.perf_counter()
        core.set_image(clip[index])
        _sync(settings["device"])
        embeds.append(time.perf_counter() - started)
    decodes = []
    for step in range(settings["decodes"]):
        point = np.array([[300.0 + 10 * step, 200.0]])
        started = time.perf_counter()
        logits = core.predict(point, np.array([1])).logits
        core.predict(point + 40, np.array([1]), prior=logits[:1], multimask=False)
        _sync(settings["device"])
        decodes.append((time.perf_counter() - started) / 2)
    return {"embed": embeds, "decode": decodes, "threads": torch.get_num_threads()}


def propagation_scenario(settings: dict[str, Any]) -> dict[str, Any]:
    """Wall and CPU time per frame, RSS, pass memory and GPU memory as the pass goes."""
    from models.sam2.propagator import Sam2Propagator

    engine = Sam2Propagator(_model(settings), settings["device"])
    clip = SyntheticClip(settings["frames"], *settings["size"], OBJECTS)
    cuda = settings["device"].startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    process = psutil.Process()
    durations, cpu, rss, memory, gpu = [], [], [], [], []
    tenth = max(1, (len(clip) - 1) // 10)
    previous, cpu_previous = time.perf_counter(), time.process_time()
    for done, _ in enumerate(engine.propagate(clip, {0: clip.labels(0)}, range(1, len(clip))), 1):
        now, cpu_now = time.perf_counter(), time.process_time()
        durations.append(now - previous)
        cpu.append(cpu_now - cpu_previous)
        previous, cpu_previous = now, cpu_now
        rss.append(process.memory_info().rss)
        memory.append(engine.last_memory_bytes)
        gpu.append(torch.cuda.max_memory_allocated() if cuda else 0)
        if settings["progress"] and done % tenth == 0:
            print(f"    {done} frames: {np.mean(durations[-tenth:]):.2f} s/frame, RSS "
                  f"{rss[-1] / 2**20:.0f} MB, pass memory {memory[-1] / 2**20:.2f} MB",
                  flush=True)
    return {
        "durations": durations, "cpu": cpu, "rss": rss, "memory": memory, "gpu": gpu,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "memory_frames": engine.last_memory_frames, "threads": torch.get_num_threads(),
    }


def in_fresh_process(scenario: Any, settings: dict[str, Any]) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(scenario, (settings,))


def report_clicks(variant: str, result: dict[str, Any]) -> None:
    embed = float(np.median(result["embed"]))
    decode = float(np.median(result["decode"]))
    print(f"  clicks: {embed:.2f} s per image embedding (median of {len(result['embed'])}), "
          f"{decode * 1000:.0f} ms per click decode (median of {len(result['decode'])}) "
          f"at {CLICK_SIZE[1]}x{CLICK_SIZE[0]}, {result['threads']} threads")


def report_propagation(result: dict[str, Any]) -> None:
    steady = result["durations"][1:] or result["durations"]
    per_frame = float(np.mean(steady))
    cpu = float(np.mean(result["cpu"][1:] or result["cpu"])) / result["threads"]
    print(f"  propagation, {OBJECTS} objects, {len(result['durations'])} frames: "
          f"{per_frame:.2f} s/frame ({1 / per_frame:.2f} frames/s); CPU time per frame / "
          f"threads {cpu:.2f} s (about the wall time on an idle machine)")


def report_long(result: dict[str, Any], frames: int, size: tuple[int, int],
                working: int) -> None:
    durations = np.array(result["durations"])
    tenth = max(1, len(durations) // 10)
    rss = np.array(result["rss"]) / 2**20
    memory = np.array(result["memory"]) / 2**20
    print(f"  long clip: {frames} frames at {size[1]}x{size[0]} (generated on demand), working "
          f"size {working}, {OBJECTS} objects: first tenth "
          f"{durations[:tenth].mean():.3f} s/frame, last tenth {durations[-tenth:].mean():.3f} "
          f"s/frame; RSS after the first tenth {rss[tenth - 1]:.0f} MB, at the end "
          f"{rss[-1]:.0f} MB (peak {result['peak_rss'] / 2**20:.0f} MB); pass memory "
          f"{memory[tenth - 1]:.2f} MB after the first tenth, {memory[-1]:.2f} MB at the end, "
          f"{result['memory_frames']} frames of spatial memory")
    if result["gpu"][-1]:
        gpu = np.array(result["gpu"]) / 2**20
        print(f"  GPU memory (peak allocated): {gpu[tenth - 1]:.0f} MB after the first tenth, "
              f"{gpu[-1]:.0f} MB at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=["tiny"],
                        choices=["tiny", "small", "base_plus", "large"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="0: torch's default")
    parser.add_argument("--embeds", type=int, default=2, help="image embeddings timed")
    parser.add_argument("--decodes", type=int, default=10, help="click decodes timed")
    parser.add_argument("--frames", type=int, default=4, help="frames at 1024, keyframe incl.")
    parser.add_argument("--long-frames", type=int, default=2000)
    parser.add_argument("--long-size", type=parse_size, default=(64, 112), help="frames, HxW")
    parser.add_argument("--long-working-size", type=int, default=128,
                        help="the model's square working size on the long clip (1024 on a GPU)")
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--long-only", action="store_true", help="only the long clip")
    args = parser.parse_args()

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"SAM 2.1 on {args.device}; load average {load} (figures need a quiet machine)")
    for variant in args.variants:
        common = {"variant": variant, "device": args.device, "threads": args.threads}
        print(f"{variant}:")
        if not args.long_only:
            clicks = in_fresh_process(click_scenario, {
                **common, "working_size": None, "embeds": args.embeds, "decodes": args.decodes})
            report_clicks(variant, clicks)
            frames = in_fresh_process(propagation_scenario, {
                **common, "working_size": None, "frames": args.frames, "size": CLICK_SIZE,
                "progress": False})
            report_propagation(frames)
        if not args.skip_long:
            long = in_fresh_process(propagation_scenario, {
                **common, "working_size": args.long_working_size, "frames": args.long_frames,
                "size": args.long_size, "progress": True})
            report_long(long, args.long_frames, args.long_size, args.long_working_size)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average at the end {load}")


if __name__ == "__main__":
    main()
