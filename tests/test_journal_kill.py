"""kill -9 at random points, again and again: every stroke synced to the journal comes back,
also after a damaged record or a torn tail, which cost only the frames of their own records."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from journal_child import stroke_place

from annotator.annotation.journal import journal_path
from annotator.annotation.journal_records import read_journal
from annotator.annotation.project import Project
from annotator.formats.masks import read_label_map

CHILD = Path(__file__).with_name("journal_child.py")
FRAMES = 12
ROUNDS = 8
OBJECT = 1


def _small_video(davis_root: Path, root: Path) -> Path:
    """An LVOS root with the first FRAMES frames of DAVIS 'boat' and no masks yet."""
    target = root / "JPEGImages" / "boat"
    target.mkdir(parents=True)
    for source in sorted((davis_root / "JPEGImages" / "480p" / "boat").glob("*.jpg"))[:FRAMES]:
        try:
            os.link(source, target / source.name)
        except OSError:
            (target / source.name).write_bytes(source.read_bytes())
    return root


def _run_and_kill(root: Path, first: int, progress: Path, delay: float) -> list[int]:
    """A child paints strokes from `first` on until killed `delay` s after it is ready;
    returns the strokes it finished."""
    progress.write_bytes(b"")
    child = subprocess.Popen([sys.executable, str(CHILD), str(root), str(first), str(progress)])
    try:
        deadline = time.monotonic() + 120
        while b"ready" not in progress.read_bytes():
            assert child.poll() is None, "the child died before it was ready"
            assert time.monotonic() < deadline, "the child never got ready"
            time.sleep(0.01)
        time.sleep(delay)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    return [int(line) for line in progress.read_text().split()[1:]]


def _damage(path: Path, how: str, rng: random.Random) -> None:
    """Flip one byte in the middle of the journal, or cut it inside its last good record."""
    data = bytearray(path.read_bytes())
    if how == "flip":
        data[rng.randrange(len(data) // 4, 3 * len(data) // 4)] ^= 0xFF
    else:
        last = read_journal(path)[0][-1]
        del data[last.offset + rng.randrange(1, last.size) :]
    path.write_bytes(bytes(data))


def _present(annotation_labels: dict[int, np.ndarray], number: int) -> bool:
    frame, mask = stroke_place(number, FRAMES)
    return bool((annotation_labels[frame][mask] == OBJECT).all())


def test_kill_loop_loses_nothing_synced(tmp_path: Path, davis_root: Path) -> None:
    rng = random.Random(20250110)
    root = _small_video(davis_root, tmp_path / "train")
    progress = tmp_path / "progress.txt"
    path = journal_path(root, "boat")
    kept: set[int] = set()  # strokes that must be back after every recovery
    first = 0
    damages = ["flip", "tear", None, None] * (ROUNDS // 4)
    rng.shuffle(damages)
    for damage in damages:
        done = _run_and_kill(root, first, progress, rng.uniform(0.05, 0.5))
        in_flight = max(done, default=first - 1) + 1  # may or may not have reached the journal
        if damage and read_journal(path)[0]:
            _damage(path, damage, rng)
        else:
            damage = None

        project = Project.open(root)
        assert not list(path.parent.glob("*.vosa-tmp")), "temporaries of the killed child stay"
        result = project.recover()
        labels = {i: project.annotation.label_map(i) for i in range(FRAMES)}
        missing = {n for n in kept | set(done) if not _present(labels, n)}
        if damage is None:
            assert not missing, f"strokes {sorted(missing)} were synced but are lost"
            assert all(d.reason.startswith("cut short") for d in result.dropped)
        else:
            assert result.dropped, f"the {damage} went unnoticed"
            # a damaged record costs its own frame only: that frame is back to an earlier record
            lost_frames = {stroke_place(n, FRAMES)[0] for n in missing}
            named = {d.frame for d in result.dropped}
            assert lost_frames <= named or None in named, (damage, lost_frames, result)
            assert len(lost_frames) <= len(result.dropped)
        kept = (kept | set(done)) - missing
        if _present(labels, in_flight):
            kept.add(in_flight)
        project.close()
        assert not read_journal(path)[1], "journalling must go on in a clean journal"
        first = in_flight + 1
    assert len(kept) > 3 * ROUNDS  # the children did paint

    project = Project.open(root)
    project.recover()
    project.save()
    project.close()
    saved = {i: read_label_map(root / "Annotations" / "boat" / f"{i:05d}.png", (480, 854))
             for i in range(FRAMES)}
    assert all(_present(saved, n) for n in kept)
