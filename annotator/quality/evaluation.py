"""Score predicted masks against ground truth, frames in parallel, objects summarised."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator.errors import AnnotatorError
from annotator.formats.masks import read_label_map
from annotator.quality.metrics import frame_scores
from annotator.quality.plan import ObjectTrack
from annotator.quality.statistics import Summary, summarise, variation

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


def _score_frame(gt_path: Path, pred_path: Path, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    gt = read_label_map(gt_path)
    if not pred_path.is_file():
        raise AnnotatorError("predicted mask is missing", pred_path)
    pred = read_label_map(pred_path, expected_size=gt.shape)
    return frame_scores(gt, pred, ids)


def _score_star(job: tuple[Path, Path, list[int]]) -> tuple[np.ndarray, np.ndarray]:
    return _score_frame(*job)


def evaluate(
    tracks: Iterable[ObjectTrack],
    gt_root: Path,
    pred_root: Path,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> list[ObjectResult]:
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

    def record(key: tuple[str, str], ids: list[int], result: tuple[np.ndarray, np.ndarray]) -> None:
        scores[key] = {obj: (result[0][i], result[1][i]) for i, obj in enumerate(ids)}
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
    out: list[ObjectResult] = []
    for track in tracks:
        pairs = [scores[(track.sequence, frame)][track.object_id] for frame in track.frames]
        j = np.array([p[0] for p in pairs], dtype=float)
        f = np.array([p[1] for p in pairs], dtype=float)
        out.append(ObjectResult(track, j, f))
    return out


def _mean(values: Iterable[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def global_table(results: list[ObjectResult], unseen: set[str] | None) -> dict[str, float]:
    """The toolkit's global row: DAVIS columns, or LVOS seen/unseen columns with a list.

    With seen and unseen subsets J&F is the mean of the four subset means (J and F, seen and
    unseen), as in YouTube-VOS and the LVOS papers.
    """
    j = _mean(r.j_summary.mean for r in results)
    f = _mean(r.f_summary.mean for r in results)
    v = _mean(r.v for r in results)
    if unseen is None:
        return {
            "J&F-Mean": (j + f) / 2,
            "J-Mean": j,
            "J-Recall": _mean(r.j_summary.recall for r in results),
            "J-Decay": _mean(r.j_summary.decay for r in results),
            "F-Mean": f,
            "F-Recall": _mean(r.f_summary.recall for r in results),
            "F-Decay": _mean(r.f_summary.decay for r in results),
            "V-Mean": v,
        }
    seen_results = [r for r in results if r.track.sequence not in unseen]
    unseen_results = [r for r in results if r.track.sequence in unseen]
    js = _mean(r.j_summary.mean for r in seen_results)
    ju = _mean(r.j_summary.mean for r in unseen_results)
    fs = _mean(r.f_summary.mean for r in seen_results)
    fu = _mean(r.f_summary.mean for r in unseen_results)
    return {
        "J&F-Mean": _mean([js, ju, fs, fu]),
        "J-Mean": j,
        "J-seen-Mean": js,
        "J-unseen-Mean": ju,
        "F-Mean": f,
        "F-seen-Mean": fs,
        "F-unseen-Mean": fu,
        "V-Mean": v,
        "V-seen-Mean": _mean(r.v for r in seen_results),
        "V-unseen-Mean": _mean(r.v for r in unseen_results),
    }
