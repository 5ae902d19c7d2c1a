"""The main window: canvas, frame controls, timeline, object list, menus, status bar. It wires
widgets to the controller and holds no annotation logic of its own."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QKeySequence
from PyQt6.QtWidgets import (
    QColorDialog,
    QDockWidget,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from annotator.engine.propagation import Direction
from annotator.errors import AnnotatorError
from annotator.formats.categories import read_categories
from annotator.gui import recovery_dialogs
from annotator.gui.annotation_rows import colour_table, object_rows
from annotator.gui.autosave import ExportKind
from annotator.gui.canvas import Canvas
from annotator.gui.controller import Controller
from annotator.gui.dataset_dialog import DatasetDialog, count_progress
from annotator.gui.edit_controls import EditControls
from annotator.gui.engine_status import advice, summary
from annotator.gui.file_dialogs import choose_file, choose_folder
from annotator.gui.frame_controls import FrameControls
from annotator.gui.images import candidate_rgba, overlay_image, rim_image
from annotator.gui.menus import build_menus, build_toolbar
from annotator.gui.object_panel import ObjectPanel, ObjectRow
from annotator.gui.review_view import ReviewView
from annotator.gui.settings import AppSettings, Preferences, SettingsDialog
from annotator.gui.shortcuts import SHORTCUTS, help_html
from annotator.gui.status_bar import StatusBar
from annotator.gui.text_keys import keep_field_keys
from annotator.gui.timeline import Timeline
from annotator.gui.tools import BrushTool, ClickTool, PolygonTool
from annotator.gui.weights_dialog import WeightsDialog
from annotator.gui.workers import describe_failure
from annotator.video.dataset import Dataset
from annotator.video.source import VIDEO_SUFFIXES

PLAY_INTERVAL_MS = 66  # about 15 frames per second
EXPORT_FOLDERS: dict[ExportKind, str] = {  # the title of the folder dialog of each export
    "lvvis": "Folder for the LV-VIS instances JSON",
    "lvvis_results": "Folder for the LV-VIS results JSON",
    "youtube_vos": "Folder for Annotations_convert",
    "labelme": "Folder for labelme JSON files",
}
REFRESH_MS = 40  # masks and timeline redraw at most this often
DOCK_WIDTH = 300  # the side panel's width; its texts are elided, never widen it
DOCK_MIN_WIDTH = 230
SEGMENTING = "Segmenting…"


class MainWindow(QMainWindow):
    def __init__(self, controller: Controller, settings: AppSettings) -> None:
        super().__init__()
        self.controller = controller
        self.settings = settings
        self.setWindowTitle("VOS Annotator")
        self.resize(1400, 900)
        self.canvas = Canvas()
        self.tools = {
            "click": ClickTool(controller, self.canvas),
            "brush": BrushTool(controller, self.canvas, erase=False),
            "eraser": BrushTool(controller, self.canvas, erase=True),
            "polygon": PolygonTool(controller, self.canvas),
        }
        self.opacity = self.prefs.opacity / 100
        self.outline_only = False
        self.masks_hidden = False
        self.actions: dict[str, QAction] = {}
        self.last_error = ""
        self._error_box: QMessageBox | None = None
        self._build_centre()
        self._build_objects_dock()
        self._build_actions()
        self.review_view = ReviewView(self, self)
        build_menus(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, build_toolbar(self, self.actions))
        self._build_status_bar()
        self._connect_controller()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self._refresh_now)
        self._objects_stale = False
        self.play_timer = QTimer(self)
        self.play_timer.setInterval(PLAY_INTERVAL_MS)
        self.play_timer.timeout.connect(self._play_step)
        self.set_tool("click")
        self._set_brush_size(self.brush_size.value())
        self._refresh_all()

    @property
    def prefs(self) -> Preferences:
        """The preferences: the controller's, the one copy."""
        return self.controller.prefs

    # ---- layout --------------------------------------------------------------------------
    def _build_centre(self) -> None:
        c = self.controller
        self.frame_controls = FrameControls({
            "first_frame": c.first_frame, "previous_keyframe": c.previous_keyframe,
            "previous_frame": lambda: c.step(-1), "next_frame": lambda: c.step(1),
            "next_keyframe": c.next_keyframe, "last_frame": c.last_frame,
        })
        controls = self.frame_controls
        controls.seek.connect(c.set_index)
        controls.number.editingFinished.connect(self.canvas.setFocus)
        keep_field_keys(self, controls.number)
        self.slider, self.play_button = controls.slider, controls.play_button
        self.play_button.toggled.connect(self._toggle_play)
        self.timeline = Timeline()
        self.timeline.seek.connect(c.set_index)
        self.timeline.object_clicked.connect(c.select_object)
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(2, 2, 2, 2)
        self.views = QSplitter(Qt.Orientation.Horizontal)  # the canvas; review adds its view
        self.views.addWidget(self.canvas)
        layout.addWidget(self.views, 1)
        layout.addWidget(controls)
        layout.addWidget(self.timeline)
        self.setCentralWidget(centre)
        self.canvas.cursor_moved.connect(self._show_cursor)

    def _build_objects_dock(self) -> None:
        c = self.controller
        self.objects = ObjectPanel()
        panel = self.objects
        panel.selected.connect(c.select_object)
        panel.visibility_changed.connect(c.set_visible)
        panel.add_requested.connect(c.add_object)
        panel.delete_requested.connect(self._confirm_delete)
        panel.merge_requested.connect(self._confirm_merge)
        panel.recolour_requested.connect(self._ask_recolour)
        panel.category_changed.connect(
            lambda object_id, text: c.update_object(object_id, category=text))
        panel.caption_changed.connect(
            lambda object_id, text: c.update_object(object_id, caption=text))
        panel.caption_typed.connect(
            lambda object_id, text: c.update_object(object_id, caption=text, typing=True))
        panel.load_categories_requested.connect(self._load_categories)
        panel.editing_done.connect(self.canvas.setFocus)
        self.controls = EditControls(int(self.opacity * 100), self.prefs.brush_size,
                                     self.prefs.protect)
        controls = self.controls
        controls.candidate_chosen.connect(c.clicker.choose)
        controls.accept_clicked.connect(c.accept_candidate)
        controls.brush_size.valueChanged.connect(self._set_brush_size)
        controls.opacity.valueChanged.connect(self._set_opacity)
        controls.outline.toggled.connect(self._set_outline)
        controls.protect.toggled.connect(c.set_protect)
        self.brush_size, self.opacity_slider = controls.brush_size, controls.opacity
        self.outline_box, self.propagate_selected = controls.outline, controls.propagate_selected
        dock_widget = QWidget()
        dock_widget.setMinimumWidth(DOCK_MIN_WIDTH)
        layout = QVBoxLayout(dock_widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(panel, 1)
        layout.addWidget(controls)
        dock = QDockWidget("Objects", self)
        dock.setObjectName("objects")
        dock.setWidget(dock_widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.resizeDocks([dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        self.objects_dock = dock

    def _build_actions(self) -> None:
        c = self.controller
        slots = {
            "open_folder": self.open_folder,
            "open_video": self.open_video_file,
            "open_dataset": self.open_dataset,
            "save": c.autosaver.save_now,
            "undo": c.undo,
            "redo": c.redo,
            "next_frame": lambda: c.step(1),
            "previous_frame": lambda: c.step(-1),
            "first_frame": c.first_frame,
            "last_frame": c.last_frame,
            "next_keyframe": c.next_keyframe,
            "previous_keyframe": c.previous_keyframe,
            "go_to_frame": self.frame_controls.focus_number,
            "play": lambda: self.play_button.toggle(),
            "tool_click": lambda: self.set_tool("click"),
            "tool_brush": lambda: self.set_tool("brush"),
            "tool_eraser": lambda: self.set_tool("eraser"),
            "tool_polygon": lambda: self.set_tool("polygon"),
            "brush_bigger": lambda: self._scale_brush(1.3),
            "brush_smaller": lambda: self._scale_brush(1 / 1.3),
            "accept": self._accept,
            "discard": self._discard,
            "candidate_next": c.clicker.next_candidate,
            "undo_click": c.clicker.undo,
            "fill_holes": c.fill_holes,
            "clear": c.clear_object,
            "new_object": c.add_object,
            "protect": lambda: self.controls.protect.toggle(),
            "propagate_forward": lambda: self.propagate("forward"),
            "propagate_backward": lambda: self.propagate("backward"),
            "propagate_both": lambda: self.propagate("both"),
            "propagate_to": self.propagate_to,
            "cancel_propagation": c.propagation.cancel,
            "outline": lambda: self.outline_box.toggle(),
            "hide_masks": self._toggle_masks,
            "opacity_up": lambda: self.opacity_slider.setValue(self.opacity_slider.value() + 10),
            "opacity_down": lambda: self.opacity_slider.setValue(self.opacity_slider.value() - 10),
            "fit": self.canvas.fit,
            "zoom_in": lambda: self.canvas.zoom(1.25),
            "zoom_out": lambda: self.canvas.zoom(0.8),
        }
        for name, (key, text) in SHORTCUTS.items():
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slots[name])
            self.addAction(action)
            self.actions[name] = action
        for number in range(1, 10):
            action = QAction(f"Object {number}", self)
            action.setShortcut(QKeySequence(str(number)))
            action.triggered.connect(lambda _=False, n=number: c.select_object(n))
            self.addAction(action)
        group = QActionGroup(self)
        for name in ("tool_click", "tool_brush", "tool_eraser", "tool_polygon"):
            self.actions[name].setCheckable(True)
            group.addAction(self.actions[name])

    def _build_status_bar(self) -> None:
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.status.cancel_requested.connect(self.controller.propagation.cancel)
        self.message_label, self.save_label = self.status.message_label, self.status.save_label
        self.progress, self.cancel_button = self.status.progress, self.status.cancel_button

    def _connect_controller(self) -> None:
        c = self.controller
        c.video_opened.connect(self._on_video_opened)
        c.dataset_opened.connect(self._pick_video)
        c.frame_changed.connect(self._on_frame_changed)
        c.masks_changed.connect(lambda: self._refresh_later(objects=False))
        c.objects_changed.connect(lambda: self._refresh_later(objects=True))
        c.masks_changed.connect(self._refresh_undo)  # at once: Ctrl+Z, Ctrl+Y in a row
        c.objects_changed.connect(self._refresh_undo)
        c.objects_changed.connect(self._remember)
        c.busy_changed.connect(self._refresh_undo)
        c.history_changed.connect(self._refresh_undo)
        c.clicker.candidates_changed.connect(self._refresh_candidate)
        c.engines_changed.connect(self._refresh_engines)
        c.message.connect(lambda text: self.show_message(text, 6000))
        c.error.connect(self._show_error)
        status = self.status
        c.propagation.started.connect(lambda total: status.begin("propagating", total, True))
        c.propagation.progress.connect(status.report)
        c.propagation.finished.connect(lambda cancelled: status.end())
        c.jobs.started.connect(lambda what: status.begin(what, 1, False))
        c.jobs.progress.connect(status.report)
        c.jobs.finished.connect(lambda what: status.end())
        c.autosaver.state.connect(self.save_label.setText)
        recovery_dialogs.connect(self, c)

    # ---- opening -------------------------------------------------------------------------
    def open_folder(self) -> None:
        path = choose_folder(self, self.settings, "Open a folder of frames")
        if path:
            self.controller.open(path)

    def open_video_file(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in VIDEO_SUFFIXES)
        path = choose_file(self, self.settings, "Open a video", f"Videos ({patterns})")
        if path:
            self.controller.open(path)

    def open_dataset(self) -> None:
        path = choose_folder(self, self.settings, "Open a dataset root (LVOS, DAVIS, LV-VIS)")
        if path:
            self.controller.open(path)

    def reopen_last(self) -> None:
        last = self.settings.last_session()
        if last is None:
            self.show_message("No earlier session to reopen", 4000)
            return
        path, video, frame = last
        if not Path(path).exists():
            self.show_message(f"The last session's {path} is gone", 8000)
            return
        self.controller.open(path, video=video, frame=frame,
                             object_id=self.settings.last_object())

    def _pick_video(self, dataset: Dataset) -> None:
        dialog = DatasetDialog(str(dataset.root), list(dataset.videos), self)
        showing = [True]  # progress reports stop once the dialog is gone
        count_progress(self.controller.tasks, dataset,
                       lambda progress: showing[0] and dialog.show_progress(progress),
                       lambda: showing[0])
        accepted = dialog.exec()
        showing[0] = False
        chosen = dialog.chosen()
        dialog.deleteLater()
        if accepted and chosen:
            self.controller.open_video(dataset, chosen)

    # ---- refresh -------------------------------------------------------------------------
    def _on_video_opened(self, title: str) -> None:
        self.setWindowTitle(f"{title} — VOS Annotator")
        self.frame_controls.set_count(self.controller.frame_count)
        self._remember()
        opened = self.controller.opened
        if opened is not None:  # however it was opened, the next dialog starts beside it
            self.settings.remember_chosen(opened.reopen()[0])
        self._refresh_all()

    def _on_frame_changed(self, index: int) -> None:
        c = self.controller
        frame = c.frame()
        if frame is None:  # on its way: the nearest decoded frame stands in
            frame = c.stand_in()
        if frame is not None:
            self.canvas.set_frame(frame)
        self.frame_controls.show_frame(index, c.frame_count,
                                       c.frame_name(index) if c.frame_count else "")
        self.timeline.set_current(index)
        self._remember()
        self._refresh_masks()
        self._refresh_candidate()

    def _remember(self) -> None:
        opened = self.controller.opened
        if opened is not None:
            self.settings.remember_session(*opened.reopen(), self.controller.index)
            self.settings.remember_object(self.controller.current_object)

    def _refresh_all(self) -> None:
        self._on_frame_changed(self.controller.index)
        self._refresh_objects()
        self._refresh_engines()

    def _refresh_later(self, objects: bool) -> None:
        """Many changes in a row (a propagation) redraw once per REFRESH_MS."""
        self._objects_stale |= objects
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _refresh_now(self) -> None:
        if self._objects_stale:
            self._objects_stale = False
            self._refresh_objects()
        else:
            self.objects.update_counts(self._object_rows())
            self._refresh_masks(overlay=self.controller.take_shown_frame_changed())

    def _refresh_masks(self, overlay: bool = True) -> None:
        """Redraw the timeline, and the overlay unless only other frames changed."""
        labels = self.controller.labels()
        if labels is None or self.masks_hidden:
            self.canvas.set_overlay(None)
        elif overlay:
            c = self.controller
            current = c.current_object
            rim = None
            if current is not None and current not in c.hidden and not self.outline_only:
                rim = rim_image(labels == current)
            self.canvas.set_overlay(
                overlay_image(labels, colour_table(c.annotation), self.opacity, c.hidden,
                              self.outline_only),
                rim)
        self.timeline.set_rows(self.controller.timeline_rows(), self.controller.frame_count)
        self.timeline.set_current(self.controller.index)
        self._refresh_undo()

    def _refresh_objects(self) -> None:
        c = self.controller
        self.objects.set_objects(self._object_rows(), c.current_object, c.hidden)
        self._refresh_masks()

    def _object_rows(self) -> list[ObjectRow]:
        annotation = self.controller.annotation
        return [] if annotation is None else object_rows(annotation)

    def _refresh_undo(self) -> None:
        """Undo and Redo say what they would undo or redo."""
        c = self.controller
        history = None if c.annotation is None else c.annotation.history
        for name, able, step in (("undo", c.can_undo, history and history.undo_name),
                                 ("redo", c.can_redo, history and history.redo_name)):
            action = self.actions[name]
            action.setEnabled(able)
            action.setText(f"{name.capitalize()} {step}" if step else name.capitalize())
            action.setToolTip(action.text())

    def _refresh_candidate(self) -> None:
        c, clicker = self.controller, self.controller.clicker
        busy = clicker.busy
        self.canvas.set_busy(busy)
        self.canvas.show_clicks(clicker.clicks)
        self.canvas.show_prompt_box(clicker.box_prompt)
        mask = c.candidate()
        if mask is None:
            self.canvas.set_candidate(None)
            waiting = c.opened is not None and c.frame() is None
            self.controls.show_candidates(
                0, 0, SEGMENTING if busy else "Frame loading…" if waiting
                else "Click an object")
            return
        colour = c.object_colour(c.current_object)
        self.canvas.set_candidate(candidate_rgba(mask, colour, self.opacity))
        count, chosen = clicker.count, clicker.chosen
        text = SEGMENTING if busy else (f"Candidate {chosen + 1}/{count} "
                                        f"({clicker.score():.2f})")
        self.controls.show_candidates(count, chosen, text)

    def _refresh_engines(self) -> None:
        c = self.controller
        self.status.engine_label.setText(summary(c.clicker.engine, c.propagation.engine))
        self.status.engine_label.setToolTip(advice(c.clicker.engine, c.propagation.engine))

    def show_message(self, text: str, timeout_ms: int) -> None:
        """A passing message beside the engine line (which stays in view)."""
        self.status.show_message(text, timeout_ms)

    def _show_cursor(self, x: int, y: int) -> None:
        self.status.cursor_label.setText(f"x {x}, y {y}")

    def _show_error(self, message: str) -> None:
        """Name the problem in the status bar and a non-blocking message box."""
        self.last_error = message
        self.show_message(message, 10000)
        if self._error_box is None:
            self._error_box = QMessageBox(QMessageBox.Icon.Warning, "VOS Annotator", "",
                                          QMessageBox.StandardButton.Ok, self)
            self._error_box.setModal(False)
        self._error_box.setText(message)
        self._error_box.show()

    # ---- tools and view ------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        for tool in self.tools.values():
            tool.cancel()
        self.canvas.tool = self.tools[name]
        self.actions[f"tool_{name}"].setChecked(True)
        self.canvas.show_brush(None, self.brush_size.value())

    def _scale_brush(self, factor: float) -> None:
        size = self.brush_size.value()
        scaled = round(size * factor)
        if scaled == size:
            scaled += 1 if factor > 1 else -1
        self.brush_size.setValue(scaled)  # the spin box keeps it within 1..200

    def _set_brush_size(self, size: int) -> None:
        self.prefs.brush_size = size
        for name in ("brush", "eraser"):
            tool = self.tools[name]
            assert isinstance(tool, BrushTool)
            tool.size = size

    def _set_opacity(self, value: int) -> None:
        self.opacity = value / 100
        self.prefs.opacity = value
        self._refresh_masks()
        self._refresh_candidate()

    def _set_outline(self, on: bool) -> None:
        self.outline_only = on
        self._refresh_masks()

    def _toggle_masks(self) -> None:
        self.masks_hidden = not self.masks_hidden
        self._refresh_masks()

    def _accept(self) -> None:
        polygon = self.tools["polygon"]
        if self.canvas.tool is polygon and isinstance(polygon, PolygonTool) and polygon.points:
            polygon.close()
        else:
            self.controller.accept_candidate()

    def _discard(self) -> None:
        if self.canvas.tool is not None:
            self.canvas.tool.cancel()
        self.controller.clicker.reset()

    def _toggle_play(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on:
            self.play_timer.start()
        else:
            self.play_timer.stop()

    def _play_step(self) -> None:
        c = self.controller
        if c.frame_count == 0 or c.index >= c.frame_count - 1:
            self.play_button.setChecked(False)
            return
        c.step(1)

    # ---- objects -------------------------------------------------------------------------
    def _confirm_delete(self, object_id: int) -> None:
        answer = QMessageBox.question(
            self, "Delete object",
            f"Delete object {object_id} from every frame of this video? (Undo brings it back.)",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.controller.delete_object(object_id)

    def _confirm_merge(self, ids: list[int]) -> None:
        others = ", ".join(str(i) for i in ids[1:])
        answer = QMessageBox.question(
            self, "Merge objects", f"Merge object(s) {others} into object {ids[0]}?")
        if answer == QMessageBox.StandardButton.Yes:
            self.controller.merge_objects(ids)

    def _ask_recolour(self, object_id: int) -> None:
        colour = QColorDialog.getColor(QColor(*self.controller.object_colour(object_id)), self,
                                       f"Colour of object {object_id}")
        if colour.isValid():
            self.controller.update_object(object_id,
                                          colour=(colour.red(), colour.green(), colour.blue()))

    def _load_categories(self) -> None:
        path = choose_file(self, self.settings, "Categories file", "Categories (*.txt *.json)")
        if path:
            try:
                self.objects.set_categories(list(read_categories(path).by_name))
            except AnnotatorError as exc:
                self._show_error(str(exc))
            except Exception as exc:  # a case the reader did not foresee: still name the file
                self._show_error(str(AnnotatorError(describe_failure(exc), path)))

    # ---- propagation and long edits ------------------------------------------------------
    def _propagated_objects(self) -> list[int] | None:
        return self.objects.selected_ids() if self.propagate_selected.isChecked() else None

    def propagate(self, direction: Direction) -> None:
        self.controller.propagate(direction, self._propagated_objects())

    def propagate_to(self) -> None:
        """Ask for a frame number, then propagate from this frame up to it."""
        c = self.controller
        if c.frame_count < 2:
            return
        last = c.frame_count
        default = last if c.index < last - 1 else 1
        number, chosen = QInputDialog.getInt(
            self, "Propagate to frame", f"Propagate from frame {c.index + 1} up to frame "
            f"(1 … {last}):", default, 1, last)
        if chosen:
            c.propagate_to(number - 1, self._propagated_objects())

    # ---- exports, settings, weights, help ------------------------------------------------
    def export(self, kind: ExportKind) -> None:
        """Ask for a folder, then export the open video there in layout `kind`."""
        path = choose_folder(self, self.settings, EXPORT_FOLDERS[kind])
        if path:
            self.controller.autosaver.export(kind, Path(path))

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.prefs, self)
        dialog.weights_requested.connect(self.open_weights)
        if dialog.exec():
            prefs = dialog.preferences()
            self.settings.save_preferences(prefs)
            self.controller.apply_preferences(prefs)

    def open_weights(self) -> None:
        """The weights dialog: download or add models; the engines switch when one arrives."""
        dialog = WeightsDialog(self.prefs.weights_dir or None, self.controller.downloads, self)
        dialog.weights_changed.connect(
            lambda: self.controller.apply_preferences(self.prefs, reload=True))
        dialog.exec()
        dialog.deleteLater()

    def show_shortcuts(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(help_html())
        box.exec()

    def show_engine_help(self) -> None:
        c = self.controller
        QMessageBox.information(self, "Engines", advice(c.clicker.engine, c.propagation.engine))

    def closeEvent(self, event: QCloseEvent | None) -> None:
        self.play_timer.stop()
        self.settings.save_preferences(self.prefs)
        self.controller.shutdown()
        if event is not None:
            event.accept()
