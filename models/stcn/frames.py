"""Frame and mask preparation for STCN: size at most 480 on the short side, ImageNet
normalisation, zero padding to a multiple of 16 split evenly (the odd pixel after)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

MAX_SHORT_SIDE = 480
STRIDE = 16
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def processing_size(
    height: int, width: int, max_short_side: int = MAX_SHORT_SIDE
) -> tuple[int, int]:
    """(height, width) the network sees: the short side brought down to `max_short_side`."""
    short = min(height, width)
    if short <= max_short_side:
        return height, width
    if height <= width:
        return max_short_side, int(max_short_side * width / height)
    return int(max_short_side * height / width), max_short_side


def padding(height: int, width: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) zero padding up to multiples of 16."""
    extra_h = -height % STRIDE
    extra_w = -width % STRIDE
    return extra_w // 2, extra_w - extra_w // 2, extra_h // 2, extra_h - extra_h // 2


def resize_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of an RGB uint8 frame to (height, width); unchanged when already there."""
    if frame.shape[:2] == tuple(size):
        return frame
    return np.asarray(Image.fromarray(frame).resize((size[1], size[0]), Image.Resampling.BICUBIC))


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a label map to (height, width)."""
    if labels.shape == tuple(size):
        return labels
    return np.asarray(Image.fromarray(labels).resize((size[1], size[0]), Image.Resampling.NEAREST))


def frame_tensor(
    frame: np.ndarray, pad: tuple[int, int, int, int], device: torch.device
) -> torch.Tensor:
    """(1, 3, H', W') normalised and zero-padded float32 image from an H x W x 3 uint8 RGB frame,
    channels-last in memory (the key encoder's layout): written in place into the padded
    buffer, the frame's own (H, W, 3) order kept."""
    left, right, top, bottom = pad
    height, width = frame.shape[:2]
    pixels = torch.from_numpy(np.array(frame, dtype=np.uint8)).to(device)  # a writable copy
    padded = torch.zeros(1, height + top + bottom, width + left + right, 3, device=device)
    inner = padded[0, top : top + height, left : left + width]
    inner.copy_(pixels).div_(255)
    inner.sub_(torch.tensor(MEAN, device=device)).div_(torch.tensor(STD, device=device))
    return padded.permute(0, 3, 1, 2)


def unpad(tensor: torch.Tensor, pad: tuple[int, int, int, int]) -> torch.Tensor:
    """Crop the padding of `frame_tensor` off the last two dimensions."""
    left, right, top, bottom = pad
    height, width = tensor.shape[-2:]
    return tensor[..., top : height - bottom, left : width - right]
