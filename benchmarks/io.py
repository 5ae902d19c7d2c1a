"""I/O figures: palette PNG write/read speed at 480p, and memory while stepping a long video.

    python benchmarks/io.py [--frames 10000] [--png-frames 200] [--davis PATH]

Prints frames per second for writing (atomic, as the app saves) and reading 854x480 palette
PNGs, frames per second for decoding the JPEG frames of a DAVIS sequence, and the peak resident
memory (RSS) while opening and stepping through a synthetic H.264 video of --frames frames,
after 1,000 and after all frames (flat = memory does not grow with the video's length), and
for a VideoAnnotation of the same length holding a propagated mask on every 10th frame.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from annotator.annotation import VideoAnnotation  # noqa: E402
from annotator.formats.masks import encode_label_map, read_label_map, write_label_map  # noqa: E402
from annotator.video.opening import open_frames  # noqa: E402

DEFAULT_DAVIS = REPO.parent / "shared" / "data" / "davis16-dev"
MIB = 2**20


def rss() -> int:
    return psutil.Process().memory_info().rss


def sample_label_maps(davis: Path, count: int) -> list[np.ndarray]:
    """Real DAVIS masks when available (with a second object added), else synthetic ones."""
    files = sorted((davis / "Annotations" / "480p").glob("*/*.png"))
    if files:
        maps = [read_label_map(files[i % len(files)]) for i in range(count)]
    else:
        yy, xx = np.mgrid[0:480, 0:854]
        maps = [
            ((xx - 300 - i) ** 2 + (yy - 240) ** 2 < 120**2).astype(np.uint8) for i in range(count)
        ]
    for i, labels in enumerate(maps):
        labels[300 + i % 50 : 420, 600:760][labels[300 + i % 50 : 420, 600:760] == 0] = 2
    return maps


def bench_png(davis: Path, count: int) -> None:
    maps = sample_label_maps(davis, count)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        for labels in maps:
            encode_label_map(labels)
        encode = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for i, labels in enumerate(maps):
            write_label_map(Path(folder) / f"{i:05d}.png", labels)
        write = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(count):
            read_label_map(Path(folder) / f"{i:05d}.png", (480, 854))
        read = count / (time.perf_counter() - start)
        size = sum(p.stat().st_size for p in Path(folder).iterdir()) / count / 1024
    print(f"palette PNG 854x480 ({count} frames, {size:.1f} KB each):")
    print(f"  encode only        {encode:8.1f} frames/s")
    print(f"  write (atomic)     {write:8.1f} frames/s")
    print(f"  read               {read:8.1f} frames/s")


def bench_jpeg_folder(davis: Path) -> None:
    folder = davis / "JPEGImages" / "480p" / "bear"
    if not folder.is_dir():
        print("JPEG frames: skipped (no DAVIS data)")
        return
    with open_frames(folder, cache_bytes=0) as frames:
        start = time.perf_counter()
        for i in range(len(frames)):
            frames[i]
        rate = len(frames) / (time.perf_counter() - start)
    print(f"JPEG frames 854x480 (DAVIS bear, {len(frames)} frames): decode {rate:8.1f} frames/s")


def make_video(path: Path, count: int, width: int, height: int) -> None:
    yy, xx = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "60"}
        for i in range(count):
            frame = np.empty((height, width, 3), np.uint8)
            frame[..., 0] = (xx + i) % 256
            frame[..., 1] = (yy * 2 + i // 3) % 256
            frame[..., 2] = ((xx - width // 2) ** 2 + (yy - height // 2) ** 2 < (i % 90) ** 2) * 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def bench_long_video(count: int, width: int, height: int, cache_mib: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long.mp4"
        start = time.perf_counter()
        make_video(path, count, width, height)
        print(
            f"synthetic video: {count} frames {width}x{height} H.264, made in "
            f"{time.perf_counter() - start:.1f} s"
        )
        baseline = rss()
        start = time.perf_counter()
        frames = open_frames(path, cache_bytes=cache_mib * MIB)
        opened = time.perf_counter() - start
        peak, marks = rss(), {}
        start = time.perf_counter()
        for i in range(len(frames)):
            frames[i]
            if i % 100 == 0:
                peak = max(peak, rss())
            if i + 1 in (1000, len(frames)):
                marks[i + 1] = max(peak, rss())
        stepped = time.perf_counter() - start
        start = time.perf_counter()
        for i in np.random.default_rng(0).integers(0, len(frames), 50):
            frames[int(i)]
        random_rate = 50 / (time.perf_counter() - start)
        frames.close()
    print(f"  open (index packets, decode nothing) {opened:6.2f} s")
    print(
        f"  step through all frames  {count / stepped:8.1f} frames/s; "
        f"random access {random_rate:6.1f} frames/s; cache budget {cache_mib} MiB"
    )
    for done, value in marks.items():
        print(
            f"  peak RSS after {done:6d} frames: {value / MIB:7.1f} MiB "
            f"(+{(value - baseline) / MIB:6.1f} MiB over the start)"
        )


def bench_annotation(count: int) -> None:
    baseline = rss()
    video = VideoAnnotation([f"{i:08d}" for i in range(count)], 480, 854)
    obj = video.add_object().id
    proposal = np.zeros((480, 854), np.uint8)
    start = time.perf_counter()
    marks = {}
    with video.transaction("propagate"):
        for index in range(0, count, 10):
            proposal[:] = 0
            proposal[100 + index % 50 : 300, 200 : 500 + index % 80] = obj
            video.apply_propagated(index, proposal)
            if index + 10 in (1000, count):
                marks[index + 10] = (rss(), video.nbytes)
    rate = len(range(0, count, 10)) / (time.perf_counter() - start)
    print(
        f"VideoAnnotation 854x480, {count} frames, a propagated mask on every 10th "
        f"({rate:.0f} frames/s into the state):"
    )
    for frames, (value, held) in marks.items():
        print(
            f"  after {frames:6d} frames: RSS +{(value - baseline) / MIB:6.1f} MiB, "
            f"label maps + undo {held / MIB:6.2f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000, help="length of the long video")
    parser.add_argument("--size", default="320x180", help="long video size WxH")
    parser.add_argument("--cache-mib", type=int, default=64, help="frame cache budget")
    parser.add_argument("--png-frames", type=int, default=200)
    parser.add_argument("--davis", type=Path, default=DEFAULT_DAVIS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    bench_png(args.davis, args.png_frames)
    bench_jpeg_folder(args.davis)
    bench_long_video(args.frames, width, height, args.cache_mib)
    bench_annotation(args.frames)


if __name__ == "__main__":
    main()
