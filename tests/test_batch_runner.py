"""The batch runner: a job's exception or its worker's death fails that job alone, after one
more attempt; the command line's older form, GPU requests and progress wording."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from annotator.cli import build_parser
from annotator.commands.batch import legacy_argv, task_gpus
from annotator.engine.batch import Failed, Placement, Progress, duration, run_jobs
from annotator.engine.choices import PropagationOptions
from annotator.errors import AnnotatorError


def job_that(kind: str) -> str:
    """Succeeds, raises a bug or the person's error, kills its own process or fills the disk."""
    if kind == "bug":
        raise ValueError("a\nbug")
    if kind == "bad file":
        raise AnnotatorError("cannot read it", "/data/x.png")
    if kind == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "full disk":
        raise OSError(28, "No space left on device", "/out/x.png")
    return kind.upper()


def test_failures_are_retried_once_and_never_stop_the_others() -> None:
    jobs = ["one", "bug", "die", "bad file", "full disk", "two"]
    ended: list[str] = []
    retried: list[str] = []
    outcomes = run_jobs(job_that, jobs, Placement(workers=2),
                        on_done=lambda job, _: ended.append(job),
                        on_retry=lambda job, _: retried.append(job))
    assert outcomes[0] == "ONE" and outcomes[5] == "TWO"
    bug = outcomes[1]
    assert isinstance(bug, Failed) and bug.attempts == 2
    where, message = bug.reason.split(": ", 1)
    assert message == "ValueError: a bug"  # on one line
    assert where.startswith("internal error at test_batch_runner.py:")
    line = Path(__file__).read_text().splitlines()[int(where.rsplit(":", 1)[1]) - 1]
    assert line.strip() == 'raise ValueError("a\\nbug")'
    assert outcomes[2] == Failed("the worker process died (SIGKILL)", 2)
    assert outcomes[3] == Failed("/data/x.png: cannot read it", 2)
    assert outcomes[4] == Failed("/out/x.png: No space left on device", 2)
    assert sorted(ended) == sorted(jobs)
    assert sorted(retried) == ["bad file", "bug", "die", "full disk"]


def test_the_older_form_reads_as_batch_propagate(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(legacy_argv(["batch", "ROOT", "--out", "OUT"]))
    assert (args.verb, str(args.root), str(args.out)) == ("propagate", "ROOT", "OUT")
    assert "deprecated" in capsys.readouterr().err
    for argv in (["batch", "evaluate", "--gt", "G"], ["convert", "batch", "x"], ["batch", "-h"]):
        assert legacy_argv(argv) == argv
    assert capsys.readouterr().err == ""


def test_gpus_are_asked_for_on_ray_when_the_engine_runs_on_cuda() -> None:
    cuda = PropagationOptions(engine="stcn", device="cuda:1")
    assert task_gpus(None, cuda, on_ray=True) == 1.0
    assert task_gpus(0.5, cuda, on_ray=True) == 0.5
    assert task_gpus(None, cuda, on_ray=False) == 0.0
    assert task_gpus(None, PropagationOptions(engine="stcn", device="cpu"), on_ray=True) == 0.0
    assert task_gpus(None, PropagationOptions(engine="classic", device="cuda"), True) == 0.0
    with pytest.raises(AnnotatorError, match="GPUs per task are for Ray tasks"):
        Placement("local", gpus=1.0)
    assert Placement("ray", cpus=2, gpus=1).describe(4) == (
        "Ray tasks (2 CPU, 1 GPU each) on a Ray instance started here")
    assert Placement("local", workers=8).describe(3) == "3 worker process(es) here"


def test_progress_counts_rate_and_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    progress = Progress(4, started=100.0)
    monkeypatch.setattr("annotator.engine.batch.time.monotonic", lambda: 110.0)
    assert progress.add(100, "boat: done") == (
        "[1/4] boat: done; 10.0 frames/s overall, 30 s left")
    monkeypatch.setattr("annotator.engine.batch.time.monotonic", lambda: 140.0)
    assert progress.add(0, "bear: FAILED") == (
        "[2/4] bear: FAILED; 2.5 frames/s overall, 40 s left")
    assert [duration(s) for s in (12.4, 200, 7500)] == ["12 s", "3 min 20 s", "2 h 05 min"]
