"""Frame sources: folders of frames and video files, decoded on demand through a bounded cache."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from annotator.errors import AnnotatorError
from annotator.video.cache import FrameCache
from annotator.video.opening import open_frames
from annotator.video.source import natural_key


def _write_rgb(path: Path, frame: np.ndarray, **save_args) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).save(path, **save_args)


def _coded_frame(value: int, height: int = 24, width: int = 32) -> np.ndarray:
    frame = np.zeros((height, width, 3), np.uint8)
    frame[..., 0] = value
    return frame


def test_natural_sort_keeps_names_and_mixed_case_suffixes(tmp_path: Path) -> None:
    for number, suffix in ((10, ".jpg"), (2, ".JPG"), (1, ".png"), (100, ".jpeg"), (9, ".PNG")):
        _write_rgb(tmp_path / f"{number}{suffix}", _coded_frame(number), quality=95)
    (tmp_path / "notes.txt").write_text("not a frame")
    (tmp_path / ".hidden.jpg").write_bytes(b"junk")
    with open_frames(tmp_path) as frames:
        assert frames.names == ["1", "2", "9", "10", "100"]
        assert frames.size == (24, 32)
        reds = [int(frames[i][0, 0, 0]) for i in range(len(frames))]
    assert all(abs(r - e) <= 3 for r, e in zip(reds, [1, 2, 9, 10, 100], strict=True))
    assert sorted(["b10", "b2", "a10", "a9"], key=natural_key) == ["a9", "a10", "b2", "b10"]


def test_lvos_frame_names_are_kept(tmp_path: Path) -> None:
    for number in (526, 531, 1000):
        _write_rgb(tmp_path / f"{number:08d}.jpg", _coded_frame(0))
    with open_frames(tmp_path) as frames:
        assert frames.names == ["00000526", "00000531", "00001000"]
        assert frames.index_of("00000531") == 1


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    frame = np.zeros((20, 40, 3), np.uint8)
    frame[:, :20] = (255, 0, 0)  # left half red, right half blue
    frame[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewer must turn it 90 degrees clockwise
    _write_rgb(tmp_path / "00000.png", frame, exif=exif.tobytes())
    with open_frames(tmp_path) as frames:
        assert frames.size == (40, 20)
        shown = frames[0]
    assert shown.shape == (40, 20, 3)
    assert tuple(shown[2, 10]) == (255, 0, 0)  # the left half is now on top
    assert tuple(shown[37, 10]) == (0, 0, 255)


def test_unreadable_frame_names_the_file(tmp_path: Path) -> None:
    _write_rgb(tmp_path / "00000.jpg", _coded_frame(5))
    (tmp_path / "00001.jpg").write_bytes(b"\xff\xd8 this is not a jpeg")
    with open_frames(tmp_path) as frames:
        frames[0]
        with pytest.raises(AnnotatorError, match=r"00001.jpg"):
            frames[1]


def test_frame_of_another_size_is_refused(tmp_path: Path) -> None:
    _write_rgb(tmp_path / "0.png", _coded_frame(1))
    _write_rgb(tmp_path / "1.png", _coded_frame(1, 30, 32))
    with open_frames(tmp_path) as frames, pytest.raises(AnnotatorError, match=r"1.png.*32x30"):
        frames[1]


def test_empty_folder_and_unknown_file_are_errors(tmp_path: Path) -> None:
    with pytest.raises(AnnotatorError, match="no frames"):
        open_frames(tmp_path)
    (tmp_path / "clip.txt").write_text("x")
    with pytest.raises(AnnotatorError, match=r"clip.txt"):
        open_frames(tmp_path / "clip.txt")


def test_cache_stays_within_its_byte_budget(tmp_path: Path) -> None:
    frame_bytes = 24 * 32 * 3
    for i in range(40):
        _write_rgb(tmp_path / f"{i:05d}.png", _coded_frame(i))
    with open_frames(tmp_path, cache_bytes=5 * frame_bytes + 10) as frames:
        for i in list(range(40)) + list(range(39, -1, -1)):
            assert frames[i][0, 0, 0] == i
            assert frames.cache.nbytes <= 5 * frame_bytes + 10
        assert len(frames.cache) == 5
        assert not frames[0].flags.writeable  # shared with the cache: callers copy to change it
    cache = FrameCache(100)
    cache.put(0, np.zeros(101, np.uint8))  # larger than the whole budget: not kept
    assert cache.get(0) is None and cache.nbytes == 0


def _make_video(path: Path, count: int, gop: int, codec: str = "libx264") -> list[np.ndarray]:
    """Encode `count` distinct frames; returns them as decoded sequentially (the reference)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"g": str(gop), "bf": "2"} if codec == "libx264" else {"g": str(gop)}
        for i in range(count):
            frame = np.zeros((48, 64, 3), np.uint8)
            frame[..., 0] = (i * 5) % 256
            frame[:, : (i % 64) + 1, 1] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", "libx264"), (".avi", "mpeg4")])
