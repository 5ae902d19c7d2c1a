"""Batch evaluation: one job per sequence, each sequence's scores recorded so a rerun skips it.

A record (``<folder>/.batch/evaluate-<set>/<sequence>.json``) holds the sequence's per-frame
J and F and a fingerprint of what they were computed from: the tracks scored and the size and
modification time of every mask file read. A rerun reuses a record only while its fingerprint
still holds, so changed predictions are scored again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from annotator.engine.batch_records import DONE, is_done, read_records, record_path, write_record
from annotator.formats.atomic import safe_join
from annotator.quality.evaluation import Evaluation, ObjectResult, evaluate
from annotator.quality.plan import ObjectTrack


@dataclass(frozen=True)
class EvaluationJob:
    """One sequence's tracks to score, and where its record goes (`folder`, `kind`)."""

    sequence: str
    tracks: tuple[ObjectTrack, ...]
    gt_root: str
    pred_root: str
    folder: str
    kind: str


@dataclass(frozen=True)
class SequenceScores:
    """A sequence scored: its evaluation, how many frames were scored, and how long it took."""

    sequence: str
    evaluation: Evaluation
    frames: int
    seconds: float


def records_kind(set_name: str) -> str:
    return f"evaluate-{set_name}"


def fingerprint(job: EvaluationJob) -> str:
    """What the sequence's scores depend on: its tracks and the size and time of the mask
    files they read (not where the folders are mounted)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([(t.object_id, t.index, t.frames) for t in job.tracks]).encode())
    for frame in sorted({f for t in job.tracks for f in t.frames}):
        for side, root in (("gt", job.gt_root), ("pred", job.pred_root)):
            try:
                stat = safe_join(root, job.sequence, f"{frame}.png").stat()
                digest.update(f"{side}/{frame}:{stat.st_size}:{stat.st_mtime_ns};".encode())
            except OSError:
                digest.update(f"{side}/{frame}: missing;".encode())
    return digest.hexdigest()


def score_sequence(job: EvaluationJob) -> SequenceScores:
    """Score one sequence (one process: the batch runs sequences in parallel) and record it."""
    started = time.perf_counter()
    stamp = fingerprint(job)
    evaluation = evaluate(job.tracks, Path(job.gt_root), Path(job.pred_root), jobs=1)
    record = {
        "state": DONE,
        "fingerprint": stamp,
        "results": [{"object_id": r.track.object_id, "j": r.j.tolist(), "f": r.f.tolist()}
                    for r in evaluation.results],
        "void_frames": evaluation.void_frames,
        "top_predicted_id": evaluation.top_predicted_id,
    }
    write_record(record_path(Path(job.folder), job.kind, job.sequence), record)
    frames = len({f for t in job.tracks for f in t.frames})
    return SequenceScores(job.sequence, evaluation, frames, time.perf_counter() - started)


def plan_evaluation(tracks: Iterable[ObjectTrack], gt_root: Path, pred_root: Path, folder: Path,
                    kind: str, force: bool = False,
                    ) -> tuple[list[EvaluationJob], dict[str, Evaluation]]:
    """The jobs still to do, one per sequence in the tracks' order, and the evaluations of the
    sequences whose records still hold (none with `force`)."""
    by_sequence: dict[str, list[ObjectTrack]] = {}
    for track in tracks:
        by_sequence.setdefault(track.sequence, []).append(track)
    records = {} if force else read_records(folder, kind)
    jobs: list[EvaluationJob] = []
    kept: dict[str, Evaluation] = {}
    for sequence, sequence_tracks in by_sequence.items():
        job = EvaluationJob(sequence, tuple(sequence_tracks), str(gt_root.resolve()),
                            str(pred_root.resolve()), str(folder.resolve()), kind)
        record = records.get(sequence)
        recorded = _recorded(job, record) if is_done(record) else None
        if recorded is not None:
            kept[sequence] = recorded
        else:
            jobs.append(job)
    return jobs, kept


def _recorded(job: EvaluationJob, record: dict[str, Any] | None) -> Evaluation | None:
    """The record's evaluation if it was made from what `job` would score now."""
    if record is None or record.get("fingerprint") != fingerprint(job):
        return None
    try:
        results = [
            ObjectResult(track, np.array(entry["j"], float), np.array(entry["f"], float))
            for track, entry in zip(job.tracks, record["results"], strict=True)
        ]
        top = {str(k): int(v) for k, v in record["top_predicted_id"].items()}
        return Evaluation(results, int(record["void_frames"]), top)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # a record from another version, or edited: score again


def merge(tracks: Sequence[ObjectTrack], parts: Mapping[str, Evaluation]) -> Evaluation:
    """One evaluation of all `tracks`, in their order, from the evaluations of their sequences
    (as `evaluate` over all of them at once gives it)."""
    found = {(r.track.sequence, r.track.object_id, r.track.index): r
             for part in parts.values() for r in part.results}
    merged = Evaluation([found[(t.sequence, t.object_id, t.index)] for t in tracks])
    for part in parts.values():
        merged.void_frames += part.void_frames
        merged.top_predicted_id.update(part.top_predicted_id)
    return merged
