"""Keys that belong to a text field while it has the focus: Return and Enter commit what was
typed and Escape leaves it, instead of triggering the window's shortcuts for those keys
(Return accepts a candidate mask, Escape discards it)."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import QWidget

FIELD_KEYS = {Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape}


class _FieldKeys(QObject):
    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if (event is not None and event.type() == QEvent.Type.ShortcutOverride
                and isinstance(event, QKeyEvent) and event.key() in FIELD_KEYS):
            event.accept()  # the key goes to the field as a key press
            return True
        return False


def keep_field_keys(owner: QObject, *fields: QWidget) -> None:
    """Return, Enter and Escape go to `fields` when they have the focus."""
    keys = _FieldKeys(owner)
    for field in fields:
        field.installEventFilter(keys)
