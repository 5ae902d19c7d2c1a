"""Make docs/screenshots/*.png: the real main window at work on the demo clip, under Xvfb.

    python tools/screenshots.py [--out docs/screenshots] [--demo resources/demo] [--review]

Starts its own Xvfb when no DISPLAY is set (Debian: apt-get install xvfb), copies the demo clip
to a temporary folder (the repository stays clean), annotates it the way a person would (a click
per object, the best candidate accepted, a propagation, a brush fix, a second propagation) and
saves a few views of the window; then review mode compares a propagation with the clip's ground
truth in each of its views, and without it (--review: only those). Uses the weights-free
engines so that anyone can rerun it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PyQt6.QtWidgets import QApplication, QWidget

    from annotator.gui.main_window import MainWindow

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OBJECTS = {1: "ball", 2: "crate", 3: "leaf"}  # the demo clip's objects, by id
SIZE = (1440, 900)


def start_xvfb() -> subprocess.Popen | None:
    """An Xvfb server on a free display number, unless a display is already there."""
    if os.environ.get("DISPLAY"):
        return None
    if shutil.which("Xvfb") is None:
        sys.exit("Xvfb is not installed (Debian: apt-get install xvfb); or set DISPLAY")
    for number in range(90, 110):
        if Path(f"/tmp/.X{number}-lock").exists():
            continue
        server = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                os.environ["DISPLAY"] = f":{number}"
                os.environ["QT_QPA_PLATFORM"] = "xcb"
                return server
            if server.poll() is not None:
                break
            time.sleep(0.05)
        server.kill()
    sys.exit("could not start Xvfb")


def wait(app: QApplication, condition: Callable[[], bool], timeout_s: float = 180.0,
         what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication, seconds: float = 0.3) -> None:
    wait_until = time.monotonic() + seconds
    while time.monotonic() < wait_until:
        app.processEvents()
        time.sleep(0.01)


def inner_point(mask: np.ndarray) -> tuple[int, int]:
    """The pixel deepest inside a mask (where a person would click)."""
    from scipy import ndimage

    depth = ndimage.distance_transform_edt(mask)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return int(x), int(y)


def shoot(app: QApplication, widget: QWidget, path: Path) -> None:
    settle(app)
    if not widget.grab().save(str(path)):
        sys.exit(f"could not write {path}")
    print(f"wrote {path}")


@contextlib.contextmanager
def demo_window(app: QApplication, demo: Path, first_truth: bool = False) -> Iterator:
    """The main window on a scratch copy of the demo clip, with the weights-free engines;
    `first_truth` puts the clip's true masks on its first frame. Cleans up after itself."""
    from PyQt6.QtCore import QSettings

    from annotator.formats.masks import read_label_map, write_label_map
    from annotator.gui.app import build_window
    from annotator.gui.settings import AppSettings, Preferences

    work = Path(tempfile.mkdtemp(prefix="vos-screens-"))
    os.environ["VOS_ANNOTATOR_WEIGHTS"] = str(work / "weights")  # none: the classic engines
    try:
        frames = work / "JPEGImages" / "demo"
        frames.mkdir(parents=True)
        for path in sorted(demo.glob("*.jpg")):
            shutil.copy(path, frames / path.name)
        if first_truth:
            first = sorted((demo / "ground_truth").glob("*.png"))[0]
            write_label_map(work / "Annotations" / "demo" / first.name, read_label_map(first))
        settings = AppSettings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
        settings.save_preferences(Preferences(click_engine="classic",
                                              propagation_engine="classic", opacity=55))
        window = build_window(settings)
        window.resize(*SIZE)
        window.show()
        window.controller.open(work)
        wait(app, lambda: window.controller.annotation is not None, what="the clip to open")
        yield window
        assert window.controller.autosaver.wait_idle()
        window.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def annotate_and_shoot(app: QApplication, demo: Path, out: Path) -> None:
    from annotator.formats.masks import read_label_map
    from annotator.quality.metrics import jaccard

    truth = read_label_map(sorted((demo / "ground_truth").glob("*.png"))[0])
    with demo_window(app, demo) as window:
        c = window.controller
        wait(app, lambda: "loading" not in c.clicker.description + c.propagation.description,
             what="the engines")

        # per object a box dragged around it, then clicks where the mask is still wrong:
        # negative where it spills over, positive where it falls short
        for object_id, category in OBJECTS.items():
            c.add_object()
            c.update_object(object_id, category=category)
            wanted = truth == object_id
            ys, xs = np.nonzero(wanted)
            c.box(xs.min() - 4, ys.min() - 4, xs.max() + 4, ys.max() + 4)
            wait(app, lambda: c.clicker.mask() is not None, what="a candidate mask")
            scores = [jaccard(mask, wanted) for mask in c.clicker.result.prediction.masks]
            c.clicker.choose(int(np.argmax(scores)))
            for _ in range(2):
                mask = c.clicker.mask()
                if jaccard(mask, wanted) >= 0.9:
                    break
                spill, miss = mask & ~wanted, wanted & ~mask
                asked = len(c.clicker.clicks)
                c.click(*inner_point(spill if spill.sum() > miss.sum() else miss),
                        positive=spill.sum() <= miss.sum())
                wait(app, lambda n=asked: len(c.clicker.clicks) > n and not c.clicker.pending,
                     what="a refined mask")
            if object_id == 3:
                shoot(app, window, out / "click-candidates.png")
            c.accept_candidate()

        c.propagate("forward")
        wait(app, lambda: not c.propagation.running, what="the propagation")
        c.set_index(20)  # a person touches up the leaf here, then propagates again
        c.select_object(3)
        fix = read_label_map(demo / "ground_truth" / "00020.png") == 3
        c.paint(fix)
        c.propagate("forward")
        wait(app, lambda: not c.propagation.running, what="the second propagation")
        c.set_index(9)
        c.select_object(1)
        shoot(app, window, out / "main-window.png")

        window.outline_box.setChecked(True)
        c.set_visible(2, False)
        x, y = inner_point(c.annotation.label_map(9) == 1)
        window.canvas.zoom(2.2, window.canvas.mapFromScene(x, y).toPointF())
        shoot(app, window, out / "outline-zoom.png")
        c.set_visible(2, True)
        window.outline_box.setChecked(False)
        window.canvas.fit()

        # a narrow window while a pass runs: the slider keeps its room, the progress line
        # says how fast and how long
        window.resize(1000, 700)
        c.set_index(0)
        c.propagate("forward")
        wait(app, lambda: "frames/s" in window.status.progress_label.text(),
             what="the progress line")
        shoot(app, window, out / "narrow-window.png")
        c.propagation.cancel()
        wait(app, lambda: not c.propagation.running, what="the cancelled pass")
        c.undo()
        wait(app, lambda: not c.busy, what="the undo")
        window.resize(*SIZE)
        shoot_weights(app, window, out)


