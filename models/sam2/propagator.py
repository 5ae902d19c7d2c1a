"""SAM 2.1 propagation of label maps from keyframes through consecutive frames, in bounded
memory (arrays in and out).

Per pass it does what the package's `SAM2VideoPredictor` does after `add_new_mask` on every
keyframe for every object and `propagate_in_video` from the pass's keyframe, with the objects
batched: keyframe masks are mask prompts (an object missing from a keyframe is an empty mask
there, "absent"), every other frame is segmented from the memory. Frames are read one at a time
from the frame sequence and prepared as the package prepares them; the memory is a `PassMemory`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sam2.modeling.sam2_base import SAM2Base
from sam2.utils.misc import fill_holes_in_mask_scores

from models.protocols import FrameSequence, PropagatedFrame, ShouldStop
from models.sam2.frames import mask_prompts, video_frame_tensor
from models.sam2.memory import FrameMemory, PassMemory, Reach
from models.sam2.variants import FILL_HOLE_AREA
from models.stcn.propagator import object_ids

# The package fills small holes with its optional compiled extension and skips it without.
HOLE_FILLING = importlib.util.find_spec("sam2._C") is not None


@dataclass(frozen=True)
class _Features:
    """The image encoder's output for one frame, batched over the objects, in the layout the
    network's steps take (flattened HW x K x C maps, coarsest last)."""

    maps: list[torch.Tensor]
    positions: list[torch.Tensor]
    sizes: list[tuple[int, int]]


