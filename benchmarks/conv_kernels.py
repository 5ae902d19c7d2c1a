"""The 3x3 convolution kernels STCN's CPU speed rests on, timed on this CPU's one core.

STCN's decoder is about 99 GMAC of 3x3 convolutions per object and frame at 854x480, its key
encoder about 27 GMAC more; on the CPU a frame's time is mostly these layers, so how fast the
reference can be beaten (issue 17) is bounded by the kernels torch offers. For each of the
decoder's layer shapes this prints milliseconds and throughput (multiply-adds of the direct
method per second) of:

- `onednn`: oneDNN's direct convolution in channels-last layout, float32 (the key encoder's);
- `nnpack`: NNPACK's Winograd F(6x6, 3x3), float32, NCHW (what ours uses in the decoder);
- `wino43`: Winograd F(4x4, 3x3) with its 36 products through torch's matrix multiply and its
  tile transforms in torch operations (built here only to measure it; not in the product);
- `bf16`: oneDNN's direct convolution in bfloat16 (AMX or AVX-512 BF16 where the CPU has them);
- `fpmath`: float32 in and out with oneDNN told to compute in bfloat16;
- `split3`: `fpmath` over each value split into a bfloat16 part and its remainder, three
  products (high x high, high x low, low x high) as one convolution over three times the
  input channels: close to float32's accuracy from bfloat16 arithmetic.

and each one's largest error against a float64 convolution of the same input (unit variance,
weights of standard deviation 0.02). Then it times the parts of our STCN network the same way
(rule weights of the official layout, one object, 854x480). Threads: 1 (ours runs one
single-threaded worker per core); `--threads` changes it.

    python benchmarks/conv_kernels.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from stcn_compare import build_checkpoint, load_line, machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# (input channels, output channels, height, width): the decoder's 3x3 layers at 854x480
# (padded to 864x480): stride 16, 8 and 4.
SHAPES = (
    (1024, 512, 30, 54),
    (512, 512, 30, 54),
    (512, 512, 60, 108),
    (512, 256, 60, 108),
    (256, 256, 120, 216),
)

# Winograd F(4x4, 3x3) with the points 0, 1, -1, 2, -2 (Lavin and Gray, 2016).
_BT = torch.tensor(
    [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
    dtype=torch.float64,
)
_G = torch.tensor(
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
    dtype=torch.float64,
)
_AT = torch.tensor(
    [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
    dtype=torch.float64,
)
INPUT_TRANSFORM = torch.kron(_BT, _BT).float()  # (36, 36) over a flattened 6x6 tile
OUTPUT_TRANSFORM = torch.kron(_AT, _AT).float()  # (16, 36)


def winograd_weight(weight: torch.Tensor) -> torch.Tensor:
    """(36, out, in): each 3x3 kernel as G g G^T, flattened."""
    out_channels, in_channels = weight.shape[:2]
    transformed = torch.einsum("ak,oikl,bl->aboi", _G, weight.double(), _G)
    return transformed.reshape(36, out_channels, in_channels).float().contiguous()


def winograd43(x: torch.Tensor, transformed: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """3x3 convolution, padding 1, of `x` (1, C, H, W) NCHW by F(4x4, 3x3) tiles."""
    channels, height, width = x.shape[1:]
    rows, columns = -(-height // 4), -(-width // 4)
    padded = F.pad(x, (1, 1 + columns * 4 - width, 1, 1 + rows * 4 - height))[0]
    tiles = padded.unfold(1, 6, 4).unfold(2, 6, 4)  # (C, rows, columns, 6, 6), a view
    gathered = tiles.permute(3, 4, 0, 1, 2).reshape(36, channels * rows * columns)
    inputs = torch.mm(INPUT_TRANSFORM, gathered).view(36, channels, rows * columns)
    products = torch.bmm(transformed, inputs)  # (36, out, tiles)
    out_channels = transformed.shape[1]
    outputs = torch.mm(OUTPUT_TRANSFORM, products.view(36, -1))
    outputs = outputs.view(4, 4, out_channels, rows, columns).permute(2, 3, 0, 4, 1)
    image = outputs.reshape(1, out_channels, rows * 4, columns * 4)[:, :, :height, :width]
    return image + bias.view(1, -1, 1, 1)


def timed(call: Callable[[], torch.Tensor], repeats: int) -> tuple[float, torch.Tensor]:
    """Best of `repeats` runs after one warm-up, in milliseconds, and the result."""
    result = call()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best * 1000, result


def kernels(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> dict[str, Callable[[], torch.Tensor]]:
    last = x.contiguous(memory_format=torch.channels_last)
    transformed = winograd_weight(weight)
    last16, weight16, bias16 = last.bfloat16(), weight.bfloat16(), bias.bfloat16()

    high, high_weight = last.bfloat16().float(), weight.bfloat16().float()
    split = torch.cat([high, high, last - high], 1).contiguous(memory_format=torch.channels_last)
    split_weight = torch.cat([high_weight, weight - high_weight, high_weight], 1)

    def in_bfloat16(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        torch.backends.mkldnn.conv.fp32_precision = "bf16"
        try:
            return F.conv2d(x, weight, bias, padding=1)
        finally:
            torch.backends.mkldnn.conv.fp32_precision = "none"

    found = {
        "onednn": lambda: F.conv2d(last, weight, bias, padding=1),
        "wino43": lambda: winograd43(x, transformed, bias),
        "bf16": lambda: F.conv2d(last16, weight16, bias16, padding=1),
        "fpmath": lambda: in_bfloat16(last, weight),
        "split3": lambda: in_bfloat16(split, split_weight),
    }
    if torch._nnpack_available():
        found["nnpack"] = lambda: torch._nnpack_spatial_convolution(x, weight, bias, [1, 1])
    return found


def stcn_parts(repeats: int) -> None:
    """Milliseconds of each part of our CPU network for one 854x480 frame and one object."""
    from annotator.engine.stcn_loader import load_stcn
    from models.stcn.propagator import STCNPropagator

    with tempfile.TemporaryDirectory() as folder:
        network = load_stcn(build_checkpoint(Path(folder)))
    network = STCNPropagator(network, "cpu").network
    image = torch.randn(1, 3, 480, 864).contiguous(memory_format=torch.channels_last)
    query = network.encode_key(image)
    readout = torch.randn(1, 512, 30, 54)
    mask = torch.rand(1, 1, 480, 864)
    parts = {
        "key encoder (ResNet-50)": lambda: network.key_encoder(image)[0],
        "key encoding in all": lambda: network.encode_key(image).key,
        "decoder": lambda: network.segment(readout, query),
        "value encoding": lambda: network.encode_value(image, query.f16, mask),
    }
    print("our STCN on the CPU, one object, 854x480 (padded to 864x480):")
    for name, call in parts.items():
        print(f"  {name}: {timed(call, repeats)[0]:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}; {args.threads} thread(s); {load_line()}")
    print("ms (GMAC/s of the direct method) | largest error against float64")
    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        for in_channels, out_channels, height, width in SHAPES:
            x = torch.randn(1, in_channels, height, width, generator=generator)
            weight = torch.randn(out_channels, in_channels, 3, 3, generator=generator) * 0.02
            bias = torch.randn(out_channels, generator=generator) * 0.02
            exact = F.conv2d(x.double(), weight.double(), bias.double(), padding=1)
            gmac = in_channels * out_channels * 9 * height * width / 1e9
            cells = []
            for name, call in kernels(x, weight, bias).items():
                ms, result = timed(call, args.repeats)
                error = (result.double() - exact).abs().max().item()
                cells.append(f"{name} {ms:6.1f} ({gmac / ms * 1000:4.0f}) | {error:.0e}")
            shape = f"{in_channels}->{out_channels} at {height}x{width} ({gmac:.1f} GMAC)"
            print(f"{shape:34s} " + "   ".join(cells))
        stcn_parts(args.repeats)
    print(f"({load_line()} at the end)")


if __name__ == "__main__":
    main()