def shoot_weights(app: QApplication, window: MainWindow, out: Path) -> None:
    """Help > Better engines: the known models, their size and state."""
    from annotator.gui.weights_dialog import WeightsDialog

    dialog = WeightsDialog(None, window.controller.downloads, window)
    dialog.show()
    shoot(app, dialog, out / "weights.png")
    dialog.close()


def review_and_shoot(app: QApplication, demo: Path, out: Path) -> None:
    """A "model" (the weights-free propagator from the first frame's true masks) fills the clip;
    review mode compares it with the ground truth, worst frame first, in each view; then,
    without ground truth, the flags alone; a few frames are marked on the way."""
    from annotator.annotation.marks import Verdict

    truth = demo / "ground_truth"
    with demo_window(app, demo, first_truth=True) as window:
        c = window.controller
        wait(app, lambda: "loading" not in c.propagation.description, what="the engine")
        c.propagate("forward")
        wait(app, lambda: not c.propagation.running, what="the propagation")
        view = window.review_view
        if not view.compare(str(truth)):
            sys.exit(f"no ground truth in {truth}: {window.last_error}")
        wait(app, lambda: c.review.rows and not c.review.busy and c.review.checks.complete,
             what="the review")
        worst = c.review.order[0]
        for index in c.review.order[1:4]:  # a reviewer's first verdicts
            c.set_index(index)
            view.mark(Verdict.NEEDS_FIX)
        c.set_index(0)
        view.mark(Verdict.ACCEPTED)
        c.set_index(worst)
        view.actions["differences"].setChecked(True)
        shoot(app, window, out / "review.png")
        view.actions["differences"].setChecked(False)
        view.actions["beside"].setChecked(True)
        shoot(app, window, out / "review-side-by-side.png")
        view.panel.object.setCurrentIndex(view.panel.object.findData(3))
        view.actions["difference_view"].setChecked(True)
        shoot(app, window, out / "review-differences.png")
        view.panel.object.setCurrentIndex(0)
        view.actions["overlay"].setChecked(True)
        c.review.clear()  # no ground truth: the flags and the engine's signals alone
        wait(app, lambda: c.review.order, what="the order of the flags")
        view.panel.tabs.setCurrentIndex(1)
        flagged = next(i for i in c.review.order if c.review.checks.signals[i].flags)
        c.set_index(flagged)
        shoot(app, window, out / "review-flags.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--demo", type=Path, default=REPO / "resources" / "demo")
    parser.add_argument("--review", action="store_true", help="only the review screenshots")
    args = parser.parse_args()
    if not any(args.demo.glob("*.jpg")) or not (args.demo / "ground_truth").is_dir():
        sys.exit(f"{args.demo}: no demo frames with a ground_truth folder")
    args.out.mkdir(parents=True, exist_ok=True)
    server = start_xvfb()
    try:
        from PyQt6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication(sys.argv[:1])
        if not args.review:
            annotate_and_shoot(app, args.demo, args.out)
        review_and_shoot(app, args.demo, args.out)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
