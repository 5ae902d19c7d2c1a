"""Weights from the window: the known models with size and state, a download with progress,
resume and checksum, a file added (checked as `weights add` checks it), and the engines
switching to the new weights without a restart."""

from __future__ import annotations

import hashlib

import torch
from gui_helpers import LONG_WAIT_MS, make_window
from PyQt6.QtWidgets import QFileDialog
from weights_server import PAYLOAD, RangeHandler

from annotator.engine import weights as registry
from annotator.gui.weights_dialog import WeightsDialog
from models.sam.variants import build_sam


def choose(dialog: WeightsDialog, name: str) -> None:
    for i in range(dialog.tree.topLevelItemCount()):
        if dialog.tree.topLevelItem(i).text(0) == name:
            dialog.tree.setCurrentItem(dialog.tree.topLevelItem(i))


def test_a_download_shows_its_state_resumes_and_is_checked(qtbot, tmp_path, monkeypatch,
                                                          server):
    known = registry.KNOWN["vit_t"]
    fake = registry.KnownWeights("vit_t", "sam", known.filename, server, len(PAYLOAD),
                                 hashlib.sha256(PAYLOAD).hexdigest(), known.description)
    monkeypatch.setitem(registry.KNOWN, "vit_t", fake)
    window = make_window(qtbot, tmp_path, monkeypatch)
    dialog = WeightsDialog(None, window.controller.downloads, window)
    qtbot.addWidget(dialog)
    names = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert names == list(registry.KNOWN)
    assert dialog.row_state("vit_t") == "missing"
    assert dialog.tree.topLevelItem(names.index("vit_b")).text(1) == "375 MB"
    choose(dialog, "stcn")  # no published sum: never downloaded, only added
    assert "no published checksum" in dialog.row_state("stcn")
    assert not dialog.download_button.isEnabled() and dialog.add_button.isEnabled()

    choose(dialog, "vit_t")
    RangeHandler.cut_after = 300_000  # the connection drops once
    dialog.download_button.click()
    assert dialog.working == "download" and not dialog.download_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.working, timeout=30_000)
    assert "resume" in dialog.status.text()
    assert dialog.row_state("vit_t").startswith("partly downloaded")
    with qtbot.waitSignal(dialog.weights_changed, timeout=30_000):
        dialog.download_button.click()
    target = tmp_path / "weights" / known.filename
    assert target.read_bytes() == PAYLOAD and RangeHandler.ranges == [None, "bytes=300000-"]
    assert dialog.row_state("vit_t") == f"present: {target}"
    assert "SHA-256 checked" in dialog.status.text() and not dialog.download_button.isEnabled()


def test_a_file_added_switches_the_click_engine_without_a_restart(qtbot, tmp_path, monkeypatch):
    checkpoint = tmp_path / "my_mobile_sam.pt"
    torch.save(build_sam("vit_t").state_dict(), checkpoint)
    window = make_window(qtbot, tmp_path, monkeypatch, click_engine="auto")
    c = window.controller
    qtbot.waitUntil(lambda: "classic" in c.clicker.description, timeout=LONG_WAIT_MS)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(checkpoint), ""))
    seen: list[tuple[str, str]] = []

    def add_a_file(dialog: WeightsDialog) -> int:
        """What the person does in the (modal) dialog: Add a file…, then Close."""
        with qtbot.waitSignal(dialog.weights_changed, timeout=LONG_WAIT_MS):
            dialog.add_button.click()
        seen.append((dialog.row_state("vit_t"), dialog.status.text()))
        return 0

    monkeypatch.setattr(WeightsDialog, "exec", add_a_file)
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    next(a for a in help_menu.actions() if a.text().startswith("Better engines")).trigger()
    assert seen and seen[0][0] == f"present: {checkpoint}"
    assert "Registered vit_t" in seen[0][1]
    qtbot.waitUntil(lambda: "SAM" in c.clicker.engine.name or "vit_t" in c.clicker.description,
                    timeout=LONG_WAIT_MS)
    assert c.clicker.engine.info is not None and c.clicker.engine.info.learned
    assert c.clicker.engine.name in window.status.engine_label.text()
