"""Frame sources (folders of frames, video files) and dataset roots, decoded on demand."""

from annotator.video.dataset import Dataset, open_dataset
from annotator.video.opening import open_frames
from annotator.video.source import FrameSource

__all__ = ["Dataset", "FrameSource", "open_dataset", "open_frames"]
