"""Writers on a full disk, a read-only folder, or a file where a folder should be: one line that
names the file and says what the system refused, and the data already there intact.

A full or read-only file system is a small tmpfs mounted for the test where the system allows
it (root in a container, as CI runs); elsewhere a full disk is the kernel's /dev/full behind
the writer's temporary files, and a read-only folder a folder without write permission."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_files import lvos_dataset
from PIL import Image

from annotator.cli import main
from annotator.formats import atomic


def _mount(target: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True, check=False)
    return done.returncode == 0


def _unmount(target: Path) -> None:
    subprocess.run(["umount", str(target)], capture_output=True, check=False)


@contextlib.contextmanager
def _filled(folder: Path, monkeypatch: pytest.MonkeyPatch, mounted: bool) -> Iterator[None]:
    """From here on, writes into `folder` fail with ENOSPC."""
    if mounted:  # fill the tmpfs itself
        with open(folder / "filler", "wb", buffering=0) as filler, \
                contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 65536)
        yield
        return
    create = atomic._create_temporary

    def on_dev_full(target: Path) -> tuple[int, Path]:
        if folder in target.parents:
            fd, tmp = create(target)
            os.close(fd)
            return os.open("/dev/full", os.O_WRONLY), tmp
        return create(target)

    monkeypatch.setattr(atomic, "_create_temporary", on_dev_full)
    yield


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "filler"}


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("vos-annotator: error: ")
    return err


@pytest.fixture
def two_videos(tmp_path: Path, davis_root: Path) -> Path:
    """An LVOS dataset of two videos: three frames each of 'bear' and 'boat'."""
    return _add(lvos_dataset(davis_root, tmp_path / "src", "bear"), davis_root, "boat")


def _add(root: Path, davis_root: Path, sequence: str) -> Path:
    scratch = root.parent / f"{sequence}-only"
    lvos_dataset(davis_root, scratch, sequence)
    for kind in ("JPEGImages", "Annotations"):
        shutil.move(scratch / kind / sequence, root / kind / sequence)
    return root


def test_a_full_disk_is_one_line_and_the_earlier_output_stays(two_videos, tmp_path, capsys,
                                                              monkeypatch) -> None:
    out = tmp_path / "full"
    mounted = _mount(out, "size=8m")
    try:
        assert main(["convert", str(two_videos), str(out), "--to", "lvos", "--video",
                     "bear"]) == 0
        capsys.readouterr()
        before = _snapshot(out)
        with _filled(out, monkeypatch, mounted):
            assert main(["convert", str(two_videos), str(out), "--to", "lvos", "--video",
                         "boat"]) == 2
        err = _one_line(capsys)
        assert str(out) in err and err.endswith(": the disk is full"), err
        assert {k: v for k, v in _snapshot(out).items() if "boat" not in k} == before
        assert not [p for p in out.rglob("*") if p.name.endswith(atomic.TEMP_SUFFIX)]
    finally:
        if mounted:
            _unmount(out)


def test_a_read_only_folder_is_one_line_and_its_files_stay(two_videos, tmp_path, capsys):
    out = tmp_path / "readonly"
    mounted = _mount(out, "size=8m")
    if not mounted and os.geteuid() == 0:
        pytest.skip("root without permission to mount: no folder is read-only to root")
    try:
        assert main(["convert", str(two_videos), str(out), "--to", "lvos", "--video",
                     "bear"]) == 0
        capsys.readouterr()
        before = _snapshot(out)
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
        else:
            for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
                folder.chmod(0o555)
        assert main(["convert", str(two_videos), str(out), "--to", "lvos", "--video",
                     "boat"]) == 2
        err = _one_line(capsys)
        assert str(out) in err
        assert err.endswith((": the file system is read-only", ": permission denied")), err
        assert _snapshot(out) == before
    finally:
        if mounted:
            _unmount(out)
        else:
            for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
                folder.chmod(0o755)


def test_out_that_is_a_file_is_one_line_and_the_file_stays(davis_root, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    image = tmp_path / "crop.png"  # small: the classic segmenter is quick on it
    Image.open(davis_root / "JPEGImages/480p/bear/00000.jpg").crop((300, 200, 364, 248)).save(
        image)
    assert main(["segment", str(image), "--point", "30,20", "--out",
                 str(blocker / "mask.png"), "--engine", "classic"]) == 2
    assert _one_line(capsys).endswith(f"{blocker}: exists and is not a folder")
    source = lvos_dataset(davis_root, tmp_path / "src")
    assert main(["propagate", str(source / "JPEGImages/bear"), "--masks",
                 str(source / "Annotations/bear"), "--out", str(blocker), "--engine",
                 "classic"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == f"vos-annotator: error: {blocker}: exists and is not a folder"
    assert main(["convert", str(source), str(blocker), "--to", "davis"]) == 2
    assert _one_line(capsys).endswith(f"{blocker}: exists and is not a folder")
    assert main(["convert", str(source), str(blocker / "deeper"), "--to", "davis"]) == 2
    assert _one_line(capsys).endswith("a file stands where a folder is needed")
    assert blocker.read_text() == "keep me"


def test_describe_os_error_names_both_files_of_a_rename() -> None:
    from annotator.errors import describe_os_error

    error = OSError(errno.EXDEV, "Invalid cross-device link", "/a/x", None, "/b/y")
    assert describe_os_error(error) == "/a/x -> /b/y: Invalid cross-device link"
    assert describe_os_error(OSError(errno.ENOSPC, "No space left")) == "the disk is full"
