"""Atomic writes: the umask's mode for new files, the old mode for replaced ones, and the
temporaries of a killed writer cleaned when the video is opened again."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from annotator.annotation.project import Project
from annotator.formats.atomic import TEMP_SUFFIX, atomic_open, remove_stale_temporaries
from annotator.formats.json_files import read_json, write_json
from annotator.formats.masks import read_label_map, write_label_map

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def umask() -> Iterator[object]:
    """Set the process umask for one test: `umask(0o022)`; the old one comes back after."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_new_files_take_the_umask(tmp_path, davis_root, umask, mask, expected):
    labels = read_label_map(davis_root / "Annotations/480p/bear/00000.png")
    umask(mask)
    png = tmp_path / "Annotations" / "bear" / "00000.png"
    write_label_map(png, labels)
    write_json(tmp_path / "train_meta.json", {"videos": {}})
    assert _mode(png) == expected and _mode(tmp_path / "train_meta.json") == expected
    assert np.array_equal(read_label_map(png), labels)
    assert not list(png.parent.glob(f"*{TEMP_SUFFIX}"))


def test_an_in_place_save_keeps_each_file_mode(lvos_copy, umask):
    mask_dir = lvos_copy / "Annotations" / "soccerball"
    for name, mode in (("00005.png", 0o644), ("00006.png", 0o640)):
        shared = mask_dir / name  # a hard link to the shared data: copy it before chmod
        shutil.copyfile(shared, shared.with_suffix(".copy"))
        shared.with_suffix(".copy").replace(shared)
        shared.chmod(mode)
    umask(0o077)  # a strict umask must not narrow a shared dataset's files
    project = Project.open(lvos_copy)
    obj = project.annotation.add_object().id
    for index in (5, 6):
        stroke = np.zeros((480, 854), bool)
        stroke[10:30, 10:30] = True
        project.annotation.paint(index, obj, stroke)
    assert project.save() == 2
    project.close()
    assert _mode(mask_dir / "00005.png") == 0o644 and _mode(mask_dir / "00006.png") == 0o640
    assert (read_label_map(mask_dir / "00005.png") == obj).sum() == 400
    assert _mode(lvos_copy / "train_meta.json") == 0o600  # new: the umask's mode
    write_json(lvos_copy / "train_meta.json", read_json(lvos_copy / "train_meta.json"))
    assert _mode(lvos_copy / "train_meta.json") == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "meta.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write("half")
        raise RuntimeError("disk went away")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["meta.json"]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_our_own_abandoned_temporaries_are_removed(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    ours_dead = tmp_path / f".00001.png.{dead}.0123abcd{TEMP_SUFFIX}"
    ours_alive = tmp_path / f".00002.png.{alive}.89abcdef{TEMP_SUFFIX}"
    ours_old = tmp_path / f".00003.png.{alive}.00000000{TEMP_SUFFIX}"
    others = [tmp_path / ".00004.png.tmp", tmp_path / f"00005.png.{dead}.0123abcd{TEMP_SUFFIX}",
              tmp_path / f".x.{dead}.0123abcdX{TEMP_SUFFIX}"]
    for path in (ours_dead, ours_alive, ours_old, *others):
        path.write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 86400
    os.utime(ours_old, (two_days_ago, two_days_ago))
    removed = remove_stale_temporaries(tmp_path, tmp_path / "missing")
    assert sorted(removed) == sorted([ours_dead, ours_old])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (ours_alive, *others)
    )


WRITER = """
import sys, time
sys.path.insert(0, {repo!r})
from annotator.formats.atomic import atomic_open
with atomic_open({target!r}, "wb") as handle:
    handle.write(b"half a PNG")
    handle.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


def test_temporaries_of_a_killed_save_are_cleaned_when_the_video_opens(lvos_copy):
    mask_dir = lvos_copy / "Annotations" / "soccerball"
    target = mask_dir / "00003.png"
    before = target.read_bytes()
    for folder in (mask_dir, lvos_copy / ".annotator", lvos_copy):
        script = WRITER.format(repo=str(REPO), target=str(folder / target.name))
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                 text=True)
        try:
            assert child.stdout.readline().strip() == "writing"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
        assert len(list(folder.glob(f".*{TEMP_SUFFIX}"))) == 1
    project = Project.open(lvos_copy)
    project.close()
    for folder in (mask_dir, lvos_copy / ".annotator", lvos_copy):
        assert not list(folder.glob(f".*{TEMP_SUFFIX}"))
    assert target.read_bytes() == before