def object_confidence(score_logits: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
    """(K,) in 0..1: the object's presence (sigmoid of its occlusion score) times how sure its
    mask is (the mean sigmoid of the logits inside it, 0.5..1, stretched to 0..1)."""
    presence = torch.sigmoid(score_logits.float().flatten())
    logits = mask_logits.float().flatten(1)
    inside = logits > 0
    certainty = (torch.sigmoid(logits) * inside).sum(1) / inside.sum(1).clamp(min=1)
    certainty = torch.where(inside.any(1), 2 * certainty - 1, torch.zeros_like(certainty))
    return (presence * certainty).clamp(0, 1)


def labels_from_logits(logits: torch.Tensor, ids: Sequence[int]) -> np.ndarray:
    """H x W uint8 label map from (K, 1, H, W) logits: the most confident object where any
    logit is positive, background elsewhere."""
    best, which = logits[:, 0].max(dim=0)
    lookup = torch.tensor(list(ids), dtype=torch.uint8)
    labels = torch.where(best.cpu() > 0, lookup[which.cpu()], torch.zeros((), dtype=torch.uint8))
    return labels.numpy()


class Sam2Propagator:
    """Implements the `Propagator` protocol with a SAM 2.1 network (`SAM2Base`).

    On CUDA the network runs under bfloat16 autocast, elsewhere in float32.
    """

    name = "SAM 2.1"

    def __init__(self, model: SAM2Base, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.last_memory_frames = 0  # frames with spatial memory at the last step
        self.last_memory_bytes = 0

    def propagate(self, frames: FrameSequence, keyframes: Mapping[int, np.ndarray],
                  targets: Sequence[int], should_stop: ShouldStop | None = None,
                  ) -> Iterator[PropagatedFrame]:
        targets = list(targets)
        if not targets:
            return
        if not keyframes:
            raise ValueError("propagation needs at least one keyframe")
        size = np.asarray(next(iter(keyframes.values()))).shape[:2]
        ids = object_ids(keyframes)
        if not ids:
            for index in targets:
                if should_stop is not None and should_stop():
                    return
                yield PropagatedFrame(index, np.zeros(size, np.uint8), {})
            return
        run = _Pass(self, frames, (int(size[0]), int(size[1])), ids, _is_reverse(keyframes,
                                                                                   targets))
        for index in sorted(keyframes):
            if should_stop is not None and should_stop():
                return
            run.add_keyframe(index, np.asarray(keyframes[index]))
        for index in targets:
            if should_stop is not None and should_stop():
                return
            yield run.step(index, keyframes.get(index))

    def context(self) -> AbstractContextManager[object]:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()


def _is_reverse(keyframes: Mapping[int, np.ndarray], targets: Sequence[int]) -> bool:
    if len(targets) > 1:
        return targets[1] < targets[0]
    nearest = min(keyframes, key=lambda k: (abs(k - targets[0]), k))
    return targets[0] < nearest


class _Pass:
    """One pass: the frame size, the objects, the direction and the memory."""

    def __init__(self, owner: Sam2Propagator, frames: FrameSequence, size: tuple[int, int],
                 ids: list[int], reverse: bool) -> None:
        self.owner = owner
        self.model = owner.model
        self.frames = frames
        self.size = size
        self.ids = ids
        self.reverse = reverse
        self.video_length = len(frames)
        self.memory = PassMemory(Reach(
            slots=self.model.num_maskmem,
            stride=self.model.memory_temporal_stride_for_eval,
            pointers=min(self.video_length, self.model.max_obj_ptrs_in_encoder),
            reverse=reverse,
        ))

    def _features(self, index: int) -> _Features:
        frame = np.asarray(self.frames[index])
        if frame.shape[:2] != self.size:
            raise ValueError(f"frame {index} is {frame.shape[1]}x{frame.shape[0]}, the keyframes "
                             f"are {self.size[1]}x{self.size[0]}")
        image = video_frame_tensor(frame, self.model.image_size, self.owner.device)
        backbone = self.model.forward_image(image)
        count = len(self.ids)
        expanded = {
            "backbone_fpn": [f.expand(count, -1, -1, -1) for f in backbone["backbone_fpn"]],
            "vision_pos_enc": [p.expand(count, -1, -1, -1) for p in backbone["vision_pos_enc"]],
        }
        _, maps, positions, sizes = self.model._prepare_backbone_features(expanded)
        return _Features(maps, positions, sizes)

    def add_keyframe(self, index: int, labels: np.ndarray) -> None:
        """A keyframe's masks as mask prompts, encoded into permanent memory as the package
        does before propagating: from its low-res logits, upscaled and binarised."""
        if labels.shape != self.size:
            raise ValueError(f"keyframe {index} is {labels.shape[1]}x{labels.shape[0]}, the "
                             f"first one is {self.size[1]}x{self.size[0]}")
        model = self.model
        with torch.inference_mode(), self.owner.context():
            features = self._features(index)
            out = self._track(index, features, self.keyframe_prompts(labels))
            low_res = _fill_holes(out["pred_masks"])
            high_res = F.interpolate(low_res, size=(model.image_size, model.image_size),
                                     mode="bilinear", align_corners=False)
            spatial, positions = model._encode_new_memory(
                current_vision_feats=features.maps, feat_sizes=features.sizes,
                pred_masks_high_res=high_res, object_score_logits=out["object_score_logits"],
                is_mask_from_pts=True,
            )
            self.memory.set_positions(positions)
            self.memory.add_keyframe(index, FrameMemory(spatial, out["obj_ptr"]))

    def _track(self, index: int, features: _Features, prompts: dict[str, Any] | None,
               ) -> dict[str, Any]:
        """The network's step on frame `index`: a keyframe with its `prompts` (its memory is
        encoded by the caller), else a frame segmented from the memory and encoded into it."""
        keyframe = prompts is not None
        result: dict[str, Any] = self.model.track_step(
            frame_idx=index, is_init_cond_frame=keyframe, current_vision_feats=features.maps,
            current_vision_pos_embeds=features.positions, feat_sizes=features.sizes,
            output_dict=self.memory.as_output_dict(), num_frames=self.video_length,
            track_in_reverse=self.reverse, run_mem_encoder=not keyframe,
            **(prompts or {"point_inputs": None, "mask_inputs": None}),
        )
        return result

    def keyframe_prompts(self, labels: np.ndarray) -> dict[str, Any]:
        """`track_step`'s prompt arguments for a keyframe: each object's mask as a mask prompt
        (K, 1, S, S)."""
        masks = torch.from_numpy(labels).to(self.owner.device)
        wanted = torch.tensor(self.ids, device=self.owner.device, dtype=masks.dtype)
        prompts = mask_prompts(masks.unsqueeze(0) == wanted.view(-1, 1, 1), self.model.image_size)
        return {"point_inputs": None, "mask_inputs": prompts}

    def step(self, index: int, keyframe: np.ndarray | None) -> PropagatedFrame:
        """Segment frame `index` from the memory and remember it."""
        if keyframe is not None:  # not a target in a planned pass; its masks stand as given
            return PropagatedFrame(index, np.array(keyframe, dtype=np.uint8),
                                   dict.fromkeys(self.ids, 1.0))
        with torch.inference_mode(), self.owner.context():
            features = self._features(index)
            out = self._track(index, features, None)
            self.memory.set_positions(out["maskmem_pos_enc"])
            self.memory.add_frame(index, FrameMemory(out["maskmem_features"], out["obj_ptr"]))
            self.owner.last_memory_frames = self.memory.frame_count
            self.owner.last_memory_bytes = self.memory.nbytes
            low_res = _fill_holes(out["pred_masks"].float())
            confidence = object_confidence(out["object_score_logits"], low_res)
            logits = F.interpolate(low_res, size=self.size, mode="bilinear", align_corners=False)
            labels = labels_from_logits(logits, self.ids)
        scores = confidence.cpu().tolist()
        return PropagatedFrame(index, labels, dict(zip(self.ids, scores, strict=True)))


def _fill_holes(low_res: torch.Tensor) -> torch.Tensor:
    return fill_holes_in_mask_scores(low_res, FILL_HOLE_AREA) if HOLE_FILLING else low_res
