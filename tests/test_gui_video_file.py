"""A video file opens like a folder of frames; its masks are saved beside it."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from gui_helpers import LONG_WAIT_MS, click_image, make_window, open_and_wait
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


def test_a_far_seek_shows_the_nearest_frame_at_once_then_the_exact_one(qtbot, tmp_path,
                                                                       monkeypatch):
    clip = tmp_path / "clips" / "long.mp4"
    clip.parent.mkdir()
    reference = write_coded_clip(clip, 150, gop=75)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, clip)
    qtbot.waitUntil(lambda: not c.frames.busy, timeout=30_000)  # 0 and a few ahead, decoded

    decoded: list[int] = []
    c.frames.loaded.connect(decoded.append)
    c.set_index(140)  # 66 decodes from its keyframe: the worker's job, not this thread's
    assert c.frame() is None and window.frame_controls.number.value() == 141
    shown = qimage_array(window.canvas._frame_item.pixmap().toImage())
    assert frame_number(shown) < 10  # a frame decoded before stands in, at once
    click_image(window, 30, 20)  # a click meanwhile waits for the frame, then goes
    assert c.clicker.busy
    qtbot.waitUntil(lambda: c.frame() is not None and 140 in decoded, timeout=30_000)
    assert np.abs(c.frame().astype(int) - reference[140]).max() <= 1
    shown = qimage_array(window.canvas._frame_item.pixmap().toImage())
    assert abs(frame_number(shown) - 140) <= 2 and c.clicker.frame_index == 140
    qtbot.waitUntil(lambda: c.clicker.mask() is not None, timeout=LONG_WAIT_MS)


def write_coded_clip(path: Path, count: int, gop: int) -> list[np.ndarray]:
    """`count` (at most 200) 64 x 48 frames whose red channel is 50 + their number."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"}
        for i in range(count):
            frame = np.zeros((48, 64, 3), np.uint8)
            frame[..., 0] = 50 + i
            frame[:, 32:, 1] = 200
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def frame_number(rgb: np.ndarray) -> int:
    """Which frame of `write_coded_clip` this is (give or take 2), from its red channel."""
    return round(float(np.median(rgb[..., 0]))) - 50


def qimage_array(image) -> np.ndarray:
    image = image.convertToFormat(image.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    return data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3)
