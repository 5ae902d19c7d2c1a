"""The window on a long video: open, step, seek, paint, propagate, delete and undo on a
10,000-frame 1280x720 clip, as an mp4 and as a JPEG folder, driven offscreen with the
weights-free engines.

    python benchmarks/gui_long_video.py [--frames 10000] [--kinds mp4 jpeg]
                                        [--clips /tmp/vos-bench-clips] [--delete-frames 1400]

The clip is made once and kept under --clips (not in the repository): moving textured shapes on
a panning textured background, H.264 with x264's default key frame interval (250) or JPEG
quality 90. Each run works on a scratch copy of its dataset folders (frames hard-linked).

Every phase prints its figures and the worst GUI-thread stall during it: a 20 ms timer on the
GUI thread records the thread's own CPU time at each tick, and a stall is the most CPU time
the thread spent between two ticks (its own work: a busy machine cannot inflate it, as in
tests/test_gui_responsive.py); the longest wall-clock gap between ticks is printed beside it.
Step latency is from the key press to the exact frame on screen; seek cost is the GUI thread's
CPU time from the click until the exact frame is on screen (a stand-in shows at once). Peak
memory is the process's peak RSS. Goals (issue 14): open <= 2 s, step p95 <= 50 ms, seek p95
<= 150 ms of GUI time, no stall over 100 ms, peak RSS under 1 GB with the classic engines.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PyQt6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

WIDTH, HEIGHT = 1280, 720
TICK_MS = 20
VIDEO = "long"


# ---- the clip ----------------------------------------------------------------------------
def object_centre(index: int, frames: int) -> tuple[int, int]:
    """Where the moving disc is on frame `index` (a slow loop around the frame)."""
    angle = 2 * np.pi * index / min(frames, 600)
    return int(WIDTH / 2 + 380 * np.cos(angle)), int(HEIGHT / 2 + 200 * np.sin(angle))


def render(index: int, frames: int, texture: np.ndarray) -> np.ndarray:
    shift = (index * 2) % (texture.shape[1] - WIDTH)
    frame = texture[:HEIGHT, shift : shift + WIDTH].copy()
    cv2.circle(frame, object_centre(index, frames), 90, (200, 60, 40), -1)
    cv2.rectangle(frame, (200 + index % 300, 500), (330 + index % 300, 640), (40, 160, 220), -1)
    return frame


def make_texture() -> np.ndarray:
    rng = np.random.default_rng(7)
    small = rng.integers(40, 200, (HEIGHT // 16 + 1, (WIDTH + 1400) // 16 + 1, 3), np.uint8)
    return cv2.resize(small, (WIDTH + 1400, HEIGHT + 16), interpolation=cv2.INTER_CUBIC)


def build_clips(folder: Path, frames: int, kinds: list[str]) -> dict[str, Path]:
    """The clip as an mp4 and a JPEG folder under `folder` (made once, then reused)."""
    folder = folder / f"{frames}x{WIDTH}x{HEIGHT}"
    texture = make_texture()
    paths = {"mp4": folder / f"{VIDEO}.mp4", "jpeg": folder / "jpeg" / VIDEO}
    if "mp4" in kinds and not paths["mp4"].exists():
        print(f"making {paths['mp4']} ({frames} frames)…", flush=True)
        paths["mp4"].parent.mkdir(parents=True, exist_ok=True)
        partial = paths["mp4"].with_suffix(".part.mp4")
        with av.open(str(partial), "w") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            stream.options = {"preset": "veryfast", "crf": "23"}
            for index in range(frames):
                image = av.VideoFrame.from_ndarray(render(index, frames, texture), format="rgb24")
                container.mux(stream.encode(image))
            container.mux(stream.encode())
        partial.rename(paths["mp4"])
    if "jpeg" in kinds and not (paths["jpeg"] / "done").exists():
        print(f"making {paths['jpeg']} ({frames} JPEG frames)…", flush=True)
        paths["jpeg"].mkdir(parents=True, exist_ok=True)
        for index in range(frames):
            bgr = cv2.cvtColor(render(index, frames, texture), cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(paths["jpeg"] / f"{index:05d}.jpg"), bgr,
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
        (paths["jpeg"] / "done").touch()
    return {kind: paths[kind] for kind in kinds}


def scratch_copy(kind: str, clip: Path, work: Path) -> Path:
    """A dataset to annotate: the mp4 hard-linked into its own folder, or an LVOS root whose
    JPEGImages/<video> holds the frames hard-linked."""
    if kind == "mp4":
        target = work / "mp4" / clip.name
        target.parent.mkdir(parents=True)
        os.link(clip, target)
        return target
    frames = work / "lvos" / "JPEGImages" / VIDEO
    frames.mkdir(parents=True)
    for path in clip.glob("*.jpg"):
        os.link(path, frames / path.name)
    return work / "lvos"


# ---- measuring ---------------------------------------------------------------------------
class StallMeter:
    """A TICK_MS timer on the GUI thread; per phase the most GUI-thread CPU time between two
    ticks (its stall) and the longest wall-clock gap."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.cpu.append(time.thread_time())
        self.wall.append(time.monotonic())

    @contextlib.contextmanager
    def phase(self) -> Iterator[dict[str, float]]:
        self.cpu, self.wall = [], []
        figures: dict[str, float] = {}
        yield figures
        self._tick()
        figures["stall_ms"] = 1000 * max((b - a for a, b in pairwise(self.cpu)), default=0.0)
        figures["wall_gap_ms"] = 1000 * max((b - a for a, b in pairwise(self.wall)),
                                            default=0.0)