def test_video_file_random_access_matches_sequential_decode(
    tmp_path: Path, suffix: str, codec: str
) -> None:
    path = tmp_path / f"clip{suffix}"
    reference = _make_video(path, 90, gop=12, codec=codec)
    with open_frames(path, cache_bytes=0) as frames:
        assert len(frames) == 90 and frames.size == (48, 64)
        assert frames.names[:2] == ["00000", "00001"]
        order = [70, 3, 89, 0, 45, 44, 43, 12, 11, 13, 60, *range(20, 30)]
        for index in order:
            assert np.array_equal(frames[index], reference[index]), f"frame {index}"


def test_opening_a_video_decodes_nothing_and_a_seek_decodes_one_group(tmp_path: Path) -> None:
    path = tmp_path / "long.mp4"
    _make_video(path, 400, gop=25)
    frames = open_frames(path, cache_bytes=0)

    class CountingContainer:
        """Passes everything to the real container, counting the frames it decodes."""

        def __init__(self, real) -> None:
            self.real, self.decoded = real, 0

        def __getattr__(self, name):
            return getattr(self.real, name)

        def decode(self, *args, **kwargs):
            for frame in self.real.decode(*args, **kwargs):
                self.decoded += 1
                yield frame

    counter = CountingContainer(frames._container)
    frames._container = counter
    try:
        assert len(frames) == 400 and counter.decoded == 0
        frames[380]
        assert counter.decoded <= 25 + 4  # from the keyframe at or before 380, not from 0
        frames[381]  # the next frame continues the running decoder
        assert counter.decoded <= 25 + 5
    finally:
        frames.close()


def test_decode_cost_says_what_a_frame_costs_now(tmp_path: Path) -> None:
    """What the window asks before decoding a frame itself: a cached frame costs 0, the next
    frames of the running decoder the gap, anything else the frames from its keyframe on; the
    nearest cached frame stands in meanwhile."""
    path = tmp_path / "long.mp4"
    _make_video(path, 200, gop=50)
    with open_frames(path, cache_bytes=2**20) as frames:
        keys = [i for i, pts in enumerate(frames._timestamps) if pts in set(frames._keyframes)]

        def from_key(index: int) -> int:
            return index - max(k for k in keys if k <= index) + 1

        assert frames.decode_cost(0) == 0  # decoded on opening (for its size)
        assert frames.decode_cost(1) == 1 and frames.decode_cost(3) == 3
        assert 1 < frames.decode_cost(120) == from_key(120) <= 51
        frames[120]
        assert frames.decode_cost(120) == 0 and frames.decode_cost(121) == 1
        assert frames.decode_cost(170) == from_key(170)  # past the forward gap: a seek
        assert frames.cache.nearest(140)[0] == 120 and frames.cache.nearest(2)[0] == 0
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in range(3):
        _write_rgb(folder / f"{index}.png", _coded_frame(index))
    with open_frames(folder) as still:
        assert still.decode_cost(2) == 1
        still[2]
        assert still.decode_cost(2) == 0


def test_broken_video_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42 but nothing else")
    with pytest.raises(AnnotatorError, match=r"broken.mp4"):
        open_frames(path)


def test_video_display_rotation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(90)  # shown turned 90 degrees counterclockwise
        frame = np.zeros((32, 64, 3), np.uint8)
        frame[:, :32] = (255, 0, 0)  # left half red
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with open_frames(path) as frames:
        assert frames.size == (64, 32)
        shown = frames[2]
    assert shown.shape == (64, 32, 3)
    assert shown[50, 16, 0] > 200 and shown[50, 16, 2] < 60  # the left half is now at the bottom
    assert shown[10, 16].max() < 60
