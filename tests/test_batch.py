"""`batch propagate` over a small DAVIS set: worker processes and Ray give the sequential result
as a full LVOS layout; failing videos are reported and never stop the others; a killed run
resumes without writing a finished video again."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from davis_helpers import copy_davis_sequence
from PIL import Image

from annotator.cli import main
from annotator.engine.batch_records import RECORDS, is_done, read_records
from annotator.engine.choices import PropagationOptions
from annotator.engine.dataset_propagation import (
    KIND,
    PropagationJob,
    PropagationSettings,
    plan_propagation,
    propagate_dataset_video,
    write_meta,
)
from annotator.errors import AnnotatorError
from annotator.formats.masks import read_label_map
from annotator.quality.metrics import jaccard

REPO = Path(__file__).resolve().parents[1]
SEQUENCES = ("boat", "mallard-water")
FRAMES = 6
CLASSIC = PropagationOptions(engine="classic")


@pytest.fixture(scope="module")
def small_davis(davis_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DAVIS-layout root with the first frames of two dev sequences."""
    root = tmp_path_factory.mktemp("davis")
    for sequence in SEQUENCES:
        copy_davis_sequence(davis_root, root, sequence, FRAMES)
    return root


@pytest.fixture(scope="module")
def troubled_davis(davis_root: Path, small_davis: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two sequences, and three videos that fail: a truncated frame, a mask of the wrong
    size, and 1x1 frames."""
    root = tmp_path_factory.mktemp("troubled") / "davis"
    shutil.copytree(small_davis, root)
    copy_davis_sequence(davis_root, root, "boat", FRAMES, "corrupt-frame")
    frame = root / "JPEGImages" / "480p" / "corrupt-frame" / "00003.jpg"
    frame.write_bytes(frame.read_bytes()[:3000])
    copy_davis_sequence(davis_root, root, "mallard-water", FRAMES, "wrong-mask")
    Image.new("L", (100, 50)).save(root / "Annotations" / "480p" / "wrong-mask" / "00000.png")
    for kind, mode, suffix in (("JPEGImages", "RGB", ".jpg"), ("Annotations", "L", ".png")):
        folder = root / kind / "480p" / "tiny"
        folder.mkdir(parents=True)
        for index in range(3):
            Image.new(mode, (1, 1), 1).save(folder / f"{index:05d}{suffix}")
    return root


def _layout(out: Path) -> dict[str, bytes]:
    """Every frame and mask file of an LVOS output, by path, and its meta as parsed JSON."""
    files = {str(p.relative_to(out)): p.read_bytes()
             for kind in ("JPEGImages", "Annotations") for p in sorted((out / kind).rglob("*"))
             if p.is_file()}
    files["meta"] = json.dumps(json.loads((out / "train_meta.json").read_text()), sort_keys=True
                               ).encode()
    return files


@pytest.fixture(scope="module")
def sequential_out(small_davis: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The LVOS output one job per video gives in this process, one after the other."""
    out = tmp_path_factory.mktemp("sequential")
    settings = PropagationSettings(str(small_davis), str(out), engine=CLASSIC)
    for sequence in SEQUENCES:
        done = propagate_dataset_video(PropagationJob(settings, sequence))
        assert done.frames == FRAMES and done.video == sequence
    assert write_meta(out, "train") == (out / "train_meta.json", len(SEQUENCES))
    return out


@pytest.fixture(scope="module")
def sequential(sequential_out: Path) -> dict[str, bytes]:
    return _layout(sequential_out)


def test_sequential_job_tracks_the_object(small_davis: Path, sequential_out: Path) -> None:
    meta = json.loads((sequential_out / "train_meta.json").read_text())["videos"]
    assert sorted(meta) == list(SEQUENCES)
    for sequence in SEQUENCES:
        names = meta[sequence]["source_frames"]  # LVOS id -> DAVIS name
        assert sorted(names.values()) == [f"{i:05d}" for i in range(FRAMES)]
        assert meta[sequence]["image_size"] == [480, 854]
        assert meta[sequence]["objects"]["1"]["frame_range"]["start"] == "00000000"
        scores = []
        for frame_id, name in names.items():
            assert (sequential_out / "JPEGImages" / sequence / f"{frame_id}.jpg").is_file()
            mask = read_label_map(sequential_out / "Annotations" / sequence / f"{frame_id}.png")
            truth = read_label_map(small_davis / "Annotations" / "480p" / sequence / f"{name}.png")
            if name == "00000":
                assert np.array_equal(mask, truth)
            else:
                scores.append(jaccard(truth == 1, mask == 1))
        assert np.mean(scores) > 0.7, (sequence, scores)


@pytest.fixture(scope="module")
def ray_here() -> None:
    """One Ray instance for the module (starting one takes 10 to 20 s here)."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.parametrize("backend", ["processes", "ray"])
def test_batch_matches_sequential_and_reports_failures(
    backend: str, troubled_davis: Path, sequential: dict, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest,
) -> None:
    if backend == "ray":
        request.getfixturevalue("ray_here")
    out = tmp_path / "out"
    where = ["--ray"] if backend == "ray" else ["--workers", "2"]
    code = main(["batch", "propagate", str(troubled_davis), "--out", str(out),
                 "--engine", "classic", *where])
    err = capsys.readouterr().err
    assert code == 1
    assert _layout(out) == sequential  # the failed videos left nothing behind
    records = read_records(out, KIND)
    assert sorted(v for v, r in records.items() if is_done(r)) == list(SEQUENCES)
    summary = err[err.index("2 done, 3 failed"):]
    corrupt = troubled_davis / "JPEGImages" / "480p" / "corrupt-frame" / "00003.jpg"
    assert f"FAILED corrupt-frame (2 attempts): {corrupt}: cannot read the frame" in summary
    wrong = troubled_davis / "Annotations" / "480p" / "wrong-mask" / "00000.png"
    assert f"FAILED wrong-mask (2 attempts): {wrong}: mask is 100x50" in summary
    assert "FAILED tiny (2 attempts): " in summary
    assert "frames are 1x1 pixels; propagation needs at least 32x32" in summary
    assert err.count("failed, trying once more") == 3
    assert "[5/5]" in err and "frames/s overall" in err and "Traceback" not in err


def test_gpu_tasks_on_a_cluster_without_gpus_are_refused(
    ray_here: None, small_davis: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["batch", "propagate", str(small_davis), "--out", str(tmp_path / "out"),
                 "--engine", "classic", "--ray", "--gpus-per-task", "1"])
    assert code == 2
    assert "tasks ask for 1 GPU each but the Ray cluster has 0" in capsys.readouterr().err


def test_killed_run_resumes_without_redoing_finished_videos(
    small_davis: Path, sequential: dict, tmp_path: Path
) -> None:
    """kill -9 of the batch process after its first video: the next run keeps that video's
    files untouched (same inodes and times) and completes the other."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "annotator.cli", "batch", "propagate", str(small_davis),
               "--out", str(out), "--engine", "classic", "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(command, env=env, stderr=log, cwd=REPO)
        deadline = time.monotonic() + 300
        while not any(is_done(r) for r in read_records(out, KIND).values()):
            assert first.poll() is None and time.monotonic() < deadline, "no video finished"
            time.sleep(0.02)
        workers = psutil.Process(first.pid).children(recursive=True)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, "the workers outlived the killed batch"
    finished = [v for v, r in read_records(out, KIND).items() if is_done(r)]
    assert len(finished) == 1, finished
    stamps = _stamps(out, finished[0])
    second = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=600)
    assert second.returncode == 0, second.stderr
    assert "1 finished earlier (kept), 1 video(s) to do" in second.stderr
    assert _stamps(out, finished[0]) == stamps
    assert _layout(out) == sequential
    assert not any((out / RECORDS / "staging").rglob("*"))


