"""The in-memory state of one video: objects, label maps, frame states, undo and redo."""

from annotator.annotation.events import ChangeEvent, ChangeReason
from annotator.annotation.objects import STATES_BY_CODE, FrameState, ObjectInfo
from annotator.annotation.video_annotation import VideoAnnotation

__all__ = [
    "STATES_BY_CODE", "ChangeEvent", "ChangeReason", "FrameState", "ObjectInfo", "VideoAnnotation",
]