def wait_until(condition: Callable[[], bool], timeout_s: float = 600.0, poll_ms: int = 5) -> None:
    """Run the event loop (blocking, not spinning) until `condition()`."""
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(poll_ms)
    deadline = time.monotonic() + timeout_s

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    poll.timeout.connect(check)
    poll.start()
    if not condition():
        loop.exec()
    poll.stop()
    if not condition():
        raise TimeoutError("the window did not get there in time")


def pause(seconds: float) -> None:
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() >= end, seconds + 5)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(kind: str, phase: str, text: str, figures: dict[str, float]) -> None:
    print(f"{kind:4} {phase:9} {text:60} stall {figures['stall_ms']:6.0f} ms "
          f"(wall gap {figures['wall_gap_ms']:6.0f} ms)  RSS {rss_mb():5.0f} MB", flush=True)


# ---- the session -------------------------------------------------------------------------
def run(kind: str, dataset: Path, args: argparse.Namespace, work: Path) -> None:
    from annotator.gui.app import build_window
    from annotator.gui.settings import AppSettings, Preferences

    settings = AppSettings(QSettings(str(work / f"{kind}.ini"), QSettings.Format.IniFormat))
    settings.save_preferences(Preferences(click_engine="classic", propagation_engine="classic"))
    window = build_window(settings)
    window.resize(1400, 900)
    window.show()
    c = window.controller
    meter = StallMeter()
    shown: dict[int, float] = {}  # frame index -> when its exact picture was on screen

    def on_frame(index: int) -> None:
        if c.frame() is not None and index not in shown:
            shown[index] = time.monotonic()

    c.frame_changed.connect(on_frame)
    wait_until(lambda: "loading" not in c.clicker.description + c.propagation.description)
    frames = args.frames

    with meter.phase() as figures:
        start = time.monotonic()
        c.open(dataset)
        wait_until(lambda: c.annotation is not None and c.frame() is not None)
        opened = time.monotonic() - start
    report(kind, "open", f"{opened:.2f} s to the first frame on screen", figures)

    with meter.phase() as figures:
        latencies, gui = [], []
        c.set_index(frames // 2)
        wait_until(lambda: c.frame() is not None)
        for _ in range(args.steps):
            shown.clear()
            cpu, start = time.thread_time(), time.monotonic()
            c.step(1)
            wait_until(lambda: c.index in shown)
            latencies.append(shown[c.index] - start)
            gui.append(time.thread_time() - cpu)
            pause(0.05)  # a held arrow key: about 20 frames a second
    report(kind, "step", f"p50 {1000 * percentile(latencies, 50):.0f} / p95 "
           f"{1000 * percentile(latencies, 95):.0f} ms (GUI CPU p95 "
           f"{1000 * percentile(gui, 95):.0f} ms), {args.steps} steps", figures)

    rng = np.random.default_rng(1)
    with meter.phase() as figures:
        gui, exact = [], []
        for target in rng.integers(0, frames, args.seeks):
            shown.clear()
            cpu, start = time.thread_time(), time.monotonic()
            c.set_index(int(target))
            wait_until(lambda: c.index in shown)
            gui.append(time.thread_time() - cpu)
            exact.append(time.monotonic() - start)
            pause(0.1)
    report(kind, "seek", f"GUI p50 {1000 * percentile(gui, 50):.0f} / p95 "
           f"{1000 * percentile(gui, 95):.0f} ms; exact frame p50 "
           f"{1000 * percentile(exact, 50):.0f} / p95 {1000 * percentile(exact, 95):.0f} ms",
           figures)

    keyframe = frames // 2
    with meter.phase() as figures:
        strokes = []
        c.set_index(keyframe)
        wait_until(lambda: c.frame() is not None)
        c.add_object()
        for stroke in range(args.strokes):
            mask = np.zeros((HEIGHT, WIDTH), np.uint8)
            x, y = object_centre(keyframe, frames)
            cv2.circle(mask, (x + (stroke % 5) * 8 - 16, y + (stroke // 5) * 8 - 16), 70, 1, -1)
            cpu = time.thread_time()
            c.paint(mask.astype(bool))
            strokes.append(time.thread_time() - cpu)
            pause(0.1)
    report(kind, "paint", f"{args.strokes} strokes, GUI p95 "
           f"{1000 * percentile(strokes, 95):.0f} ms per stroke", figures)

    with meter.phase() as figures:
        start = time.monotonic()
        done = [False]
        c.propagation.finished.connect(lambda cancelled: done.__setitem__(0, True))
        c.propagate("forward", end=keyframe + args.propagate)
        wait_until(lambda: done[0], timeout_s=3600)
        took = time.monotonic() - start
    report(kind, "propagate", f"{args.propagate} frames in {took:.1f} s "
           f"({args.propagate / took:.2f} frames/s)", figures)

    annotation = c.annotation
    assert annotation is not None
    c.add_object()
    second = c.current_object
    assert second is not None
    labels = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.rectangle(labels, (900, 60), (1180, 260), second, -1)
    print(f"     (setting up object {second} on {args.delete_frames} frames…)", flush=True)
    with annotation.transaction("set up"):
        for index in range(args.delete_frames):
            annotation.apply_propagated(index, labels, [second])
    wait_until(lambda: c.autosaver.wait_idle(1.0), timeout_s=3600)

    for phase, action in (("delete", lambda: c.delete_object(second)), ("undo", c.undo)):
        with meter.phase() as figures:
            start = time.monotonic()
            action()
            wait_until(lambda: not c.busy, timeout_s=3600)
            took = time.monotonic() - start
        count = annotation.frame_count(second)
        report(kind, phase, f"object {second} on {args.delete_frames} frames: {took:.1f} s "
               f"(now on {count})", figures)
    assert c.autosaver.wait_idle(600)
    window.close()
    meter.timer.stop()
    print(f"{kind:4} memory    peak RSS {peak_mb():.0f} MB (frame cache "
          f"{settings.preferences().frame_cache_mb} MB)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--kinds", nargs="+", choices=("mp4", "jpeg"), default=["mp4", "jpeg"])
    parser.add_argument("--clips", type=Path, default=Path(tempfile.gettempdir())
                        / "vos-bench-clips")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seeks", type=int, default=40)
    parser.add_argument("--strokes", type=int, default=10)
    parser.add_argument("--propagate", type=int, default=40)
    parser.add_argument("--delete-frames", type=int, default=1400)
    args = parser.parse_args()
    clips = build_clips(args.clips, args.frames, args.kinds)
    if len(clips) > 1:  # one process per clip: each peak RSS is its own
        for kind in clips:
            command = [sys.executable, __file__, *sys.argv[1:], "--kinds", kind]
            subprocess.run(command, check=True)
        return
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} "
          f"CPUs; {args.frames} frames {WIDTH}x{HEIGHT}", flush=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    (kind, clip), = clips.items()
    work = Path(tempfile.mkdtemp(prefix=f"vos-bench-{kind}-"))
    os.environ["VOS_ANNOTATOR_WEIGHTS"] = str(work / "weights")
    try:
        run(kind, scratch_copy(kind, clip, work), args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end", flush=True)
    del app


if __name__ == "__main__":
    main()
