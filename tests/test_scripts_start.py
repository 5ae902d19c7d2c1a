"""Every benchmark and tool script starts as a person runs it (`python benchmarks/x.py --help`):
its imports resolve from where it sits, whatever the other scripts' path tricks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = [*sorted((REPO / "benchmarks").glob("*.py")), REPO / "tools" / "screenshots.py"]
HELPERS = {"fresh.py", "stcn_compare.py"}  # imported by the others, not run


def test_every_script_starts_and_prints_its_usage() -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    runs = {script.name: subprocess.Popen([sys.executable, str(script), "--help"], cwd=REPO,
                                          env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True)
            for script in SCRIPTS if script.name not in HELPERS}
    assert len(runs) >= 9
    for name, run in runs.items():
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0 and "usage:" in output, f"{name}:\n{output[-2000:]}"
