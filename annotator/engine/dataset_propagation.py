"""One batch job: propagate a dataset video from its own masks into an output folder."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from annotator.engine.propagation import Direction
from annotator.engine.propagators import make_propagator
from annotator.engine.video_job import propagate_to_folder, read_keyframes
from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join
from annotator.video.dataset import open_dataset

KeyframeMode = Literal["first", "all"]
KEYFRAME_MODES: tuple[KeyframeMode, ...] = get_args(KeyframeMode)


@dataclass(frozen=True)
class PropagationJob:
    """Everything a worker (a local process or a Ray task) needs; plain values only."""

    root: str
    video: str
    out: str
    split: str | None = None
    keyframes: KeyframeMode = "first"  # "first": the earliest mask only (semi-supervised VOS)
    direction: Direction = "both"
    engine: str = "auto"
    weights: str | None = None
    device: str | None = None
    top_k: int = 20
    mem_every: int = 5
    memory_frames: int | None = None


@dataclass(frozen=True)
class JobOutcome:
    video: str
    frames_written: int
    seconds: float
    engine: str = ""
    error: str | None = None


def propagate_dataset_video(job: PropagationJob) -> JobOutcome:
    """Run one job; a problem with its files becomes the outcome's `error`, not an exception."""
    started = time.perf_counter()
    try:
        if job.keyframes not in KEYFRAME_MODES:
            raise AnnotatorError(f"keyframes must be one of {', '.join(KEYFRAME_MODES)}")
        dataset = open_dataset(job.root, job.split)
        paths = dataset.mask_paths(job.video)
        if not paths:
            raise AnnotatorError("no masks to start from", dataset.mask_dir(job.video))
        if job.keyframes == "first":
            first = next(iter(paths))
            paths = {first: paths[first]}
        propagator, info = make_propagator(
            job.engine, job.weights, job.device, job.top_k, job.mem_every, job.memory_frames
        )
        with dataset.frames(job.video) as source:
            keyframes = read_keyframes(paths, source)
            out = safe_join(Path(job.out), job.video)
            written = propagate_to_folder(source, keyframes, out, propagator, job.direction)
    except AnnotatorError as exc:
        return JobOutcome(job.video, 0, time.perf_counter() - started, error=str(exc))
    return JobOutcome(job.video, written, time.perf_counter() - started, info.line)
