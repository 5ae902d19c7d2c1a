"""A 3x3 convolution to a few output channels as one matrix product and nine shifted sums.

oneDNN and NNPACK both run the decoder's last layer (256 channels to one mask logit) at a few
percent of their speed on wide layers: it is a thin matrix product in disguise. Each of the
nine taps is a 1x1 convolution, so one product gives all nine tap maps per output channel, and
the output is their sum, each shifted by its tap's offset (zero padding at the borders).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class NarrowConv2d(nn.Conv2d):
    """`nn.Conv2d(in, out, 3, padding=1)` (same parameters and names) that computes through
    tap maps on the CPU in float32 without autograd; otherwise the ordinary way."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.dtype != torch.float32 or torch.is_grad_enabled():
            return super().forward(x)
        batch, channels, height, width = x.shape
        outputs = self.out_channels
        # (out, C, 3, 3) -> rows (out, dy, dx) of C weights
        taps = self.weight.permute(0, 2, 3, 1).reshape(outputs * 9, channels)
        flat = x.reshape(batch, channels, height * width)
        tap_maps = torch.empty(batch, outputs * 9, height * width, dtype=x.dtype)
        for image in range(batch):  # 2-D products: a batched one would transpose `flat` first
            torch.mm(taps, flat[image], out=tap_maps[image])
        tap_maps = tap_maps.view(batch, outputs, 9, height, width)
        padded = F.pad(tap_maps, (1, 1, 1, 1))
        out = padded[:, :, 0, :height, :width].clone()
        for tap in range(1, 9):
            dy, dx = divmod(tap, 3)
            out += padded[:, :, tap, dy : dy + height, dx : dx + width]
        if self.bias is not None:
            out += self.bias.view(1, outputs, 1, 1)
        return out
