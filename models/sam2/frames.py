"""Frames and masks prepared for SAM 2.1 exactly as the `sam2` package's video predictor
prepares them: a square resize to the model's size, then ImageNet normalisation."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def video_frame_tensor(frame: np.ndarray, size: int, device: torch.device) -> torch.Tensor:
    """(1, 3, size, size) float32 from an H x W x 3 uint8 RGB frame: Pillow's bicubic resize
    to a square, then /255 in float64 and the normalisation in float32, as the package's
    frame loader does."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {frame.shape} {frame.dtype}")
    resized = np.asarray(Image.fromarray(frame).resize((size, size), Image.Resampling.BICUBIC))
    image = torch.from_numpy(resized / 255.0).to(torch.float32).permute(2, 0, 1)
    mean = torch.tensor(MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(3, 1, 1)
    return ((image - mean) / std).unsqueeze(0).to(device)


def mask_prompts(masks: torch.Tensor, size: int) -> torch.Tensor:
    """(K, 1, size, size) float 0/1 from (K, H, W) bool masks: an antialiased bilinear resize
    kept where it reaches one half (the package's `add_new_mask`)."""
    prompts = masks.unsqueeze(1).float()
    if prompts.shape[-2:] == (size, size):
        return prompts
    resized = F.interpolate(prompts, size=(size, size), mode="bilinear", align_corners=False,
                            antialias=True)
    return (resized >= 0.5).float()
