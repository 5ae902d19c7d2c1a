"""SAM / MobileSAM prompt decoding: the image embedding once, then cheap decodes per prompt."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from segment_anything.modeling import Sam
from segment_anything.utils.transforms import ResizeLongestSide

from models.protocols import ClickPrediction, prompt_points


@dataclass(frozen=True)
class SamEmbedding:
    """The image encoder's output for one frame and the sizes needed to map prompts onto it."""

    features: torch.Tensor  # (1, 256, 64, 64) float32 on the model's device
    original_size: tuple[int, int]  # (H, W) of the frame
    input_size: tuple[int, int]  # (h, w) of the resized frame before padding

    @property
    def nbytes(self) -> int:
        return self.features.numel() * self.features.element_size()


class SamClickSegmenter:
    """A loaded `Sam` on one device: `set_image` / `embed`, then `predict` per prompt."""

    def __init__(self, model: Sam, variant: str, device: torch.device,
                 half: bool | None = None) -> None:
        self.model = model.to(device).eval()
        self.variant = variant
        self.device = device
        self.name = "MobileSAM (vit_t)" if variant == "vit_t" else f"SAM {variant}"
        # fp16 only for the image encoder on CUDA; the decoder stays fp32 (small, precise)
        self.half = device.type == "cuda" if half is None else half
        self.transform = ResizeLongestSide(model.image_encoder.img_size)
        self._embedding: SamEmbedding | None = None

    def embed(self, frame: np.ndarray) -> SamEmbedding:
        """Run the image encoder on an RGB uint8 frame (H, W, 3)."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {frame.shape} "
                             f"{frame.dtype}")
        resized = self.transform.apply_image(frame)
        image = torch.as_tensor(resized, device=self.device).permute(2, 0, 1)[None].float()
        autocast = (torch.autocast("cuda", dtype=torch.float16) if self.half
                    else contextlib.nullcontext())
        with torch.inference_mode(), autocast:
            features = self.model.image_encoder(self.model.preprocess(image))
        return SamEmbedding(features.float(), frame.shape[:2], tuple(resized.shape[:2]))

    def set_embedding(self, embedding: SamEmbedding) -> None:
        self._embedding = embedding

    def set_image(self, frame: np.ndarray) -> None:
        self._embedding = self.embed(frame)

    def predict(self, points: np.ndarray, labels: np.ndarray, box: np.ndarray | None = None,
                prior: np.ndarray | None = None, multimask: bool = True) -> ClickPrediction:
        """Masks sorted by predicted IoU, best first; inputs as in the ClickSegmenter protocol."""
        if self._embedding is None:
            raise RuntimeError("set_image (or set_embedding) must come before predict")
        emb = self._embedding
        points, labels = prompt_points(points, labels, box)
        with torch.inference_mode():
            point_prompt = None
            if len(points):
                coords = self.transform.apply_coords(points, emb.original_size)
                point_prompt = (torch.as_tensor(coords, device=self.device)[None],
                                torch.as_tensor(labels, device=self.device)[None])
            box_prompt = None
            if box is not None:
                scaled = self.transform.apply_boxes(np.asarray(box, np.float32).reshape(1, 4),
                                                    emb.original_size)
                box_prompt = torch.as_tensor(scaled, device=self.device)
            mask_prompt = None
            if prior is not None:
                mask_prompt = torch.as_tensor(np.asarray(prior, np.float32).reshape(1, 1, 256, 256),
                                              device=self.device)
            sparse, dense = self.model.prompt_encoder(
                points=point_prompt, boxes=box_prompt, masks=mask_prompt
            )
            low_res, iou = self.model.mask_decoder(
                image_embeddings=emb.features,
                image_pe=self.model.prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=multimask,
            )
            full = self._upscale(low_res, emb)
        order = torch.argsort(iou[0], descending=True)
        return ClickPrediction(
            masks=(full[0][order] > self.model.mask_threshold).cpu().numpy(),
            scores=iou[0][order].float().cpu().numpy(),
            logits=low_res[0][order].float().cpu().numpy(),
        )

    def _upscale(self, low_res: torch.Tensor, emb: SamEmbedding) -> torch.Tensor:
        size = self.model.image_encoder.img_size
        masks = F.interpolate(low_res, (size, size), mode="bilinear", align_corners=False)
        masks = masks[..., : emb.input_size[0], : emb.input_size[1]]
        return F.interpolate(masks, emb.original_size, mode="bilinear", align_corners=False)
