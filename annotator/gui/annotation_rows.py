"""What the object list, the timeline and the overlay show of an annotation."""

from __future__ import annotations

import numpy as np

from annotator.annotation import VideoAnnotation
from annotator.formats.palette import davis_palette
from annotator.gui.object_panel import ObjectRow
from annotator.gui.timeline import TimelineRow, from_annotation_codes
from annotator.quality.flags import FlagRules

LOW_CONFIDENCE = FlagRules().low_confidence  # the review's flag and the timeline's mark agree


def object_rows(annotation: VideoAnnotation) -> list[ObjectRow]:
    """One row per object: id, colour, category, caption and how many frames it is on (kept
    by the annotation as frames change: no scan of the video)."""
    return [
        ObjectRow(info.id, info.colour, info.category, info.caption,
                  annotation.frame_count(info.id))
        for info in annotation.objects.values()
    ]


def timeline_rows(annotation: VideoAnnotation) -> list[TimelineRow]:
    """One timeline row per object: its state on every frame, and where the propagating
    engine doubts its mask."""
    return [
        TimelineRow(info.id, f"{info.id} {info.category}".strip(), info.colour,
                    from_annotation_codes(annotation.state_codes(info.id)),
                    annotation.low_confidence(info.id, LOW_CONFIDENCE))
        for info in annotation.objects.values()
    ]


def colour_table(annotation: VideoAnnotation | None) -> np.ndarray:
    """256 x 3 colours to draw label maps with: each object's own colour."""
    table = davis_palette().copy()
    if annotation is not None:
        for info in annotation.objects.values():
            table[info.id] = info.colour
    return table
