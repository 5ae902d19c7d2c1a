"""Batch propagation of a dataset: each video from its own masks into an LVOS layout.

The output folder holds ``JPEGImages/<video>/`` (the frames, hard-linked where the file
system allows), ``Annotations/<video>/`` (one palette PNG per frame), both with LVOS frame
ids, and ``<split>_meta.json`` (see docs/FORMATS.md), all written by the formats layer.

A video is worked on in a staging folder under ``.batch/staging/`` and moved into place
whole; then its completion record ``.batch/propagate/<video>.json`` is written. A video
without that record (a run killed midway) is done again from its start on the next run, so
its masks are those of an uninterrupted run; a video with it is skipped. The meta JSON is
rebuilt from the records at the end of every run.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

from annotator.engine.batch_records import (
    DONE,
    is_done,
    new_staging,
    read_records,
    record_path,
    remove_staging,
    write_record,
)
from annotator.engine.choices import PropagationOptions
from annotator.engine.propagation import Direction
from annotator.engine.video_job import propagate_to_folder
from annotator.errors import AnnotatorError
from annotator.formats import lvos
from annotator.formats.atomic import safe_join
from annotator.formats.convert import Options, output_video
from annotator.formats.frames_out import write_frames
from annotator.formats.names import plain_name
from annotator.formats.reader import read_video
from annotator.formats.video_labels import png_labels
from annotator.video.dataset import open_dataset, png_files

KeyframeMode = Literal["first", "all"]
KEYFRAME_MODES: tuple[KeyframeMode, ...] = get_args(KeyframeMode)
KIND = "propagate"  # the records' folder under .batch/
LAYOUT_FOLDERS = ("JPEGImages", "Annotations")  # a video's folders in the output


@dataclass(frozen=True)
class PropagationSettings:
    """What every video of a batch propagation shares; plain values only (they travel to
    worker processes and Ray tasks)."""

    root: str
    out: str
    split: str | None = None  # the input's split, where it has several
    keyframes: KeyframeMode = "first"  # "first": the earliest mask only (semi-supervised VOS)
    direction: Direction = "both"
    engine: PropagationOptions = field(default_factory=PropagationOptions)

    def outputs_depend_on(self) -> dict[str, Any]:
        """The settings a finished video's masks depend on (not where it ran)."""
        engine = {k: v for k, v in asdict(self.engine).items() if k != "device"}
        return {"keyframes": self.keyframes, "direction": self.direction, "engine": engine}


@dataclass(frozen=True)
class PropagationJob:
    settings: PropagationSettings
    video: str


@dataclass(frozen=True)
class VideoDone:
    """A video propagated and in place: its frame count, time, engine and toolkit notes."""

    video: str
    frames: int
    seconds: float
    engine: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PropagationRun:
    """The videos a run has to do, and those finished by earlier runs (kept)."""

    jobs: list[PropagationJob]
    kept: list[str]
    split: str  # the output's split: its meta is <split>_meta.json


def plan_propagation(settings: PropagationSettings, videos: list[str] | None = None,
                     force: bool = False) -> PropagationRun:
    """The jobs for `videos` (default: every video of the dataset) that are not finished.

    Refused, unless `force` (which redoes every chosen video): an output folder that is the
    input dataset; videos finished with other settings; a video's output folders holding
    files that no batch run put there.
    """
    if settings.keyframes not in KEYFRAME_MODES:
        raise AnnotatorError(f"keyframes must be one of {', '.join(KEYFRAME_MODES)}")
    dataset = open_dataset(settings.root, settings.split)
    out = Path(settings.out)
    if out.resolve() == dataset.root.resolve():
        raise AnnotatorError("the output folder is the input dataset; choose another", out)
    chosen = videos or dataset.videos
    unknown = sorted(set(chosen) - set(dataset.videos))
    if unknown:
        raise AnnotatorError(f"no video named {', '.join(unknown)} in the dataset", dataset.root)
    split = plain_name(settings.split or dataset.split or _meta_split(dataset.root)
                       or lvos.default_split(out), "split")
    settings = replace(settings, root=str(dataset.root.resolve()), out=str(out.resolve()),
                       split=dataset.split)  # absolute: the workers may start elsewhere
    records = read_records(out, KIND)
    kept = [] if force else [v for v in chosen if is_done(records.get(v))]
    _check_settings(out, settings, {v: records[v] for v in kept})
    todo = [v for v in chosen if v not in kept]
    if not force:
        _check_foreign_files(out, [v for v in todo if v not in records])
    return PropagationRun([PropagationJob(settings, v) for v in todo], kept, split)


