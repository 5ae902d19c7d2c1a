"""Evaluation results as a printed table and as the toolkits' two CSV files, with their notes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from annotator.formats.atomic import atomic_write_text, safe_join
from annotator.formats.names import plain_name
from annotator.quality.evaluation import ObjectResult

PER_SEQUENCE_COLUMNS = ("Sequence", "J-Mean", "F-Mean", "V-Mean")


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def per_sequence_rows(results: list[ObjectResult]) -> list[tuple[str, float, float, float]]:
    return [(r.name, r.j_summary.mean, r.f_summary.mean, r.v) for r in results]


def write_csvs(
    folder: Path,
    set_name: str,
    results: list[ObjectResult],
    global_row: dict[str, float],
    notes: list[str],
) -> tuple[Path, Path, Path]:
    """Write `global_results-<set>.csv`, `per-sequence_results-<set>.csv` (the official
    toolkits' files) and the notes on them, `global_results-<set>-notes.txt`, atomically."""
    set_name = plain_name(set_name, "set")
    global_path = safe_join(folder, f"global_results-{set_name}.csv")
    sequence_path = safe_join(folder, f"per-sequence_results-{set_name}.csv")
    notes_path = safe_join(folder, f"global_results-{set_name}-notes.txt")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(global_row.keys())
    writer.writerow(_fmt(v) for v in global_row.values())
    atomic_write_text(global_path, buffer.getvalue())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PER_SEQUENCE_COLUMNS)
    for name, j, f, v in per_sequence_rows(results):
        writer.writerow([name, _fmt(j), _fmt(f), _fmt(v)])
    atomic_write_text(sequence_path, buffer.getvalue())
    atomic_write_text(notes_path, "".join(f"{note}\n" for note in notes or ["no notes"]))
    return global_path, sequence_path, notes_path


def format_table(results: list[ObjectResult], global_row: dict[str, float]) -> str:
    """Per object (`<sequence>_<k>`) J&F, J, F, V, then the global row."""
    width = max([len("Sequence"), *(len(r.name) for r in results)])
    lines = [f"{'Sequence':<{width}}  {'J&F':>6} {'J':>6} {'F':>6} {'V':>6}"]
    for name, j, f, v in per_sequence_rows(results):
        lines.append(f"{name:<{width}}  {(j + f) / 2:6.3f} {j:6.3f} {f:6.3f} {v:6.3f}")
    lines.append("")
    keys = list(global_row)
    col = max(len(k) for k in keys)
    lines.append("  ".join(f"{k:>{col}}" for k in keys))
    lines.append("  ".join(f"{global_row[k]:>{col}.3f}" for k in keys))
    return "\n".join(lines)
