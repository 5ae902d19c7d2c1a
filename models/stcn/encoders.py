"""The two ResNet encoders of STCN: ResNet-50 for keys (to res4), ResNet-18 for values."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.stcn.fuse import conv_add_relu, conv_only, conv_relu
from models.stcn.layers import FeatureFusionBlock
from models.stcn.layout import to_nchw


def _projection(in_channels: int, out_channels: int, stride: int, bias: bool) -> nn.Sequential:
    """1x1 strided convolution and batch norm on the shortcut (`downsample.0`, `downsample.1`)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=bias),
        nn.BatchNorm2d(out_channels),
    )


class Bottleneck(nn.Module):
    """ResNet-50 block (torchvision layout: bias-free convolutions, stride on the 3x3)."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.downsample = (
            _projection(in_channels, out_channels, stride, bias=False)
            if stride != 1 or in_channels != out_channels
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = conv_relu(self.conv1, self.bn1, x)
        out = conv_relu(self.conv2, self.bn2, out)
        downsample = self.downsample
        shortcut = x if downsample is None else conv_only(downsample[0], downsample[1], x)
        return conv_add_relu(self.conv3, self.bn3, out, shortcut)


class BasicBlock(nn.Module):
    """ResNet-18 block as STCN modified it: its convolutions carry biases."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = (
            _projection(in_channels, out_channels, stride, bias=True)
            if stride != 1 or in_channels != out_channels
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = conv_relu(self.conv1, self.bn1, x)
        shortcut = x if self.downsample is None else self.downsample(x)
        return conv_add_relu(self.conv2, self.bn2, out, shortcut)


def _bottleneck_stage(in_channels: int, width: int, blocks: int, stride: int) -> nn.Sequential:
    layers = [Bottleneck(in_channels, width, stride)]
    layers += [Bottleneck(width * Bottleneck.expansion, width) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def _basic_stage(in_channels: int, out_channels: int, blocks: int, stride: int) -> nn.Sequential:
    layers = [BasicBlock(in_channels, out_channels, stride)]
    layers += [BasicBlock(out_channels, out_channels) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class KeyEncoder(nn.Module):
    """ResNet-50 up to res4: features at strides 16 (1024 ch), 8 (512 ch) and 4 (256 ch)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.res2 = _bottleneck_stage(64, 64, 3, stride=1)
        self.layer2 = _bottleneck_stage(256, 128, 4, stride=2)
        self.layer3 = _bottleneck_stage(512, 256, 6, stride=2)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = conv_relu(self.conv1, self.bn1, image)
        x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
        f4 = self.res2(x)
        f8 = self.layer2(f4)
        f16 = self.layer3(f8)
        return f16, f8, f4


class ValueEncoder(nn.Module):
    """ResNet-18 up to res4 over image + object mask + other objects' mask, fused with key f16."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(5, 64, kernel_size=7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = _basic_stage(64, 64, 2, stride=1)
        self.layer2 = _basic_stage(64, 128, 2, stride=2)
        self.layer3 = _basic_stage(128, 256, 2, stride=2)
        self.fuser = FeatureFusionBlock(1024 + 256, 512)
        # Set when the layers after the stem read NCHW (NNPACK on the CPU): the stem then runs
        # channels-last (oneDNN's max pooling is ten times faster there) and crosses over once.
        self.nchw_layers = False

    def forward(
        self, image: torch.Tensor, key_f16: torch.Tensor, mask: torch.Tensor, others: torch.Tensor
    ) -> torch.Tensor:
        """`image` (N, 3, H, W), `mask`/`others` (N, 1, H, W), `key_f16` (1, 1024, H/16, W/16)
        of the frame, shared by the N objects."""
        x = torch.cat([image, mask, others], dim=1)
        if self.nchw_layers:
            x = x.contiguous(memory_format=torch.channels_last)
        x = conv_relu(self.conv1, self.bn1, x)
        x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
        if self.nchw_layers:
            x = to_nchw(x)
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fuser(x, key_f16)
