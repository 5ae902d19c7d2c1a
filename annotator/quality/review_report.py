"""The review report: one HTML page (plots as inline SVG, thumbnails of the worst and flagged
frames, per-object tables, flags and marks), a CSV of frames sorted worst first and a CSV of
objects. Written atomically, into the chosen folder only.

Worst first: frames with ground truth by J&F, lowest first; then the frames without ground
truth, flagged ones first, each by its lowest confidence or IoU with the frame before.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from annotator.formats.atomic import atomic_write_text, safe_join
from annotator.quality.differences import DIFFERENCE_COLOURS, DIFFERENCE_NAMES
from annotator.quality.flags import FrameSignals
from annotator.quality.render import jpeg_bytes, scaled
from annotator.quality.svg_plot import Curve, plot_svg

REPORT_FILES = ("report.html", "frames.csv", "objects.csv")
WORST_SHOWN = 8  # thumbnails of the worst frames per video
FLAGGED_SHOWN = 12  # thumbnails of flagged frames besides those
FLAGS_LISTED = 400  # rows of the flags table per video (the CSV has them all)
THUMB_WIDTH = 360


@dataclass(frozen=True)
class FrameRow:
    """Everything the report knows of one frame: per object (J, F) against the ground truth
    (None: no ground truth for this frame), the checks' signals and flags, and the mark."""

    index: int
    name: str
    scores: Mapping[int, tuple[float, float]] | None
    signals: FrameSignals | None
    verdict: str = ""  # "accepted", "needs fix" or "" (unreviewed)
    comment: str = ""

    @property
    def jf(self) -> float | None:
        if self.scores is None:
            return None
        values = [(j + f) / 2 for j, f in self.scores.values()]
        return float(np.mean(values)) if values else 1.0

    @property
    def j(self) -> float | None:
        return None if self.scores is None else _mean(j for j, _ in self.scores.values())

    @property
    def f(self) -> float | None:
        return None if self.scores is None else _mean(f for _, f in self.scores.values())

    @property
    def flags(self) -> tuple[str, ...]:
        if self.signals is None:
            return ()
        return tuple(f"object {f.object_id}: {f.text}" for f in self.signals.flags)

    @property
    def score(self) -> float:
        return 1.0 if self.signals is None else self.signals.score


def rank_key(jf: float | None, flagged: bool, score: float, index: int,
             ) -> tuple[int, float, int, float, int]:
    """The sort key of a frame, worst first (see the module docstring)."""
    if jf is not None:
        return (0, jf, 0, 0.0, index)
    return (1, 0.0, 0 if flagged else 1, score, index)


def worst_first(rows: Iterable[FrameRow]) -> list[FrameRow]:
    return sorted(rows, key=lambda r: rank_key(r.jf, bool(r.flags), r.score, r.index))


