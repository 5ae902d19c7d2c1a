"""A video file opens like a folder of frames; its masks are saved beside it."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from gui_helpers import LONG_WAIT_MS, make_window, open_and_wait
from PIL import Image

from annotator.annotation import FrameState
from annotator.formats.masks import read_label_map

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo"


def write_clip(path: Path, count: int) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for frame_path in sorted(DEMO.glob("*.jpg"))[:count]:
            rgb = np.asarray(Image.open(frame_path).convert("RGB"))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())


def test_video_file_annotated_and_saved_beside_it(qtbot, tmp_path, monkeypatch):
    clip = tmp_path / "clips" / "demo.mp4"
    clip.parent.mkdir()
    write_clip(clip, 6)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, clip)
    assert (c.frame_count, c.frame_size(), c.video) == (6, (360, 640), "demo")

    truth = read_label_map(DEMO / "ground_truth" / "00000.png")
    c.annotation.set_label_map(0, truth)
    qtbot.waitUntil(lambda: "loading" not in c.propagation.description, timeout=LONG_WAIT_MS)
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS):
        window.propagate("forward")
    assert all(c.annotation.state(i, 2) == FrameState.PROPAGATED for i in range(1, 6))
    assert c.autosaver.wait_idle()
    masks = clip.parent / "Annotations" / "demo"
    assert sorted(p.name for p in masks.glob("*.png")) == [f"{i:05d}.png" for i in range(6)]
    for i in range(6):
        assert np.array_equal(read_label_map(masks / f"{i:05d}.png"), c.annotation.label_map(i))