def _stamps(out: Path, video: str) -> dict[str, tuple[int, int]]:
    """Inode and modification time of the record and every output file of `video`."""
    files = [out / RECORDS / KIND / f"{video}.json",
             *sorted((out / "Annotations" / video).iterdir()),
             *sorted((out / "JPEGImages" / video).iterdir())]
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns) for p in files}


def test_finished_videos_are_kept_forced_again_and_other_settings_refused(
    small_davis: Path, sequential_out: Path, sequential: dict, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(sequential_out, out)
    settings = PropagationSettings(str(small_davis), str(out), engine=CLASSIC)
    planned = plan_propagation(settings)
    assert planned.kept == list(SEQUENCES) and not planned.jobs
    forced = plan_propagation(settings, force=True)
    assert [j.video for j in forced.jobs] == list(SEQUENCES) and not forced.kept
    before = _stamps(out, "boat")
    propagate_dataset_video(forced.jobs[0])  # a finished video done again replaces its files
    after = _stamps(out, "boat")
    assert before.keys() == after.keys()
    assert all(before[path] != after[path] for path in before if "JPEGImages" not in path)
    assert _layout(out) == sequential
    other = PropagationSettings(str(small_davis), str(out), keyframes="all",
                                engine=PropagationOptions(engine="classic", top_k=7))
    with pytest.raises(AnnotatorError, match=r"2 video\(s\) here \(boat, mallard-water\) were "
                       r"finished with other settings \(keyframes first there, all now; top_k "
                       r"20 there, 7 now\)"):
        plan_propagation(other)
    (out / RECORDS / KIND / "mallard-water.json").unlink()
    with pytest.raises(AnnotatorError, match="holds files that no batch run wrote"):
        plan_propagation(settings)
    assert [j.video for j in plan_propagation(settings, force=True).jobs] == list(SEQUENCES)
    with pytest.raises(AnnotatorError, match="the output folder is the input dataset"):
        plan_propagation(PropagationSettings(str(small_davis), str(small_davis), engine=CLASSIC))


def test_one_by_one_frame_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           ) -> None:
    frames, masks = tmp_path / "frames", tmp_path / "masks"
    frames.mkdir()
    masks.mkdir()
    for index in range(3):
        Image.new("RGB", (1, 1)).save(frames / f"{index:05d}.jpg")
    Image.new("L", (1, 1), 1).save(masks / "00000.png")
    code = main(["propagate", str(frames), "--masks", str(masks), "--out", str(tmp_path / "out"),
                 "--engine", "classic"])
    assert code == 2
    assert f"{frames}: frames are 1x1 pixels; propagation needs at least 32x32" in (
        capsys.readouterr().err)
    assert not (tmp_path / "out").exists()
