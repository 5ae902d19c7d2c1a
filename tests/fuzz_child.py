"""The fuzz suite's child process: runs the cases that reach pycocotools or FFmpeg (native code
that a bad input could crash), so that a crash fails a test instead of killing pytest.

Usage: python fuzz_child.py MANIFEST.json. The manifest lists cases ``{"label", "kind",
"path", "out"?}``. Before each case the child prints ``start <label>``; after it one JSON
line ``{"label", "outcome", "detail"}`` with outcome ``ok`` (a usable result, checked),
``refused`` (AnnotatorError) or ``bug`` (any other exception, or a result that is wrong).
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from annotator.errors import AnnotatorError
from annotator.formats import lvvis
from annotator.formats.convert import convert
from annotator.video.video_file import VideoFileSource


def read_instances(path: Path) -> str:
    """Parse, then decode every listed frame of every video: each label map is uint8 of the
    video's size and holds only the video's object ids."""
    instances = lvvis.read_instances(path)
    frames = 0
    for name, video in instances.videos.items():
        labels = lvvis.video_labels(instances, name)
        allowed = {0, *lvvis.object_ids_of(video)}
        for frame in labels.annotated():
            label_map = labels.labels[frame]
            if label_map.dtype != np.uint8 or label_map.shape != (video.height, video.width):
                raise AssertionError(f"{name}/{frame}: label map {label_map.dtype} "
                                     f"{label_map.shape}")
            if not set(np.unique(label_map).tolist()) <= allowed:
                raise AssertionError(f"{name}/{frame}: ids outside {sorted(allowed)}")
            frames += 1
    return f"{len(instances.videos)} video(s), {frames} frame(s)"


def read_video_file(path: Path) -> str:
    with VideoFileSource(path, cache_bytes=0) as source:
        for index in range(len(source)):
            frame = source[index]
            if frame.shape != (*source.size, 3) or frame.dtype != np.uint8:
                raise AssertionError(f"frame {index}: {frame.dtype} {frame.shape}")
        return f"{len(source)} frame(s)"


def convert_dataset(path: Path, out: Path) -> str:
    done = convert(path, out, "lvos", split="train")
    return f"{len(done.videos)} video(s)"


def run(case: dict[str, Any]) -> tuple[str, str]:
    path = Path(case["path"])
    try:
        if case["kind"] == "instances":
            detail = read_instances(path)
        elif case["kind"] == "video":
            detail = read_video_file(path)
        else:
            detail = convert_dataset(path, Path(case["out"]))
    except AnnotatorError as exc:
        return "refused", str(exc)
    except Exception:
        return "bug", traceback.format_exc(limit=6)
    return "ok", detail


def main(manifest: str) -> None:
    for case in json.loads(Path(manifest).read_text()):
        print(f"start {case['label']}", flush=True)
        outcome, detail = run(case)
        print(json.dumps({"label": case["label"], "outcome": outcome, "detail": detail}),
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
