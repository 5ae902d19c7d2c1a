"""Check a video's masks without ground truth: the flags of `annotator.quality.flags` for every
frame (or for some frames again, after an edit), one frame and the one before it in memory at a
time. No Qt: the GUI runs it in a worker, the `review` command directly.

Typical use::

    signals = check_frames(annotation, frames, range(len(annotation)),
                           confidence=annotation.confidence)
    for frame in signals:
        for flag in frame.flags:
            print(frame.name, flag.object_id, flag.reason)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from annotator.engine.review import LabelSource
from annotator.quality.flags import FlagRules, FrameFacts, FrameSignals, check_frame, frame_facts
from annotator.quality.motion import Motion, small_grey
from models.protocols import FrameSequence, ShouldStop

Progress = Callable[[int, int], None]
PerFrame = Callable[[int], Mapping[int, float]]
Overlaps = Callable[[int], Mapping[tuple[int, int], int]]


def check_frames(
    source: LabelSource,
    frames: FrameSequence | None,
    indices: Iterable[int],
    confidence: PerFrame | None = None,
    overlaps: Overlaps | None = None,
    rules: FlagRules | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> list[FrameSignals] | None:
    """The signals and flags of frames `indices`, each checked against the two frames before
    it (read again unless they were just read). `frames` gives the pictures for the motion
    check (None: no motion check). None when `should_stop()` turns true."""
    rules = rules or FlagRules()
    motion = Motion() if frames is not None else None
    wanted = sorted(set(indices))
    results: list[FrameSignals] = []
    kept: dict[int, FrameFacts] = {}  # the facts of the last frames read, by index

    def facts(index: int) -> FrameFacts | None:
        if index < 0:
            return None
        if index not in kept:
            grey = small_grey(frames[index]) if frames is not None else None
            kept[index] = frame_facts(source.label_map(index), grey,
                                      confidence(index) if confidence is not None else {},
                                      overlaps(index) if overlaps is not None else {}, rules)
        return kept[index]

    for done, index in enumerate(wanted, 1):
        if should_stop is not None and should_stop():
            return None
        current, previous, earlier = facts(index), facts(index - 1), facts(index - 2)
        assert current is not None
        results.append(check_frame(index, source.frame_names[index], current, previous, rules,
                                   motion, earlier))
        for old in [i for i in kept if i < index - 1]:  # at most three frames in memory
            del kept[old]
        if progress is not None:
            progress(done, len(wanted))
    return results
