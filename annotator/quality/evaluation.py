"""Score predicted masks against ground truth, frames in parallel, objects summarised.

Ground-truth pixels of value 255 (void) are left out of J and F, as this tool's label maps
define them. Both official toolkits' semi-supervised scorers count them as background
instead; the notes say when a scored frame holds void, so figures on such files are read
knowingly.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from annotator.errors import AnnotatorError
from annotator.formats.masks import read_label_map
from annotator.quality.metrics import frame_scores
from annotator.quality.plan import ObjectTrack
from annotator.quality.statistics import Summary, summarise, variation
from models.protocols import VOID

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ObjectResult:
    """Per-frame J and F of one object, with its DAVIS summaries and LVOS V."""

    track: ObjectTrack
    j: np.ndarray
    f: np.ndarray

    @property
    def name(self) -> str:
        return self.track.name

    @property
    def j_summary(self) -> Summary:
        return summarise(self.j)

    @property
    def f_summary(self) -> Summary:
        return summarise(self.f)

    @property
    def v(self) -> float:
        return variation(self.j, self.f)


FrameResult = tuple[np.ndarray, np.ndarray, bool, int]  # J, F, GT has void, top predicted id


@dataclass
class Evaluation:
    """Per-object results, with what the notes need: how many scored frames hold void in the
    ground truth, and the highest id in each sequence's scored predictions."""

    results: list[ObjectResult]
    void_frames: int = 0
    top_predicted_id: dict[str, int] = field(default_factory=dict)


def _score_frame(gt_path: Path, pred_path: Path, ids: list[int]) -> FrameResult:
    gt = read_label_map(gt_path)
    if not pred_path.is_file():
        raise AnnotatorError("predicted mask is missing", pred_path)
    pred = read_label_map(pred_path, expected_size=gt.shape)
    j, f = frame_scores(gt, pred, ids)
    return j, f, bool((gt == VOID).any()), int(pred.max())


def _score_star(job: tuple[Path, Path, list[int]]) -> FrameResult:
    return _score_frame(*job)


def evaluate(
    tracks: Iterable[ObjectTrack],
    gt_root: Path,
    pred_root: Path,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """J and F of every track's frames; `jobs` worker processes (None: one per core)."""
    tracks = list(tracks)
    wanted: dict[tuple[str, str], list[int]] = {}
    for track in tracks:
        for frame in track.frames:
            wanted.setdefault((track.sequence, frame), []).append(track.object_id)
    keys = list(wanted)
    work = [
        (gt_root / seq / f"{frame}.png", pred_root / seq / f"{frame}.png", sorted(set(ids)))
        for (seq, frame), ids in wanted.items()
    ]
    for gt_path, _, _ in work:
        if not gt_path.is_file():
            raise AnnotatorError("ground-truth mask is missing", gt_path)
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    scores: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
    outcome = Evaluation([])

    def record(key: tuple[str, str], ids: list[int], result: FrameResult) -> None:
        scores[key] = {obj: (result[0][i], result[1][i]) for i, obj in enumerate(ids)}
        outcome.void_frames += int(result[2])
        top = outcome.top_predicted_id
        top[key[0]] = max(top.get(key[0], 0), result[3])
        if progress is not None:
            progress(len(scores), len(keys))

    if jobs <= 1 or len(work) < 8:
        for key, job in zip(keys, work, strict=True):
            record(key, job[2], _score_frame(*job))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            chunk = max(1, min(16, len(work) // (4 * jobs)))
            results = pool.map(_score_star, work, chunksize=chunk)
            for key, job, result in zip(keys, work, results, strict=True):
                record(key, job[2], result)
    for track in tracks:
        pairs = [scores[(track.sequence, frame)][track.object_id] for frame in track.frames]
        j = np.array([p[0] for p in pairs], dtype=float)
        f = np.array([p[1] for p in pairs], dtype=float)
        outcome.results.append(ObjectResult(track, j, f))
    return outcome


def _mean(values: Iterable[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def global_table(
    results: list[ObjectResult], protocol: str, unseen: set[str] | None
) -> dict[str, float]:
    """The official toolkit's global row.

    ``davis2017``: J&F, J and F means over objects, recall and decay, and this tool's V.
    ``lvos``: as the LVOS toolkit computes it, each mean is the mean of its seen and unseen
    subset means (J&F of the four); a subset without videos is left out where the toolkit
    would give NaN (see `protocol_notes`).
    """
    j = _mean(r.j_summary.mean for r in results)
    f = _mean(r.f_summary.mean for r in results)
    if protocol == "davis2017":
        return {
            "J&F-Mean": (j + f) / 2,
            "J-Mean": j,
            "J-Recall": _mean(r.j_summary.recall for r in results),
            "J-Decay": _mean(r.j_summary.decay for r in results),
            "F-Mean": f,
            "F-Recall": _mean(r.f_summary.recall for r in results),
            "F-Decay": _mean(r.f_summary.decay for r in results),
            "V-Mean": _mean(r.v for r in results),
        }
    unseen = unseen or set()
    subsets = (
        [r for r in results if r.track.sequence not in unseen],
        [r for r in results if r.track.sequence in unseen],
    )
    js, ju = (_mean(r.j_summary.mean for r in part) for part in subsets)
    fs, fu = (_mean(r.f_summary.mean for r in part) for part in subsets)
    vs, vu = (_mean(r.v for r in part) for part in subsets)
    return {
        "J&F-Mean": _mean([js, fs, ju, fu]),
        "J-Mean": _mean([js, ju]),
        "J-seen-Mean": js,
        "J-unseen-Mean": ju,
        "F-Mean": _mean([fs, fu]),
        "F-seen-Mean": fs,
        "F-unseen-Mean": fu,
        "V-Mean": _mean([vs, vu]),
        "V-seen-Mean": vs,
        "V-unseen-Mean": vu,
    }


DECAY_BIN_LIMIT = 256  # the DAVIS toolkit keeps its decay bin bounds in uint8


def protocol_notes(
    protocol: str, evaluation: Evaluation, unseen: set[str] | None
) -> list[str]:
    """Where the official toolkit would give other figures than these files' scores above,
    and why (its slips are described here, not copied)."""
    notes = []
    if evaluation.void_frames:
        notes.append(
            f"{evaluation.void_frames} scored frame(s) hold void (255) in the ground truth: "
            "left out of J and F here; the official toolkit scores them as background"
        )
    results = evaluation.results
    if protocol == "lvos":
        sequences = {r.track.sequence for r in results}
        in_unseen = sequences & (unseen or set())
        for subset, present in (("unseen", in_unseen), ("seen", sequences - in_unseen)):
            if sequences and not present:
                notes.append(
                    f"no video is {subset}: the LVOS toolkit's J&F, J, F and V means are NaN; "
                    f"here they are the means of the {'seen' if subset == 'unseen' else 'unseen'}"
                    " videos"
                )
        return notes
    counts: dict[str, int] = {}
    for r in results:
        counts[r.track.sequence] = max(counts.get(r.track.sequence, 0), r.track.object_id)
        if len(r.track.frames) > DECAY_BIN_LIMIT:
            notes.append(
                f"{r.name}: {len(r.track.frames)} scored frames; the DAVIS toolkit's decay "
                f"wraps its bins above {DECAY_BIN_LIMIT} (recomputed correctly here)"
            )
    for sequence, top in sorted(evaluation.top_predicted_id.items()):
        if top > counts.get(sequence, 0):
            notes.append(
                f"{sequence}: predicted masks hold id {top} but the ground truth has "
                f"{counts.get(sequence, 0)} object(s); the DAVIS 2017 toolkit stops there"
            )
    return notes