@dataclass(frozen=True)
class ReportVideo:
    """One reviewed video: where its masks and ground truth came from, its objects (with their
    colours, 256 x 3 RGB by id, categories and a results file's scores), every frame's row in
    frame order, and `picture(index)`: the frame as the report shows it (RGB)."""

    name: str
    prediction: str
    truth: str | None
    object_ids: tuple[int, ...]
    colours: np.ndarray
    rows: list[FrameRow]
    picture: Callable[[int], np.ndarray] = field(repr=False)
    categories: Mapping[int, str] = field(default_factory=dict)
    object_scores: Mapping[int, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def write_report(folder: str | Path, videos: Sequence[ReportVideo],
                 progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Write report.html, frames.csv and objects.csv into `folder`; returns their paths."""
    paths = [safe_join(folder, name) for name in REPORT_FILES]
    atomic_write_text(paths[1], frames_csv(videos))
    atomic_write_text(paths[2], objects_csv(videos))
    atomic_write_text(paths[0], report_html(videos, progress))
    return paths


def frames_csv(videos: Sequence[ReportVideo]) -> str:
    """One line per frame of every video, worst first."""
    rows = [(video, row) for video in videos for row in video.rows]
    rows.sort(key=lambda pair: rank_key(pair[1].jf, bool(pair[1].flags), pair[1].score,
                                        pair[1].index))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["video", "frame", "index", "J&F", "J", "F", "lowest confidence or IoU",
                     "flags", "mark", "comment", "J&F per object"])
    for video, row in rows:
        per_object = "" if row.scores is None else " ".join(
            f"{o}={(j + f) / 2:.3f}" for o, (j, f) in sorted(row.scores.items()))
        writer.writerow([video.name, row.name, row.index, _number(row.jf), _number(row.j),
                         _number(row.f), _number(row.score), "; ".join(row.flags), row.verdict,
                         row.comment, per_object])
    return buffer.getvalue()


@dataclass(frozen=True)
class ObjectSummary:
    """One object of one video over all its frames."""

    object_id: int
    frames: int  # frames where it has pixels
    j: float | None
    f: float | None
    flags: int
    confidence: float | None  # mean over the frames that have one
    lowest_iou: float | None  # lowest IoU with the frame before

    @property
    def jf(self) -> float | None:
        return None if self.j is None or self.f is None else (self.j + self.f) / 2


def object_summaries(video: ReportVideo) -> list[ObjectSummary]:
    summaries = []
    for object_id in video.object_ids:
        js, fs, confidences, ious = [], [], [], []
        frames = flags = 0
        for row in video.rows:
            if row.scores is not None and object_id in row.scores:
                js.append(row.scores[object_id][0])
                fs.append(row.scores[object_id][1])
            if row.signals is None:
                continue
            flags += sum(f.object_id == object_id for f in row.signals.flags)
            signal = row.signals.objects.get(object_id)
            if signal is None:
                continue
            frames += signal.area > 0
            if signal.confidence is not None:
                confidences.append(signal.confidence)
            if signal.iou_previous is not None:
                ious.append(signal.iou_previous)
        summaries.append(ObjectSummary(object_id, frames, _mean(js), _mean(fs), flags,
                                       _mean(confidences), min(ious, default=None)))
    return summaries


def objects_csv(videos: Sequence[ReportVideo]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["video", "object", "category", "frames", "J&F", "J", "F", "flags",
                     "mean confidence", "lowest IoU with the frame before", "result score"])
    for video in videos:
        for s in object_summaries(video):
            writer.writerow([video.name, s.object_id, video.categories.get(s.object_id, ""),
                             s.frames, _number(s.jf), _number(s.j), _number(s.f), s.flags,
                             _number(s.confidence), _number(s.lowest_iou),
                             _number(video.object_scores.get(s.object_id))])
    return buffer.getvalue()


def object_curves(video: ReportVideo, object_id: int) -> tuple[list[Curve], str]:
    """The curves of one object's plot and its title: J&F per frame with ground truth; else
    the propagator's confidence and the IoU with the frame before."""
    colour = tuple(int(c) for c in video.colours[object_id])
    rgb = (colour[0], colour[1], colour[2])
    count = len(video.rows)
    if any(row.scores is not None for row in video.rows):
        values = np.full(count, np.nan)
        for row in video.rows:
            if row.scores is not None and object_id in row.scores:
                j, f = row.scores[object_id]
                values[row.index] = (j + f) / 2
        return [Curve("J&F", rgb, values)], f"object {object_id}: J&F per frame"
    confidence, iou = np.full(count, np.nan), np.full(count, np.nan)
    for row in video.rows:
        signal = row.signals.objects.get(object_id) if row.signals is not None else None
        if signal is not None:
            if signal.confidence is not None:
                confidence[row.index] = signal.confidence
            if signal.iou_previous is not None:
                iou[row.index] = signal.iou_previous
    curves = [Curve("IoU with the frame before", rgb, iou, dashed=True)]
    if not np.isnan(confidence).all():
        curves.insert(0, Curve("confidence", rgb, confidence))
    return curves, f"object {object_id}: without ground truth"


def report_html(videos: Sequence[ReportVideo],
                progress: Callable[[int, int], None] | None = None) -> str:
    """The whole report page (thumbnails inline as JPEG, plots as SVG)."""
    shown = [_shown_frames(video) for video in videos]
    total, done = sum(len(s) for s in shown), 0
    body = [_summary(videos), _legend()]
    for video, frames in zip(videos, shown, strict=True):
        body.append(f"<h2>{_e(video.name)}</h2>")
        body.append(f"<p>Masks: {_e(video.prediction)}<br>Ground truth: "
                    f"{_e(video.truth or 'none (flags and signals only)')}</p>")
        body += [f"<p class='note'>{_e(note)}</p>" for note in video.notes]
        flagged = [row.index for row in video.rows if row.flags]
        for object_id in video.object_ids:
            curves, title = object_curves(video, object_id)
            body.append(plot_svg(curves, len(video.rows), title, flagged))
        body.append(_objects_table(video))
        body.append("<h3>Worst and flagged frames</h3><div class='thumbs'>")
        for row, why in frames:
            body.append(_thumbnail(video, row, why))
            done += 1
            if progress is not None:
                progress(done, total)
        body.append("</div>")
        body.append(_flags_table(video))
        body.append(_marks_table(video))
    return _PAGE.format(body="\n".join(body), when=time.strftime("%Y-%m-%d %H:%M"))


def _shown_frames(video: ReportVideo) -> list[tuple[FrameRow, str]]:
    """The frames given a thumbnail: the worst few, then flagged ones, each once."""
    ranked = worst_first(video.rows)
    chosen: list[tuple[FrameRow, str]] = []
    if any(row.scores is not None for row in video.rows):
        chosen = [(row, "worst") for row in ranked if row.scores is not None][:WORST_SHOWN]
    seen = {row.index for row, _ in chosen}
    flagged = [row for row in ranked if row.flags and row.index not in seen]
    chosen += [(row, "flagged") for row in flagged[:FLAGGED_SHOWN]]
    return chosen


def _summary(videos: Sequence[ReportVideo]) -> str:
    frames = sum(len(v.rows) for v in videos)
    kinds: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    for video in videos:
        for row in video.rows:
            if row.signals is not None:
                kinds.update(flag.kind.value for flag in row.signals.flags)
            verdicts[row.verdict or "unreviewed"] += 1
    scored = [row.jf for v in videos for row in v.rows if row.jf is not None]
    lines = [f"{len(videos)} video(s), {frames} frames"]
    if scored:
        lines.append(f"mean J&amp;F {np.mean(scored):.3f} over {len(scored)} frames with "
                     "ground truth")
    lines.append("flags: " + (", ".join(f"{n} {_e(k)}" for k, n in kinds.most_common())
                              or "none"))
    lines.append("marks: " + ", ".join(f"{verdicts[k]} {k}"
                                       for k in ("accepted", "needs fix", "unreviewed")))
    return "<p>" + "<br>".join(lines) + "</p>"


def _legend() -> str:
    items = "".join(
        f"<span class='swatch' style='background:rgb{DIFFERENCE_COLOURS[code]}'></span>"
        f"{_e(DIFFERENCE_NAMES[code])} &nbsp; " for code in sorted(DIFFERENCE_COLOURS))
    return (f"<p class='legend'>Thumbnails: the masks over the frame; with ground truth, the "
            f"differences beside them: {items}</p>")


def _thumbnail(video: ReportVideo, row: FrameRow, why: str) -> str:
    image = scaled(video.picture(row.index), THUMB_WIDTH * 2 if row.scores else THUMB_WIDTH)
    data = base64.b64encode(jpeg_bytes(image)).decode("ascii")
    facts = [f"frame {_e(row.name)} (#{row.index}) · {why}"]
    if row.jf is not None:
        facts.append(f"J&amp;F {row.jf:.3f} (J {row.j:.3f}, F {row.f:.3f})")
    facts += [_e(flag) for flag in row.flags[:4]]
    if row.verdict:
        facts.append(_e(f"{row.verdict}: {row.comment}" if row.comment else row.verdict))
    return (f"<figure><img src='data:image/jpeg;base64,{data}' alt='frame {_e(row.name)}'>"
            f"<figcaption>{'<br>'.join(facts)}</figcaption></figure>")


def _objects_table(video: ReportVideo) -> str:
    head = ("<table><tr><th>object</th><th>category</th><th>frames</th><th>J&amp;F</th>"
            "<th>J</th><th>F</th><th>flags</th><th>mean confidence</th>"
            "<th>lowest IoU with the frame before</th><th>result score</th></tr>")
    rows = "".join(
        f"<tr><td>{s.object_id}</td><td>{_e(video.categories.get(s.object_id, ''))}</td>"
        f"<td>{s.frames}</td><td>{_number(s.jf)}</td><td>{_number(s.j)}</td>"
        f"<td>{_number(s.f)}</td><td>{s.flags}</td><td>{_number(s.confidence)}</td>"
        f"<td>{_number(s.lowest_iou)}</td>"
        f"<td>{_number(video.object_scores.get(s.object_id))}</td></tr>"
        for s in object_summaries(video))
    return f"<h3>Objects</h3>{head}{rows}</table>"


def _flags_table(video: ReportVideo) -> str:
    flags = [flag for row in video.rows if row.signals is not None
             for flag in row.signals.flags]
    if not flags:
        return "<h3>Flags</h3><p>none</p>"
    names = {row.index: row.name for row in video.rows}
    rows = "".join(f"<tr><td>{_e(names[f.index])}</td><td>{f.object_id}</td>"
                   f"<td>{_e(f.kind.value)}</td><td>{_e(f.reason)}</td></tr>"
                   for f in flags[:FLAGS_LISTED])
    more = (f"<p>… and {len(flags) - FLAGS_LISTED} more in frames.csv</p>"
            if len(flags) > FLAGS_LISTED else "")
    return (f"<h3>Flags ({len(flags)})</h3><table><tr><th>frame</th><th>object</th>"
            f"<th>kind</th><th>reason</th></tr>{rows}</table>{more}")


def _marks_table(video: ReportVideo) -> str:
    marked = [row for row in video.rows if row.verdict]
    if not marked:
        return "<h3>Marks</h3><p>no frame marked</p>"
    rows = "".join(f"<tr><td>{_e(r.name)}</td><td>{_e(r.verdict)}</td>"
                   f"<td>{_e(r.comment)}</td></tr>" for r in marked)
    return (f"<h3>Marks ({len(marked)})</h3><table><tr><th>frame</th><th>mark</th>"
            f"<th>comment</th></tr>{rows}</table>")


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return float(np.mean(values)) if values else None


def _number(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.3f}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Review report</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em; font-size: 90%; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left; }}
.thumbs {{ display: flex; flex-wrap: wrap; gap: 10px; }}
figure {{ margin: 0; font-size: 80%; max-width: 720px; }}
figure img {{ display: block; }}
.swatch {{ display: inline-block; width: 12px; height: 12px; margin-right: 4px;
          vertical-align: middle; }}
.note {{ color: #a60; }}
</style></head><body>
<h1>Review report</h1><p>Written {when} by vos-annotator.</p>
{body}
</body></html>
"""
