"""A narrow window stays usable: the frame slider keeps its room, the review list shows enough
rows, the progress line is never clipped and long messages end in "…" with the whole text in
their tooltip."""

from __future__ import annotations

import pytest
from gui_helpers import make_lvos_dataset, make_window, open_and_wait

from annotator.gui.frame_controls import SLIDER_MIN_WIDTH

PROGRESS = "propagating 17 / 81, 3.2 frames/s, 25 s left"


@pytest.mark.parametrize("width", [1000, 880])
def test_a_narrow_window_keeps_slider_review_rows_and_status(qtbot, tmp_path, monkeypatch,
                                                             davis_root, width):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 20, first_mask=True)
    window = make_window(qtbot, tmp_path, monkeypatch)
    open_and_wait(qtbot, window, root)
    window.resize(width, 700)
    window.review_view.actions["panel"].setChecked(True)
    long_message = "the masks of frame 12 were saved, and here is a long explanation " * 4
    window.show_message(long_message, 60_000)
    window.status.show_progress(PROGRESS, 17, 81, cancellable=True)
    qtbot.waitUntil(lambda: window.width() == width)
    qtbot.wait(100)

    assert window.slider.width() >= SLIDER_MIN_WIDTH
    controls = window.frame_controls
    assert controls.total.isVisible() and controls.total.text().startswith("/ 20")
    table = window.review_view.panel.table
    rows = table.viewport().height() // table.verticalHeader().defaultSectionSize()
    assert rows >= 6, f"the review list shows {rows} rows"
    label = window.status.progress_label
    assert label.text() == PROGRESS and label.isVisible()
    assert label.width() >= label.fontMetrics().horizontalAdvance(PROGRESS)
    assert label.geometry().right() <= window.status.width()
    message = window.message_label
    assert message.elided() and message.toolTip() == long_message
    assert message.shown_text().endswith("…")
    assert window.status.engine_label.width() > 0
