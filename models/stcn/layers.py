"""Building blocks shared by the STCN value encoder and decoder (names follow `stcn.pth`)."""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from models.stcn.winograd import conv3x3


class ResBlock(nn.Module):
    """Pre-activation residual block of two 3x3 convolutions; 3x3 projection if widths differ."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.downsample = (
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
            if in_channels != out_channels
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.conv2(F.relu(self.conv1(F.relu(x)), inplace=True))
        shortcut = x if self.downsample is None else self.downsample(x)
        return residual.add_(shortcut)

    def forward_shared(self, own: torch.Tensor, shared: torch.Tensor) -> torch.Tensor:
        """`self(torch.cat([own, shared.expand(K, ...)], 1))` for `own` of batch K and `shared`
        of batch 1, with the convolutions over the shared channels done once for all K."""
        if own.shape[0] == 1:
            return self(torch.cat([own, shared], dim=1))
        if self.downsample is None:
            raise ValueError("a block without a projection keeps its input: nothing to share")
        split = own.shape[1]
        hidden = _split_conv(self.conv1, F.relu(own), F.relu(shared), split)
        residual = self.conv2(F.relu(hidden, inplace=True))
        return residual.add_(_split_conv(self.downsample, own, shared, split))


def _split_conv(
    conv: nn.Conv2d, own: torch.Tensor, shared: torch.Tensor, split: int
) -> torch.Tensor:
    """3x3 `conv` of `cat([own, shared.expand(K)])`: its first `split` input channels over
    `own`, the others over `shared` once, broadcast to the K entries of `own`."""
    weight = conv.weight
    return conv3x3(own, weight[:, :split], None).add_(conv3x3(shared, weight[:, split:], conv.bias))


class ChannelGate(nn.Module):
    """CBAM channel attention: a shared MLP over global average and max pooling."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = channels // reduction
        # Index 0 flattens and index 2 is the ReLU, so the linear layers are mlp.1 and mlp.3.
        self.mlp = nn.Sequential(
            nn.Flatten(), nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled_avg = x.mean(dim=(2, 3))
        pooled_max = x.amax(dim=(2, 3))
        weights = torch.sigmoid(self.mlp(pooled_avg) + self.mlp(pooled_max))
        return x * weights[:, :, None, None]


class SpatialConv(nn.Module):
    """Holds the 7x7 convolution of the spatial gate under the name `conv`."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size=7, padding=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class SpatialGate(nn.Module):
    """CBAM spatial attention from the channel-wise max and mean (in that order)."""

    def __init__(self) -> None:
        super().__init__()
        self.spatial = SpatialConv()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(pooled))


class CBAM(nn.Module):
    """Convolutional block attention: channel gate, then spatial gate."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.ChannelGate = ChannelGate(channels)
        self.SpatialGate = SpatialGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.SpatialGate(self.ChannelGate(x))


class FeatureFusionBlock(nn.Module):
    """Fuses value features with the key encoder f16: ResBlock, CBAM residual, ResBlock."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.block1 = ResBlock(in_channels, out_channels)
        self.attention = CBAM(out_channels)
        self.block2 = ResBlock(out_channels, out_channels)

    def forward(self, x: torch.Tensor, key_f16: torch.Tensor) -> torch.Tensor:
        """`x` (K, C, h, w) per object, `key_f16` (1, 1024, h, w) shared by the objects."""
        x = self.block1.forward_shared(x, key_f16)
        return self.block2(x + self.attention(x))


class UpsampleBlock(nn.Module):
    """Adds a 3x3-convolved skip feature to the bilinearly doubled coarser map, then a ResBlock."""

    def __init__(self, skip_channels: int, up_channels: int, out_channels: int) -> None:
        super().__init__()
        self.skip_conv = nn.Conv2d(skip_channels, up_channels, kernel_size=3, padding=1)
        self.out_conv = ResBlock(up_channels, out_channels)

    def forward(self, skip: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        """`skip` may have batch 1 and `up` one entry per object: the skip is shared."""
        x = F.interpolate(up, scale_factor=2.0, mode="bilinear", align_corners=False)
        return self.out_conv(x.add_(self.skip_conv(skip)))

    def each(self, skip: torch.Tensor, up: torch.Tensor) -> Iterator[torch.Tensor]:
        """`self(skip, up)` one entry of `up` at a time, `skip` (batch 1) convolved once: the
        caller can finish with an object's maps before the next object's are made."""
        shared = self.skip_conv(skip)
        for entry in up.split(1):
            x = F.interpolate(entry, scale_factor=2.0, mode="bilinear", align_corners=False)
            yield self.out_conv(x.add_(shared))


class KeyProjection(nn.Module):
    """3x3 projection of the 1024-channel f16 features to the 64-channel key space."""

    def __init__(self, in_channels: int, key_channels: int) -> None:
        super().__init__()
        self.key_proj = nn.Conv2d(in_channels, key_channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.key_proj(x)
