"""STCN decoder: memory readout + query features at stride 16 -> one mask logit map per object."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.stcn.layers import ResBlock, UpsampleBlock
from models.stcn.narrow_conv import NarrowConv2d


class Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.compress = ResBlock(1024, 512)
        self.up_16_8 = UpsampleBlock(512, 512, 256)
        self.up_8_4 = UpsampleBlock(256, 256, 256)
        self.pred = NarrowConv2d(256, 1)

    def forward(
        self, readout: torch.Tensor, thin: torch.Tensor, f8: torch.Tensor, f4: torch.Tensor
    ) -> torch.Tensor:
        """`readout` (K, 512, h, w) per object; the query's `thin` (1, 512, h, w), `f8` and
        `f4` are shared by the objects. The first block sees `cat([readout, thin])`.

        Returns logits (K, 1, 16h, 16w).
        """
        x = self.compress.forward_shared(readout, thin)
        x = self.up_16_8(f8, x)
        if x.device.type == "cpu":
            # One object at a time through the stride-4 stage, whose maps are the decoder's
            # largest: the same numbers (NNPACK goes image by image anyway) in less memory.
            logits = [self.pred(F.relu(y, inplace=True)) for y in self.up_8_4.each(f4, x)]
            x = torch.cat(logits)
        else:
            x = self.pred(F.relu(self.up_8_4(f4, x), inplace=True))
        return F.interpolate(x, scale_factor=4.0, mode="bilinear", align_corners=False)
