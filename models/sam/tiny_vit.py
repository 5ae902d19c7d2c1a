"""TinyViT-5M image encoder of MobileSAM (vit_t), parameter names as in `mobile_sam.pt`.

Architecture facts (TinyViT paper, MobileSAM release): a two-convolution stem to 1/4 scale,
one stage of MBConv blocks, then three stages of windowed attention blocks with a depthwise
convolution between attention and MLP; patch merging between stages (the last one keeps the
64 x 64 grid), and SAM's 256-channel neck.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from segment_anything.modeling.common import LayerNorm2d
from torch import nn


class ConvBN(nn.Sequential):
    """Convolution without bias followed by batch norm (children named `c` and `bn`)."""

    def __init__(
        self, cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1
    ) -> None:
        super().__init__()
        self.add_module("c", nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups,
                                       bias=False))
        self.add_module("bn", nn.BatchNorm2d(cout))


class Stem(nn.Module):
    """Two stride-2 3x3 convolutions: 3 -> dim/2 -> dim channels at 1/4 resolution."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.seq = nn.Sequential(ConvBN(3, dim // 2, 3, 2), nn.GELU(), ConvBN(dim // 2, dim, 3, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(x)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, 3x3 depthwise, 1x1 project, residual, GELU."""

    def __init__(self, dim: int, expand: float) -> None:
        super().__init__()
        hidden = int(dim * expand)
        self.conv1 = ConvBN(dim, hidden)
        self.conv2 = ConvBN(hidden, hidden, 3, groups=hidden)
        self.conv3 = ConvBN(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.gelu(self.conv1(x))
        y = F.gelu(self.conv2(y))
        return F.gelu(self.conv3(y) + x)


class PatchMerging(nn.Module):
    """1x1, depthwise 3x3 (stride 2, or 1 into the last stage), 1x1; returns tokens (B, L, C)."""

    def __init__(self, grid: tuple[int, int], dim: int, out_dim: int, stride: int) -> None:
        super().__init__()
        self.grid = grid
        self.conv1 = ConvBN(dim, out_dim)
        self.conv2 = ConvBN(out_dim, out_dim, 3, stride, groups=out_dim)
        self.conv3 = ConvBN(out_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            b, _, c = x.shape
            x = x.transpose(1, 2).reshape(b, c, *self.grid)
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x))
        return self.conv3(x).flatten(2).transpose(1, 2)


class WindowAttention(nn.Module):
    """Multi-head attention inside a square window with a learned bias per relative offset."""

    def __init__(self, dim: int, heads: int, window: int) -> None:
        super().__init__()
        self.heads = heads
        self.key_dim = dim // heads
        self.scale = self.key_dim**-0.5
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        rows, cols = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
        pos = torch.stack([rows.flatten(), cols.flatten()], dim=1)
        offsets = (pos[:, None, :] - pos[None, :, :]).abs()
        # one bias per (|dy|, |dx|) offset, numbered row-major: dy * window + dx
        self.attention_biases = nn.Parameter(torch.zeros(heads, window * window))
        index = offsets[..., 0] * window + offsets[..., 1]
        self.register_buffer("bias_index", index, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        q, k, v = (
            self.qkv(self.norm(x)).view(b, n, self.heads, 3, self.key_dim).permute(3, 0, 2, 1, 4)
        )
        bias = self.attention_biases[:, self.bias_index]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), scale=self.scale)
        return self.proj(out.transpose(1, 2).reshape(b, n, -1))


class Mlp(nn.Module):
    def __init__(self, dim: int, ratio: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, int(dim * ratio))
        self.fc2 = nn.Linear(int(dim * ratio), dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(self.norm(x))))


class TinyViTBlock(nn.Module):
    """Windowed attention, depthwise 3x3 convolution, MLP; tokens (B, H*W, C) in and out."""

    def __init__(self, dim: int, grid: tuple[int, int], heads: int, window: int,
                 mlp_ratio: float) -> None:
        super().__init__()
        self.grid = grid
        self.window = window
        self.attn = WindowAttention(dim, heads, window)
        self.local_conv = ConvBN(dim, dim, 3, groups=dim)
        self.mlp = Mlp(dim, mlp_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        h, w = self.grid
        x = x + self._windowed(x.view(b, h, w, c)).reshape(b, n, c)
        x = self.local_conv(x.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)
        return x + self.mlp(x)

    def _windowed(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        s = self.window
        pad_h, pad_w = (-h) % s, (-w) % s
        if pad_h or pad_w:
            x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
        ph, pw = h + pad_h, w + pad_w
        tiles = x.view(b, ph // s, s, pw // s, s, c).transpose(2, 3).reshape(-1, s * s, c)
        tiles = self.attn(tiles)
        x = tiles.view(b, ph // s, pw // s, s, s, c).transpose(2, 3).reshape(b, ph, pw, c)
        return x[:, :h, :w]


class Stage(nn.Module):
    """A list of blocks, then an optional patch merging into the next stage."""

    def __init__(self, blocks: list[nn.Module], downsample: nn.Module | None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.downsample(x) if self.downsample is not None else x


class TinyViT(nn.Module):
    """TinyViT image encoder for SAM: (B, 3, 1024, 1024) -> (B, 256, 64, 64)."""

    def __init__(
        self,
        img_size: int = 1024,
        dims: tuple[int, ...] = (64, 128, 160, 320),
        depths: tuple[int, ...] = (2, 2, 6, 2),
        heads: tuple[int, ...] = (2, 4, 5, 10),
        windows: tuple[int, ...] = (7, 7, 14, 7),
        mlp_ratio: float = 4.0,
        out_chans: int = 256,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.img_size = img_size
        self.patch_embed = Stem(dims[0])
        side = img_size // 4
        # stage grids: 1/4, 1/8, 1/16, and the last stage stays at 1/16
        grids = [side, side // 2, side // 4, side // 4]
        self.out_grid = grids[-1]
        stages = []
        for i, dim in enumerate(dims):
            grid = (grids[i], grids[i])
            last = i == len(dims) - 1
            merge = None
            if not last:
                stride = grids[i] // grids[i + 1]
                merge = PatchMerging(grid, dim, dims[i + 1], stride)
            if i == 0:
                blocks: list[nn.Module] = [MBConv(dim, 4.0) for _ in range(depths[i])]
            else:
                blocks = [TinyViTBlock(dim, grid, heads[i], windows[i], mlp_ratio)
                          for _ in range(depths[i])]
            stages.append(Stage(blocks, merge))
        self.layers = nn.ModuleList(stages)
        # classification head kept only so that the published checkpoint loads strictly
        self.norm_head = nn.LayerNorm(dims[-1])
        self.head = nn.Linear(dims[-1], num_classes)
        self.neck = nn.Sequential(
            nn.Conv2d(dims[-1], out_chans, 1, bias=False),
            LayerNorm2d(out_chans),
            nn.Conv2d(out_chans, out_chans, 3, padding=1, bias=False),
            LayerNorm2d(out_chans),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        for stage in self.layers:
            x = stage(x)
        b, _, c = x.shape
        x = x.transpose(1, 2).reshape(b, c, self.out_grid, self.out_grid)
        return self.neck(x)
