"""File and folder dialogs that start beside what the person last chose in one or opened (else
at home), not in the folder the program was started from."""

from __future__ import annotations

from PyQt6.QtWidgets import QFileDialog, QWidget

from annotator.gui.settings import AppSettings


def choose_folder(parent: QWidget, settings: AppSettings, title: str) -> str:
    """A folder, or "" when the person cancels."""
    path = QFileDialog.getExistingDirectory(parent, title, settings.dialog_folder())
    if path:
        settings.remember_chosen(path)
    return path


def choose_file(parent: QWidget, settings: AppSettings, title: str, filters: str) -> str:
    """An existing file, or "" when the person cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, title, settings.dialog_folder(), filters)
    if path:
        settings.remember_chosen(path)
    return path
