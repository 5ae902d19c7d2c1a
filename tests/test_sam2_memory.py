"""The SAM 2.1 pass memory keeps exactly what the package's memory attention reads, and stays
bounded however long the pass; confidence and label maps from the network's outputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from sam2.modeling.sam2_base import SAM2Base
from sam2_weights import IMAGE_SIZE, plain_model

from models.sam2.memory import FrameMemory, PassMemory, Reach, pointer_frames, spatial_frames
from models.sam2.propagator import Sam2Propagator, labels_from_logits, object_confidence

LENGTH = 40


class _Entry(dict[str, Any]):
    """A frame's output that records which of its parts were read."""

    def __init__(self, index: int, reads: dict[str, set[int]], side: int) -> None:
        super().__init__(maskmem_features=torch.zeros(1, 64, side, side),
                         maskmem_pos_enc=[torch.zeros(1, 64, side, side)],
                         obj_ptr=torch.zeros(1, 256))
        self.index = index
        self.reads = reads

    def __getitem__(self, key: str) -> Any:
        self.reads.setdefault(key, set()).add(self.index)
        return super().__getitem__(key)


@pytest.fixture(scope="module")
def model() -> SAM2Base:
    return plain_model(seed=0)


def package_reads(model: SAM2Base, frame: int, reverse: bool) -> dict[str, set[int]]:
    """The non-keyframes whose spatial memory and object pointer the package's memory
    attention reads for `frame`, every frame of the video having an output."""
    side = IMAGE_SIZE // 16
    reads: dict[str, set[int]] = {}
    keyframe = LENGTH - 1 if reverse else 0
    others = {i: _Entry(i, reads, side) for i in range(LENGTH) if i != keyframe}
    keyframes = {keyframe: _Entry(-1, {}, side)}
    features = [torch.zeros(side * side, 1, 256)]
    with torch.inference_mode():
        model._prepare_memory_conditioned_features(
            frame_idx=frame, is_init_cond_frame=False, current_vision_feats=features,
            current_vision_pos_embeds=features, feat_sizes=[(side, side)],
            output_dict={"cond_frame_outputs": keyframes, "non_cond_frame_outputs": others},
            num_frames=LENGTH, track_in_reverse=reverse,
        )
    return reads


@pytest.mark.parametrize("stride", [1, 3])
@pytest.mark.parametrize("reverse", [False, True])
def test_the_frames_read_are_the_packages(model: SAM2Base, stride: int, reverse: bool,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "memory_temporal_stride_for_eval", stride)
    reach = Reach(model.num_maskmem, stride, min(LENGTH, model.max_obj_ptrs_in_encoder), reverse)
    for frame in (20, 7, 33):
        reads = package_reads(model, frame, reverse)
        inside = set(range(LENGTH)) - {LENGTH - 1 if reverse else 0}
        assert reads["maskmem_features"] == set(spatial_frames(frame, reach)) & inside
        assert reads["obj_ptr"] == set(pointer_frames(frame, reach)) & inside


def _memories(count: int) -> Iterator[FrameMemory]:
    for index in range(count):
        yield FrameMemory(torch.full((2, 64, 8, 8), float(index)), torch.full((2, 256), index))


@pytest.mark.parametrize("stride", [1, 3])
@pytest.mark.parametrize("reverse", [False, True])
def test_memory_keeps_what_the_next_frame_reads_and_stays_bounded(stride: int,
                                                                  reverse: bool) -> None:
    reach = Reach(slots=7, stride=stride, pointers=16, reverse=reverse)
    memory = PassMemory(reach)
    step = -1 if reverse else 1
    start = 10_000 if reverse else 0
    memory.add_keyframe(start, next(_memories(1)))
    sizes = []
    for offset, frame_memory in enumerate(_memories(500), start=1):
        index = start + step * offset
        memory.add_frame(index, frame_memory)
        following = index + step
        added = {start + step * k for k in range(1, offset + 1)}
        assert set(memory.features) == set(spatial_frames(following, reach)) & added
        assert set(memory.pointers) == set(pointer_frames(following, reach)) & added
        assert memory.features[index].dtype == torch.bfloat16
        sizes.append(memory.nbytes)
    assert list(memory.keyframes) == [start] and memory.frame_count <= 1 + 6
    assert max(sizes[50:]) == sizes[-1]  # flat once the window is full
    view = memory.as_output_dict()
    assert set(view["cond_frame_outputs"]) == {start}
    assert set(view["non_cond_frame_outputs"]) == set(memory.pointers) | set(memory.features)


def test_confidence_from_the_occlusion_score_and_the_mask_logits() -> None:
    scores = torch.tensor([[8.0], [8.0], [-8.0], [8.0]])
    logits = torch.full((4, 1, 4, 4), -20.0)
    logits[0, 0, :2] = 12.0  # present, sure of its mask
    logits[1, 0, :2] = 0.2  # present, unsure of its mask
    logits[2, 0, :2] = 12.0  # the occlusion score says absent
    confidence = object_confidence(scores, logits).tolist()
    assert confidence[0] > 0.99
    assert confidence[1] < 0.15
    assert confidence[2] < 0.01
    assert confidence[3] == 0.0  # no mask at all: lost


def test_label_map_takes_the_surest_object_where_any_is_positive() -> None:
    logits = torch.full((2, 1, 3, 3), -5.0)
    logits[0, 0, 0] = 2.0
    logits[1, 0, :2] = 1.0
    labels = labels_from_logits(logits, [3, 7])
    assert labels.tolist() == [[3, 3, 3], [7, 7, 7], [0, 0, 0]]
    assert labels.dtype == np.uint8


def test_propagation_stops_between_frames_and_checks_sizes(model: SAM2Base) -> None:
    engine = Sam2Propagator(model)
    frames = [np.full((24, 32, 3), 60 * i, np.uint8) for i in range(4)]
    keyframe = np.zeros((24, 32), np.uint8)
    keyframe[5:15, 5:20] = 4
    asked = []

    def stop() -> bool:  # asked before the keyframe and before each frame
        asked.append(True)
        return len(asked) > 2

    done = list(engine.propagate(frames, {0: keyframe}, [1, 2, 3], should_stop=stop))
    assert [f.index for f in done] == [1] and len(asked) == 3
    assert done[0].labels.shape == (24, 32) and set(np.unique(done[0].labels)) <= {0, 4}
    assert set(done[0].confidence) == {4} and 0 <= done[0].confidence[4] <= 1
    empty = list(engine.propagate(frames, {0: np.zeros((24, 32), np.uint8)}, [1, 2]))
    assert [f.labels.any() for f in empty] == [False, False] and empty[0].confidence == {}
    with pytest.raises(ValueError, match="frame 0 is 32x24, the keyframes are 16x24"):
        list(engine.propagate(frames, {0: keyframe[:, :16]}, [1]))
