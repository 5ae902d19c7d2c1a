"""The menu bar and the toolbar of the main window, built from its named actions."""

from __future__ import annotations

from typing import Protocol

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QMenuBar, QToolBar, QWidget

from annotator.gui.autosave import ExportKind

EXPORT_MENU: dict[ExportKind, str] = {
    "lvvis": "LV-VIS instances JSON…",
    "lvvis_results": "LV-VIS results JSON…",
    "youtube_vos": "YouTube-VOS first-appearance masks…",
    "labelme": "labelme JSON per frame…",
}


class HasActions(Protocol):
    actions: dict[str, QAction]


class MenuHost(Protocol):
    """What the menus need of the main window: its named actions and the slots of the
    entries that have no shortcut."""

    actions: dict[str, QAction]
    review_view: HasActions

    def menuBar(self) -> QMenuBar | None: ...

    def reopen_last(self) -> None: ...

    def export(self, kind: ExportKind) -> None: ...

    def open_settings(self) -> None: ...

    def open_weights(self) -> None: ...

    def close(self) -> bool: ...

    def show_shortcuts(self) -> None: ...

    def show_engine_help(self) -> None: ...


def build_menus(window: MenuHost) -> None:
    """The menu bar: every action of the window, grouped."""
    a = window.actions
    bar = window.menuBar()
    assert bar is not None  # a main window always has one
    file_menu = bar.addMenu("&File")
    for name in ("open_folder", "open_video", "open_dataset"):
        file_menu.addAction(a[name])
    reopen = file_menu.addAction("Reopen last session")
    reopen.triggered.connect(window.reopen_last)
    file_menu.addSeparator()
    file_menu.addAction(a["save"])
    export = file_menu.addMenu("Export")
    for kind, text in EXPORT_MENU.items():
        export.addAction(text).triggered.connect(lambda _=False, k=kind: window.export(k))
    file_menu.addSeparator()
    file_menu.addAction("Settings…").triggered.connect(window.open_settings)
    file_menu.addAction("Weights…").triggered.connect(window.open_weights)
    file_menu.addAction("Quit").triggered.connect(window.close)
    edit = bar.addMenu("&Edit")
    for name in ("undo", "redo", None, "accept", "discard", "candidate_next", "undo_click",
                 None, "fill_holes", "clear", None, "new_object", "protect"):
        edit.addSeparator() if name is None else edit.addAction(a[name])
    view = bar.addMenu("&View")
    for name in ("outline", "hide_masks", "opacity_up", "opacity_down", None, "fit",
                 "zoom_in", "zoom_out"):
        view.addSeparator() if name is None else view.addAction(a[name])
    go = bar.addMenu("&Go")
    for name in ("next_frame", "previous_frame", "first_frame", "last_frame", None,
                 "next_keyframe", "previous_keyframe", "go_to_frame", None, "play"):
        go.addSeparator() if name is None else go.addAction(a[name])
    tools = bar.addMenu("&Tools")
    for name in ("tool_click", "tool_brush", "tool_eraser", "tool_polygon", "brush_bigger",
                 "brush_smaller"):
        tools.addAction(a[name])
    propagate = bar.addMenu("&Propagate")
    for name in ("propagate_forward", "propagate_backward", "propagate_both", "propagate_to",
                 "cancel_propagation"):
        propagate.addAction(a[name])
    review = bar.addMenu("&Review")
    for name in ("open_prediction", "open_prediction_json", "compare", None, "overlay",
                 "beside", "difference_view", "differences", "panel", None, "next_worst",
                 "previous_worst", "sort", "rerun", None, "mark_accepted", "mark_needs_fix",
                 "next_unreviewed", "next_needs_fix", None, "fix_here", "repropagate",
                 "report", None, "stop"):
        review.addSeparator() if name is None else review.addAction(
            window.review_view.actions[name])
    help_menu = bar.addMenu("&Help")
    help_menu.addAction("Keyboard shortcuts").triggered.connect(window.show_shortcuts)
    help_menu.addAction("Engines in use…").triggered.connect(window.show_engine_help)
    help_menu.addAction("Better engines: get weights…").triggered.connect(window.open_weights)


def build_toolbar(window: QWidget, actions: dict[str, QAction]) -> QToolBar:
    """The tools, propagation and undo buttons above the canvas."""
    bar = QToolBar("Tools", window)
    bar.setObjectName("tools")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    labels = {"tool_click": "Click / box", "tool_brush": "Brush", "tool_eraser": "Eraser",
              "tool_polygon": "Polygon"}
    for name, label in labels.items():
        button_action = actions[name]
        button_action.setIconText(label)
        bar.addAction(button_action)
    bar.addSeparator()
    for name, label in (("fill_holes", "Fill holes"), ("clear", "Clear")):
        actions[name].setIconText(label)
        bar.addAction(actions[name])
    bar.addSeparator()
    for name, label in (("propagate_backward", "◀ Propagate"),
                        ("propagate_both", "◀ Both ▶"),
                        ("propagate_forward", "Propagate ▶")):
        actions[name].setIconText(label)
        bar.addAction(actions[name])
    bar.addSeparator()
    for name, label in (("undo", "Undo"), ("redo", "Redo"), ("save", "Save")):
        actions[name].setIconText(label)
        bar.addAction(actions[name])
    return bar
