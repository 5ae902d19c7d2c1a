"""The STCN evaluation network; its state_dict matches the official `stcn.pth` key for key."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from models.stcn.decoder import Decoder
from models.stcn.encoders import KeyEncoder, ValueEncoder
from models.stcn.layers import KeyProjection
from models.stcn.layout import to_nchw

KEY_CHANNELS = 64
VALUE_CHANNELS = 512


class QueryFeatures(NamedTuple):
    """What the key encoder gives for one frame (batch 1)."""

    key: torch.Tensor  # (1, 64, h, w) at stride 16
    thin: torch.Tensor  # (1, 512, h, w) compressed f16, the query half of the decoder input
    f16: torch.Tensor  # (1, 1024, h, w), fed to the value encoder
    f8: torch.Tensor  # (1, 512, 2h, 2w)
    f4: torch.Tensor  # (1, 256, 4h, 4w)


class STCN(nn.Module):
    """Key encoder, value encoder, key projection/compression and decoder (eval only)."""

    def __init__(self) -> None:
        super().__init__()
        self.key_encoder = KeyEncoder()
        self.value_encoder = ValueEncoder()
        self.key_proj = KeyProjection(1024, KEY_CHANNELS)
        self.key_comp = nn.Conv2d(1024, VALUE_CHANNELS, kernel_size=3, padding=1)
        self.decoder = Decoder()
        self.nchw_features = False  # see `read_nchw`

    def read_nchw(self) -> None:
        """For convolutions after the stems that read NCHW (NNPACK on the CPU) while the stems
        run channels-last: the key features cross over once per frame instead of once per
        reader, and the value encoder's stem output once per encoding."""
        self.nchw_features = True
        self.value_encoder.nchw_layers = True

    def encode_key(self, image: torch.Tensor) -> QueryFeatures:
        """`image` (1, 3, H, W) normalised, H and W multiples of 16."""
        f16, f8, f4 = self.key_encoder(image)
        if self.nchw_features:
            f16, f8, f4 = to_nchw(f16), to_nchw(f8), to_nchw(f4)
        return QueryFeatures(self.key_proj(f16), self.key_comp(f16), f16, f8, f4)

    def encode_value(
        self, image: torch.Tensor, f16: torch.Tensor, masks: torch.Tensor
    ) -> torch.Tensor:
        """Values (K, 512, h, w) of one frame for K objects; `masks` (K, 1, H, W) probabilities.

        Each object is encoded with its own mask and the sum of the other objects' masks.
        """
        count = masks.shape[0]
        others = masks.sum(dim=0, keepdim=True) - masks if count > 1 else torch.zeros_like(masks)
        return self.value_encoder(image.expand(count, -1, -1, -1), f16, masks, others)

    def segment(self, readout: torch.Tensor, query: QueryFeatures) -> torch.Tensor:
        """Per-object probabilities (K, 1, H, W) from the memory readout (K, 512, h, w)."""
        return torch.sigmoid(self.decoder(readout, query.thin, query.f8, query.f4))
