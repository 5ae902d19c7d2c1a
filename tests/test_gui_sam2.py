"""SAM 2.1 chosen in the settings: the status bar names it for clicks and propagation, and a
pass from the window carries the first mask with it."""

from __future__ import annotations

import numpy as np
from gui_helpers import LONG_WAIT_MS, make_lvos_dataset, make_window, open_and_wait
from sam2_weights import IMAGE_SIZE, prompt_sensitive_model, save_official

from annotator.annotation import FrameState
from annotator.engine.sam2_loader import SIZE_VARIABLE
from annotator.gui.settings import CLICK_ENGINES, PROPAGATION_ENGINES


def test_sam2_in_the_status_bar_and_a_pass_from_the_window(qtbot, tmp_path, monkeypatch,
                                                           davis_root):
    assert "sam2" in CLICK_ENGINES and "sam2" in PROPAGATION_ENGINES
    monkeypatch.setenv(SIZE_VARIABLE, str(IMAGE_SIZE))
    (tmp_path / "weights").mkdir()
    save_official(prompt_sensitive_model(seed=0), tmp_path / "weights" / "sam2.1_hiera_tiny.pt")
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 3, first_mask=True)
    window = make_window(qtbot, tmp_path, monkeypatch, click_engine="sam2",
                         propagation_engine="sam2", device="cpu")
    c = window.controller
    open_and_wait(qtbot, window, root)
    qtbot.waitUntil(lambda: "loading" not in c.propagation.description
                    and "loading" not in c.clicker.description, timeout=LONG_WAIT_MS)
    status = window.status.engine_label.text()
    assert status.startswith("Clicks: SAM 2.1 tiny | Propagation: SAM 2.1 tiny | Device: CPU"), \
        status
    assert "Better engines" not in status
    assert "sam2.1_hiera_tiny.pt" in c.propagation.description
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS):
        window.propagate("forward")
    first = c.annotation.label_map(0) == 1
    for index in (1, 2):
        assert c.annotation.state(index, 1) == FrameState.PROPAGATED
        carried = c.annotation.label_map(index) == 1
        assert 0.5 < carried.sum() / first.sum() < 2
        assert np.logical_and(carried, first).sum() > 0.5 * first.sum()
