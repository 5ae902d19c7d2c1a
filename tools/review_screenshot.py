"""Make docs/screenshots/review.png: review mode on the demo clip, under Xvfb.

    python tools/review_screenshot.py [--out docs/screenshots] [--demo resources/demo]

A "model" (the weights-free propagator, from the first frame's true masks) fills the clip in a
temporary copy; the window then compares that output with the clip's ground truth, shows the
ground truth beside the canvas and the frames worst first, and goes to the worst one.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

from screenshots import SIZE, shoot, start_xvfb, wait  # noqa: E402 (after the path setup)


def review_and_shoot(demo: Path, out: Path) -> None:
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    from annotator.formats.masks import read_label_map, write_label_map
    from annotator.gui.app import build_window
    from annotator.gui.settings import AppSettings, Preferences

    app = QApplication.instance() or QApplication(sys.argv[:1])
    work = Path(tempfile.mkdtemp(prefix="vos-review-"))
    try:
        frames = work / "JPEGImages" / "demo"
        frames.mkdir(parents=True)
        for path in sorted(demo.glob("*.jpg")):
            shutil.copy(path, frames / path.name)
        truth = demo / "ground_truth"
        write_label_map(work / "Annotations" / "demo" / "00000.png",
                        read_label_map(truth / "00000.png"))
        settings = AppSettings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
        settings.save_preferences(Preferences(click_engine="classic",
                                              propagation_engine="classic", opacity=55))
        window = build_window(settings)
        window.resize(*SIZE)
        window.show()
        c = window.controller
        c.open(work)
        wait(app, lambda: c.annotation is not None, what="the clip to open")
        wait(app, lambda: "loading" not in c.propagation.description, what="the engine")
        c.propagate("forward")
        wait(app, lambda: not c.propagation.running, what="the propagation")

        view = window.review_view
        if not view.compare(str(truth)):
            sys.exit(f"no ground truth in {truth}: {window.last_error}")
        wait(app, lambda: c.review.rows and not c.review.busy, what="the review")
        view.actions["differences"].setChecked(True)  # shows the ground truth beside too
        c.set_index(c.review.order[0])
        shoot(app, window, out / "review.png")
        assert c.autosaver.wait_idle()
        window.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--demo", type=Path, default=REPO / "resources" / "demo")
    args = parser.parse_args()
    if not (args.demo / "ground_truth").is_dir():
        sys.exit(f"{args.demo}: no ground_truth folder")
    args.out.mkdir(parents=True, exist_ok=True)
    server = start_xvfb()
    try:
        review_and_shoot(args.demo, args.out)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
