"""SAM 2.1 click segmentation of one image: the embedding once, then cheap decodes per prompt,
as the `sam2` package's `SAM2ImagePredictor` does it (arrays in and out)."""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sam2.modeling.sam2_base import SAM2Base
from sam2.utils.transforms import SAM2Transforms

from models.protocols import ClickPrediction, prompt_points

LOGIT_LIMIT = 32.0  # the package clamps the low-res logits it hands back


@dataclass(frozen=True)
class Sam2Embedding:
    """The image encoder's output for one frame: the coarse embedding, the two finer feature
    maps the decoder reads, and the frame's size."""

    image: torch.Tensor  # (1, 256, S/16, S/16)
    high_res: tuple[torch.Tensor, torch.Tensor]  # (1, 32, S/4, S/4), (1, 64, S/8, S/8)
    original_size: tuple[int, int]  # (H, W)

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.image, *self.high_res))


class Sam2ClickSegmenter:
    """A SAM 2.1 network on one device as an `EmbeddingSegmenter`: `set_image` / `embed`, then
    `predict` per prompt. On CUDA it runs under bfloat16 autocast, elsewhere in float32.
    """

    def __init__(self, model: SAM2Base, variant: str, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.variant = variant
        self.name = f"SAM 2.1 {variant}"
        with warnings.catch_warnings():  # the package scripts its transforms with torch.jit
            warnings.simplefilter("ignore", FutureWarning)
            self.transforms = SAM2Transforms(resolution=model.image_size, mask_threshold=0.0)
        self._embedding: Sam2Embedding | None = None

    def context(self) -> AbstractContextManager[object]:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def embed(self, frame: np.ndarray) -> Sam2Embedding:
        """Run the image encoder on an RGB uint8 frame (H, W, 3)."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {frame.shape} "
                             f"{frame.dtype}")
        model = self.model
        with torch.inference_mode(), self.context():
            writable = frame if frame.flags.writeable else frame.copy()  # frames may be shared
            image = self.transforms(writable)[None].to(self.device)
            backbone = model.forward_image(image)
            _, maps, _, sizes = model._prepare_backbone_features(backbone)
            if model.directly_add_no_mem_embed:
                maps[-1] = maps[-1] + model.no_mem_embed
            fine, middle, coarse = (
                m.permute(1, 2, 0).reshape(1, -1, *size) for m, size in zip(maps, sizes,
                                                                            strict=True)
            )
        return Sam2Embedding(coarse, (fine, middle), (int(frame.shape[0]), int(frame.shape[1])))

    def set_embedding(self, embedding: Sam2Embedding) -> None:
        self._embedding = embedding

    def set_image(self, frame: np.ndarray) -> None:
        self._embedding = self.embed(frame)

    def predict(
        self,
        points: np.ndarray,
        labels: np.ndarray,
        box: np.ndarray | None = None,
        prior: np.ndarray | None = None,
        multimask: bool = True,
    ) -> ClickPrediction:
        """Masks sorted by predicted IoU, best first; inputs as in the ClickSegmenter protocol
        (`prior` is (1, S/4, S/4) logits of an earlier prediction)."""
        if self._embedding is None:
            raise RuntimeError("set_image (or set_embedding) must come before predict")
        emb = self._embedding
        points, labels = prompt_points(points, labels, box)
        model = self.model
        with torch.inference_mode(), self.context():
            coords, codes = self._prompt_points(points, labels, box, emb.original_size)
            mask_prompt = None
            if prior is not None:
                side = model.sam_prompt_encoder.mask_input_size
                mask_prompt = torch.as_tensor(np.asarray(prior, np.float32).reshape(1, 1, *side),
                                              device=self.device)
            sparse, dense = model.sam_prompt_encoder(points=(coords, codes), boxes=None,
                                                     masks=mask_prompt)
            low_res, iou, _, _ = model.sam_mask_decoder(
                image_embeddings=emb.image,
                image_pe=model.sam_prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=multimask,
                repeat_image=False,
                high_res_features=list(emb.high_res),
            )
            full = F.interpolate(low_res.float(), emb.original_size, mode="bilinear",
                                 align_corners=False)
            low_res = torch.clamp(low_res.float(), -LOGIT_LIMIT, LOGIT_LIMIT)
        order = torch.argsort(iou[0].float(), descending=True)
        return ClickPrediction(
            masks=(full[0][order] > 0).cpu().numpy(),
            scores=iou[0][order].float().cpu().numpy(),
            logits=low_res[0][order].cpu().numpy(),
        )

    def _prompt_points(self, points: np.ndarray, labels: np.ndarray, box: np.ndarray | None,
                       original_size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(1, N, 2) coordinates at the model's size and (1, N) codes: the box first as two
        corners (codes 2 and 3), then the clicks (1 positive, 0 negative)."""
        height, width = original_size
        coords = torch.as_tensor(points, device=self.device).reshape(1, -1, 2)
        codes = torch.as_tensor(labels, dtype=torch.int32, device=self.device).reshape(1, -1)
        if box is not None:
            corners = torch.as_tensor(np.asarray(box, np.float32), device=self.device)
            coords = torch.cat([corners.reshape(1, 2, 2), coords], dim=1)
            corner_codes = torch.tensor([[2, 3]], dtype=torch.int32, device=self.device)
            codes = torch.cat([corner_codes, codes], dim=1)
        size = torch.tensor([width, height], dtype=torch.float32, device=self.device)
        return coords / size * self.model.image_size, codes
