"""A video file read through PyAV with random access by frame index.

Frames are turned upright when the stream carries a display rotation (as phones record).

Opening reads the packet headers once (no decoding) to learn each frame's timestamp and where
the keyframes are. A frame is then decoded by seeking to the keyframe at or before it and
decoding forward; stepping forward one frame at a time continues the running decoder instead.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from annotator.errors import AnnotatorError
from annotator.video.images import check_pixels
from annotator.video.source import FrameSource

# Frames decoded on the way to a target are cached when they lie this close before it, so that
# stepping backwards does not seek and decode a whole group of pictures for every frame.
_KEEP_BEFORE_TARGET = 8
# Continue the running decoder rather than seek when the target is at most this far ahead.
_MAX_FORWARD_GAP = 32


def _shown(frame: av.VideoFrame, path: Path) -> np.ndarray:
    """RGB array of a decoded frame, turned as its display matrix says (phone videos)."""
    check_pixels(frame.width, frame.height, path, "a frame of the video")
    rgb = frame.to_ndarray(format="rgb24")
    turns = round((frame.rotation or 0) / 90) % 4  # counterclockwise quarter turns
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


class VideoFileSource(FrameSource):
    def __init__(self, path: Path, cache_bytes: int) -> None:
        try:
            self._container = av.open(str(path))
        except (av.error.FFmpegError, OSError) as exc:
            raise AnnotatorError(f"cannot open the video ({exc})", path) from exc
        if not self._container.streams.video:
            self._container.close()
            raise AnnotatorError("the file holds no video stream", path)
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        codec = self._stream.codec_context
        try:
            if codec.width and codec.height:  # refuse a bomb before the first decode
                check_pixels(codec.width, codec.height, path, "the video")
            timestamps, keyframes = self._index(path)
        except BaseException:
            self._container.close()
            raise
        width = len(str(max(len(timestamps) - 1, 0)))
        super().__init__(
            path, [f"{i:0{max(5, width)}d}" for i in range(len(timestamps))], cache_bytes
        )
        self._timestamps = timestamps
        self._index_of_pts = {pts: i for i, pts in enumerate(timestamps)}
        self._keyframes = keyframes
        self._lock = threading.Lock()
        self._decoder: Iterator[av.VideoFrame] | None = None
        self._last_index = -1
        self._size: tuple[int, int] | None = None
        try:
            # the first frame tells the size as shown (after any display rotation)
            self._size = self[0].shape[:2]
        except BaseException:
            self._container.close()
            raise

    def _index(self, path: Path) -> tuple[list[int], list[int]]:
        """Presentation timestamps of all frames (sorted) and of the keyframes, from packets."""
        timestamps: list[int] = []
        keyframes: list[int] = []
        try:
            for packet in self._container.demux(self._stream):
                pts = packet.pts if packet.pts is not None else packet.dts
                if pts is None or packet.size == 0:
                    continue
                timestamps.append(pts)
                if packet.is_keyframe:
                    keyframes.append(pts)
        except av.error.FFmpegError as exc:
            raise AnnotatorError(f"cannot read the video's packets ({exc})", path) from exc
        if not timestamps:
            raise AnnotatorError("the video holds no frames", path)
        timestamps = sorted(set(timestamps))
        keyframes = sorted(set(keyframes)) or [timestamps[0]]
        if keyframes[0] > timestamps[0]:
            keyframes.insert(0, timestamps[0])
        return timestamps, keyframes

    @property
    def size(self) -> tuple[int, int]:
        assert self._size is not None  # known once __init__ has returned
        return self._size

    def decode_cost(self, index: int) -> int:
        """Frames to decode: from the running decoder when `index` is a little ahead of it,
        else from the keyframe at or before `index`."""
        index = self._check_index(index)
        if index in self.cache:
            return 0
        gap = index - self._last_index
        if self._decoder is not None and 0 < gap <= _MAX_FORWARD_GAP:
            return gap
        target = self._timestamps[index]
        keyframe = self._keyframes[bisect.bisect_right(self._keyframes, target) - 1]
        return index - self._index_of_pts.get(keyframe, 0) + 1

    def _decode(self, index: int) -> np.ndarray:
        with self._lock:
            cached = self.cache.get(index)
            if cached is not None:
                return cached
            gap = index - self._last_index
            if self._decoder is None or not 0 < gap <= _MAX_FORWARD_GAP:
                self._seek_before(index)
            return self._decode_until(index)

    def _seek_before(self, index: int) -> None:
        target = self._timestamps[index]
        keyframe = self._keyframes[bisect.bisect_right(self._keyframes, target) - 1]
        try:
            self._container.seek(keyframe, stream=self._stream, backward=True, any_frame=False)
        except av.error.FFmpegError as exc:
            raise AnnotatorError(f"cannot seek to frame {index} ({exc})", self.path) from exc
        self._decoder = self._container.decode(self._stream)
        self._last_index = -1

    def _decode_until(self, index: int) -> np.ndarray:
        assert self._decoder is not None
        try:
            for frame in self._decoder:
                pts = frame.pts if frame.pts is not None else frame.dts
                position = None if pts is None else self._index_of_pts.get(pts)
                if position is None:
                    continue
                self._last_index = position
                if position == index:
                    return self._checked(_shown(frame, self.path), index)
                if index - _KEEP_BEFORE_TARGET <= position < index and position not in self.cache:
                    self.cache.put(position, self._checked(_shown(frame, self.path), position))
                if position > index:
                    break
        except av.error.FFmpegError as exc:
            self._decoder = None
            raise AnnotatorError(f"cannot decode frame {index} ({exc})", self.path) from exc
        self._decoder = None
        raise AnnotatorError(f"frame {index} could not be decoded", self.path)

    def _checked(self, rgb: np.ndarray, index: int) -> np.ndarray:
        """A decoded frame, which must have the size of the first (a stream may change it)."""
        size = self._size
        if size is not None and rgb.shape[:2] != size:
            raise AnnotatorError(
                f"frame {index} is {rgb.shape[1]}x{rgb.shape[0]} but the first frame is "
                f"{size[1]}x{size[0]}",
                self.path,
            )
        return rgb

    def close(self) -> None:
        with self._lock:
            self._decoder = None
            self._container.close()
        super().close()
