"""3x3 convolutions through NNPACK's Winograd kernels on the CPU.

NNPACK (bundled with PyTorch's CPU builds) computes a 3x3, stride-1 convolution with the
Winograd F(6x6, 3x3) transform: about a fifth of the multiplications of the direct method that
oneDNN uses, at a float32 rounding error of the same order (about 1e-5 relative); what it gains
end to end is measured by `benchmarks/propagation.py --compare`. NNPACK transforms the kernel on
every call, so on small maps (few output tiles per kernel) it loses its lead: below `MIN_PIXELS`
output pixels, and off the CPU or outside float32, the ordinary convolution runs instead.
"""

from __future__ import annotations

import threading

import torch
import torch.nn.functional as F
from torch import nn

from models.stcn.layout import to_nchw

# Output maps smaller than this (30x54 is 1,620, a 854x480 frame at stride 16) use the direct
# convolution: at 15x27 the per-call kernel transform of a 1024->512 layer costs as much as
# the convolution itself.
MIN_PIXELS = 1000
# Narrow layers (the 3x3 to one mask channel) gain nothing from the transform.
MIN_OUTPUT_CHANNELS = 64


_READY_LOCK = threading.Lock()
_ready: list[bool] = []  # NNPACK's state once known: [works]


def _first_convolution(threads: int, works: list[bool]) -> None:
    """Runs in a thread of its own: torch sizes NNPACK's thread pool, once per process, by the
    calling thread's count, which is set to `threads` here."""
    previous = torch.get_num_threads()  # the process-wide count, which setting one's own...
    torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            torch._nnpack_spatial_convolution(
                torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3), torch.zeros(1), [1, 1]
            )
        works.append(True)
    except RuntimeError:
        works.append(False)
    finally:
        torch.set_num_threads(previous)  # ...changes too: restored


def nnpack_ready(pool_threads: int = 1) -> bool:
    """Whether NNPACK is built in, initialised and runs on this CPU.

    The first call creates NNPACK's thread pool with `pool_threads` threads (torch keeps one
    pool per process, never resized): a frame worker's share of the threads (`pipeline.py`),
    so one on two cores, where every NNPACK call then runs on its caller and the workers never
    queue for the pool; with more threads per worker the workers take turns on it.
    """
    with _READY_LOCK:
        if not _ready:
            works: list[bool] = []
            if torch._nnpack_available():  # also initialises NNPACK: its first use needs this
                creator = threading.Thread(target=_first_convolution, args=(pool_threads, works))
                creator.start()
                creator.join()
            _ready.append(works == [True])
        return _ready[0]


def conv3x3(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Stride-1 3x3 convolution with one pixel of zero padding; NNPACK where it wins.

    A batch goes through NNPACK one image at a time (its batched entry point targets training
    and is slower than this loop). NNPACK reads and writes NCHW: a channels-last input is
    converted, and the output is NCHW whatever the input's layout.
    """
    fast = (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and not torch.is_grad_enabled()
        and x.shape[-2] * x.shape[-1] >= MIN_PIXELS
        and nnpack_ready()
    )
    if not fast:
        return F.conv2d(x, weight, bias, padding=1)
    x = to_nchw(x)
    weight = weight.contiguous()
    try:
        if x.shape[0] == 1:
            return torch._nnpack_spatial_convolution(x, weight, bias, [1, 1])
        images = x.split(1)
        return torch.cat(
            [torch._nnpack_spatial_convolution(i, weight, bias, [1, 1]) for i in images]
        )
    except RuntimeError:  # NNPACK refused this layer (it reports no reason): the direct way
        return F.conv2d(x, weight, bias, padding=1)


class WinogradConv2d(nn.Conv2d):
    """An `nn.Conv2d` (3x3, stride 1, padding 1) whose forward is `conv3x3`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv3x3(x, self.weight, self.bias)


def eligible(conv: nn.Module) -> bool:
    """A plain 3x3, stride-1, zero-padded convolution to at least `MIN_OUTPUT_CHANNELS`."""
    return (
        type(conv) is nn.Conv2d
        and conv.kernel_size == (3, 3)
        and conv.stride == (1, 1)
        and conv.padding == (1, 1)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
        and conv.out_channels >= MIN_OUTPUT_CHANNELS
    )


def use_winograd(network: nn.Module, within: tuple[str, ...] = ("",)) -> nn.Module:
    """Replaces every eligible 3x3 convolution of `network` whose qualified name starts with
    one of `within` by a `WinogradConv2d` holding the same parameters under the same names, in
    place; returns `network`."""
    for path, parent in list(network.named_modules()):
        for name, child in list(parent.named_children()):
            qualified = f"{path}.{name}" if path else name
            if eligible(child) and qualified.startswith(within):
                replacement = WinogradConv2d(
                    child.in_channels,
                    child.out_channels,
                    kernel_size=3,
                    padding=1,
                    bias=child.bias is not None,
                    device="meta",
                )
                replacement.weight = child.weight
                replacement.bias = child.bias
                setattr(parent, name, replacement.train(child.training))
    return network
