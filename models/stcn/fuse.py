"""Inference-only rewrites: batch norms folded into the convolutions before them, and the
ReLU (and residual sum) after a folded convolution done inside oneDNN's convolution."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

# (convolution, batch norm) child names as the encoders lay them out; "0"/"1" is a shortcut.
PAIRS = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"), ("0", "1"))


def fold_batch_norms(network: nn.Module) -> nn.Module:
    """Fold every eval-mode batch norm into its convolution, in place; returns `network`.

    The result computes the same function up to float rounding with one pass less over each
    feature map; its state_dict no longer has the batch-norm tensors.
    """
    network.eval()
    for parent in list(network.modules()):
        for conv_name, norm_name in PAIRS:
            conv = getattr(parent, conv_name, None)
            norm = getattr(parent, norm_name, None)
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                setattr(parent, conv_name, fuse_conv_bn_eval(conv, norm))
                setattr(parent, norm_name, nn.Identity())
    return network


def _fusable(conv: nn.Module, norm: nn.Module, x: torch.Tensor) -> bool:
    """oneDNN's fused convolution applies: a plain convolution with its norm folded away, a
    float32 CPU input, no autograd."""
    return (
        type(conv) is nn.Conv2d
        and isinstance(norm, nn.Identity)
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and not torch.is_grad_enabled()
        and torch.backends.mkldnn.is_available()
    )


def _fused_arguments(conv: nn.Conv2d) -> tuple[object, ...]:
    return (conv.weight, conv.bias, conv.padding, conv.stride, conv.dilation, conv.groups)


def conv_only(conv: nn.Module, norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """norm(conv(x)) through oneDNN once the norm is folded: torch sends a stride-1 1x1
    convolution of batch 1 to a slower matrix product of its own."""
    if isinstance(conv, nn.Conv2d) and _fusable(conv, norm, x):
        return torch.mkldnn_convolution(x, *_fused_arguments(conv))
    return norm(conv(x))


def conv_relu(conv: nn.Conv2d, norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """relu(norm(conv(x))): one oneDNN call once the norm is folded (same numbers)."""
    if _fusable(conv, norm, x):
        return torch.ops.mkldnn._convolution_pointwise(x, *_fused_arguments(conv), "relu", [], "")
    return F.relu(norm(conv(x)), inplace=True)


def conv_add_relu(
    conv: nn.Conv2d, norm: nn.Module, x: torch.Tensor, other: torch.Tensor
) -> torch.Tensor:
    """relu(norm(conv(x)) + other): one oneDNN call once the norm is folded (same numbers)."""
    if _fusable(conv, norm, x):
        return torch.ops.mkldnn._convolution_pointwise.binary(
            x, other, *_fused_arguments(conv), "add", None, "relu", [], ""
        )
    return F.relu(norm(conv(x)).add_(other), inplace=True)
