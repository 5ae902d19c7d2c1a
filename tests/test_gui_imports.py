"""With the weights-free engines the window never imports a model library (torch alone takes
hundreds of MB before a video is open): a session of open, click, accept and propagate runs in a
fresh process and reports which of them it loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from gui_helpers import CHILD_WINDOW, make_lvos_dataset

HEAVY = ("torch", "torchvision", "timm", "onnxruntime")

# The app in a child process: open, click, accept, propagate; then print what it imported.
CHILD = CHILD_WINDOW + textwrap.dedent("""
    c.open(sys.argv[1])
    while c.annotation is None or c.frame() is None:
        app.processEvents()
    c.click(420, 260, True)
    while c.clicker.busy or c.clicker.mask() is None:
        app.processEvents()
    c.accept_candidate()
    done = []
    c.propagation.finished.connect(lambda *args: done.append(True))
    c.propagate("forward")
    while not done:
        app.processEvents()
    states = [c.annotation.state(i, 1).name for i in range(3)]
    print(" ".join(states))
    print(" ".join(m for m in sys.argv[3:] if m in sys.modules) or "none")
    c.shutdown()
""")


def test_weights_free_session_imports_no_model_library(tmp_path: Path, davis_root: Path) -> None:
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 3)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "VOS_ANNOTATOR_WEIGHTS": str(tmp_path / "weights")}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(tmp_path / "child.ini"), *HEAVY],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    states, imported = result.stdout.split("\n")[:2]
    assert states == "KEYFRAME PROPAGATED PROPAGATED"  # the session really ran
    assert imported == "none"