def _meta_split(root: Path) -> str | None:
    """The split of the input's LVOS meta file (`valid` for `valid_meta.json`), if it has one."""
    meta = lvos.find_meta(root, None)
    suffix = "_meta.json"
    return meta.name[: -len(suffix)] if meta is not None and meta.name.endswith(suffix) else None


def _check_settings(out: Path, settings: PropagationSettings,
                    finished: dict[str, dict[str, Any]]) -> None:
    wanted = _flat(settings.outputs_depend_on())
    other = [video for video, record in finished.items()
             if _flat(record.get("settings")) != wanted]
    if other:
        named = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
        recorded = _flat(finished[other[0]].get("settings"))
        changes = "; ".join(f"{key} {recorded.get(key)} there, {wanted.get(key)} now"
                            for key in sorted(wanted.keys() | recorded.keys())
                            if recorded.get(key) != wanted.get(key))
        raise AnnotatorError(
            f"{len(other)} video(s) here ({named}) were finished with other settings "
            f"({changes}); pass --force to redo them with these, or choose another output "
            "folder",
            out,
        )


def _flat(settings: Any) -> dict[str, Any]:
    """{"engine": {"top_k": 20}} -> {"top_k": 20}: settings as one level of names."""
    if not isinstance(settings, dict):
        return {}
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        flat.update(_flat(value) if isinstance(value, dict) else {key: value})
    return flat


def _check_foreign_files(out: Path, videos: list[str]) -> None:
    for video in videos:
        for kind in LAYOUT_FOLDERS:
            folder = safe_join(out, kind, video)
            if folder.is_dir() and any(folder.iterdir()):
                raise AnnotatorError(
                    "holds files that no batch run wrote (it has no completion record); pass "
                    "--force to replace them, or choose another output folder",
                    folder,
                )


def propagate_dataset_video(job: PropagationJob) -> VideoDone:
    """Propagate one video into the output's LVOS layout and record it as finished."""
    from annotator.engine.propagators import make_propagator  # torch: in the worker only

    started = time.perf_counter()
    settings = job.settings
    dataset = open_dataset(settings.root, settings.split)
    video = read_video(dataset, job.video)
    annotated = video.annotated()
    if not annotated:
        raise AnnotatorError("no masks to start from", dataset.mask_dir(job.video))
    propagator, info = make_propagator(**asdict(settings.engine))
    out = Path(settings.out)
    staging = new_staging(out, job.video)
    try:
        raw = staging / "propagated"
        with dataset.frames(job.video) as source:
            chosen = annotated[:1] if settings.keyframes == "first" else annotated
            keyframes = {source.index_of(name): video.labels[name] for name in chosen}
            propagate_to_folder(source, keyframes, raw, propagator, settings.direction)
        size = (video.height, video.width)
        named = output_video(replace(video, labels=png_labels(png_files(raw), size)), "lvos",
                             Options())
        named.frame_files = write_frames(dataset, job.video, staging / "JPEGImages",
                                         named.frame_names)
        tracker = lvos.write_masks(staging / "Annotations", named)
        done = VideoDone(job.video, len(named.frame_names), time.perf_counter() - started,
                         info.line, tuple(lvos.toolkit_notes(named, tracker)))
        record = {
            "state": DONE, "settings": settings.outputs_depend_on(), "frames": done.frames,
            "seconds": round(done.seconds, 3), "engine": done.engine, "host": socket.gethostname(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "notes": list(done.notes),
            "meta": lvos.meta_entry(named, tracker), "expressions": lvos.expression_entry(named),
        }
        _commit(out, job.video, staging, record)
    finally:
        remove_staging(staging)
    return done


def _commit(out: Path, video: str, staging: Path, record: dict[str, Any]) -> None:
    """Move the staged folders into place, then write the record that says they are complete.

    A run killed in between leaves a record that is not "done", so the next run does the
    video again (and may replace its folders: the record marks them as a batch run's).
    """
    path = record_path(out, KIND, video)
    write_record(path, {"state": "moving", "settings": record["settings"]})
    for kind in LAYOUT_FOLDERS:
        final = safe_join(out, kind, video)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            os.rename(final, staging / f"replaced-{kind}")
        os.rename(staging / kind, final)
    write_record(path, record)


def write_meta(out: Path, split: str) -> tuple[Path, int]:
    """Write the LVOS meta JSON of `out` from the completion records: an entry for every
    finished video (other videos there are kept). Returns its path and how many it lists."""
    records = read_records(out, KIND)
    done = {v: r for v, r in records.items() if is_done(r) and isinstance(r.get("meta"), dict)}
    lvos.update_meta_files(out, split, {v: r["meta"] for v, r in done.items()},
                           {v: r.get("expressions") for v, r in done.items()}, replace=True)
    path = lvos.meta_path(out, split)
    return path, len(lvos.read_meta(path))
