"""Completion records of batch jobs, kept in the output folder itself so that a run from
another machine on the same shared storage sees them: `<folder>/.batch/<kind>/<name>.json`,
each written atomically. A video's staging folders live beside them."""

from __future__ import annotations

import contextlib
import secrets
import shutil
from pathlib import Path
from typing import Any

from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join
from annotator.formats.json_files import read_json, write_json

RECORDS = ".batch"
DONE = "done"  # the state of a record whose job finished and whose outputs are all in place


def record_path(folder: Path, kind: str, name: str) -> Path:
    return safe_join(folder, RECORDS, kind, f"{name}.json")


def read_records(folder: Path, kind: str) -> dict[str, dict[str, Any]]:
    """Name -> record, for every record of `kind` in `folder`. A record that does not read as
    one (damaged by hand, say) counts as unfinished: its job is done again."""
    records: dict[str, dict[str, Any]] = {}
    place = safe_join(folder, RECORDS, kind)
    if not place.is_dir():
        return records
    for path in sorted(place.glob("*.json")):
        try:
            data = read_json(path)
        except AnnotatorError:
            data = None
        records[path.stem] = data if isinstance(data, dict) else {"state": "damaged"}
    return records


def write_record(path: Path, data: dict[str, Any]) -> None:
    write_json(path, data, indent=1)


def is_done(record: dict[str, Any] | None) -> bool:
    return record is not None and record.get("state") == DONE


def new_staging(folder: Path, name: str) -> Path:
    """An empty folder of `folder`'s file system for one attempt at `name`'s outputs; what
    earlier attempts at `name` left there (a killed run) is removed first."""
    place = safe_join(folder, RECORDS, "staging", name)
    shutil.rmtree(place, ignore_errors=True)
    staging = place / secrets.token_hex(4)
    staging.mkdir(parents=True)
    return staging


def remove_staging(staging: Path) -> None:
    """Remove an attempt's staging folder, and its parent when that is left empty."""
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        staging.parent.rmdir()
