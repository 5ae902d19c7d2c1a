"""The object list: select, show/hide, add, delete, merge, recolour, category and caption."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from annotator.gui.text_keys import keep_field_keys

CAPTION_PAUSE_MS = 800


@dataclass(frozen=True)
class ObjectRow:
    """What the panel shows of one object."""

    object_id: int
    colour: tuple[int, int, int]
    category: str
    caption: str
    frames: int  # frames where the object has pixels


def swatch(colour: tuple[int, int, int]) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(*colour))
    return QIcon(pixmap)


class ObjectPanel(QWidget):
    """Emits requests; the controller carries them out and calls `set_objects` back."""

    selected = pyqtSignal(int)
    visibility_changed = pyqtSignal(int, bool)
    add_requested = pyqtSignal()
    delete_requested = pyqtSignal(int)
    merge_requested = pyqtSignal(list)  # ids, the first one keeps its id
    recolour_requested = pyqtSignal(int)
    category_changed = pyqtSignal(int, str)
    caption_changed = pyqtSignal(int, str)  # typing is over (Return, or the field was left)
    caption_typed = pyqtSignal(int, str)  # a pause while typing: kept, more may come
    load_categories_requested = pyqtSignal()
    editing_done = pyqtSignal()  # Return in a field: the canvas may take the keys again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Object", "Category", "Frames"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setColumnWidth(0, 64)
        self.tree.setColumnWidth(1, 100)
        self.tree.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustIgnored)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.category.lineEdit().setPlaceholderText("category")
        self.category.lineEdit().editingFinished.connect(self._on_category)
        self.category.activated.connect(lambda _: self._on_category())
        self.caption = QLineEdit()
        self.caption.setPlaceholderText("caption (expression)")
        self.caption.editingFinished.connect(self._on_caption)
        self.caption.returnPressed.connect(self.editing_done)
        self.caption_timer = QTimer(self)  # what is typed is kept (journalled) after a pause
        self.caption_timer.setSingleShot(True)
        self.caption_timer.setInterval(CAPTION_PAUSE_MS)
        self.caption_timer.timeout.connect(lambda: self._on_caption(typing=True))
        self.caption.textEdited.connect(lambda _: self.caption_timer.start())
        self.category.lineEdit().returnPressed.connect(self.editing_done)
        keep_field_keys(self, self.caption, self.category, self.category.lineEdit())
        buttons = QHBoxLayout()
        self.add_button = _button("Add", "Add an object (N)", self.add_requested.emit)
        self.delete_button = _button("Delete", "Delete the selected object",
                                     lambda: self._for_current(self.delete_requested.emit))
        self.merge_button = _button("Merge", "Merge the selected objects into the first",
                                    self._on_merge)
        self.recolour_button = _button("Recolour", "Give the object another id and colour",
                                       lambda: self._for_current(self.recolour_requested.emit))
        for widget in (self.add_button, self.delete_button, self.merge_button,
                       self.recolour_button):
            buttons.addWidget(widget)
        form = QFormLayout()
        categories_row = QHBoxLayout()
        categories_row.addWidget(self.category, 1)
        categories_row.addWidget(_button("…", "Load a categories file (.txt or .json)",
                                         self.load_categories_requested.emit))
        form.addRow("Category", categories_row)
        form.addRow("Caption", self.caption)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addLayout(form)
        self._rows: dict[int, ObjectRow] = {}
        self._shown_id: int | None = None  # the object whose details the fields show
        self._filling = False

    # ---- from the controller -------------------------------------------------------------
    def set_objects(self, rows: Iterable[ObjectRow], current: int | None,
                    hidden: set[int]) -> None:
        self._filling = True
        self.tree.clear()
        self._rows = {row.object_id: row for row in rows}
        for row in self._rows.values():
            item = QTreeWidgetItem([f"{row.object_id}", row.category, str(row.frames)])
            item.setIcon(0, swatch(row.colour))
            item.setData(0, Qt.ItemDataRole.UserRole, row.object_id)
            item.setToolTip(0, row.caption or "no caption")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked if row.object_id in hidden
                               else Qt.CheckState.Checked)
            self.tree.addTopLevelItem(item)
            if row.object_id == current:
                item.setSelected(True)
                self.tree.setCurrentItem(item)
        self._filling = False
        self._show_details(current)

    def update_counts(self, rows: Iterable[ObjectRow]) -> None:
        """Refresh the frame counts in place (cheap; the list is not rebuilt)."""
        counts = {row.object_id: row.frames for row in rows}
        self._filling = True
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            count = counts.get(item.data(0, Qt.ItemDataRole.UserRole))
            if count is not None:
                item.setText(2, str(count))
        self._filling = False

    def set_categories(self, names: list[str]) -> None:
        text = self.category.currentText()
        self.category.clear()
        self.category.addItems(names)
        self.category.setEditText(text)

    def selected_ids(self) -> list[int]:
        ids = [item.data(0, Qt.ItemDataRole.UserRole) for item in self.tree.selectedItems()]
        current = self.current_id()
        if current in ids:  # the current object first: it keeps its id in a merge
            ids.remove(current)
            ids.insert(0, current)
        return ids

    def current_id(self) -> int | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    # ---- from the person -----------------------------------------------------------------
    def _show_details(self, object_id: int | None) -> None:
        row = self._rows.get(object_id) if object_id is not None else None
        same = object_id == self._shown_id
        self._shown_id = object_id
        if not (same and self.category.lineEdit().hasFocus()):  # never under the person's typing
            self.category.setEditText(row.category if row else "")
        if not (same and self.caption.hasFocus()):
            self.caption.setText(row.caption if row else "")
        for widget in (self.category, self.caption, self.delete_button, self.recolour_button):
            widget.setEnabled(row is not None)
        self.merge_button.setEnabled(len(self.tree.selectedItems()) > 1)

    def _on_selection(self) -> None:
        if self._filling:
            return
        object_id = self.current_id()
        self._show_details(object_id)
        if object_id is not None:
            self.selected.emit(object_id)

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if not self._filling and column == 0:
            self.visibility_changed.emit(item.data(0, Qt.ItemDataRole.UserRole),
                                         item.checkState(0) == Qt.CheckState.Checked)

    def _for_current(self, request: Callable[[int], None]) -> None:
        """Ask for `request(id)` of the current object, when there is one."""
        object_id = self.current_id()
        if object_id is not None:
            request(object_id)

    def _on_merge(self) -> None:
        ids = self.selected_ids()
        if len(ids) > 1:
            self.merge_requested.emit(ids)

    def _on_category(self) -> None:
        object_id = self.current_id()
        text = self.category.currentText().strip()
        if object_id is not None and text != self._rows[object_id].category:
            self.category_changed.emit(object_id, text)

    def _on_caption(self, typing: bool = False) -> None:
        if not typing:
            self.caption_timer.stop()
        object_id = self.current_id()
        text = self.caption.text().strip()
        if object_id is None or object_id not in self._rows:
            return
        if typing:
            if text != self._rows[object_id].caption:
                self.caption_typed.emit(object_id, text)
        else:
            self.caption_changed.emit(object_id, text)


def _button(text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button
