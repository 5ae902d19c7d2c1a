"""Start the annotation app: `python main.py [PATH]`."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from types import TracebackType

from PyQt6.QtWidgets import QApplication, QMessageBox

from annotator.gui.controller import Controller
from annotator.gui.main_window import MainWindow
from annotator.gui.settings import AppSettings

log = logging.getLogger(__name__)


def build_window(settings: AppSettings | None = None) -> MainWindow:
    """The main window with its controller and workers (a QApplication must exist)."""
    settings = settings if settings is not None else AppSettings()
    controller = Controller(settings.preferences())
    return MainWindow(controller, settings)


def keep_running_on_errors(window: MainWindow) -> None:
    """An unexpected exception in a slot becomes a message and a log line, not an abort."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        QMessageBox.critical(window, "VOS Annotator",
                             f"Something went wrong: {kind.__name__}: {value}\n"
                             "Your work is kept; details are in the log.")

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="main.py", description="VOS Annotator")
    parser.add_argument("path", nargs="?",
                        help="a folder of frames, a video file or a dataset root")
    parser.add_argument("--video", help="the video to open when PATH is a dataset root")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("VOS Annotator")
    app.setOrganizationName("VOS Annotator")
    settings = AppSettings()
    window = build_window(settings)
    keep_running_on_errors(window)
    window.show()
    if args.path:
        window.controller.open(args.path, video=args.video)
    else:
        window.reopen_last()
    return app.exec()
