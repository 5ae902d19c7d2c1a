"""STCN's faster CPU kernels compute what the plain layers compute: Winograd 3x3 convolutions,
channels shared by all objects convolved once, fused convolution + ReLU, the label argmax, the
decoder's last layer through tap maps, the blocked channels-last to NCHW copy."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from models.stcn.aggregate import soft_aggregate, winning_channel
from models.stcn.frames import MEAN, STD, frame_tensor, padding
from models.stcn.fuse import conv_add_relu, conv_only, conv_relu, fold_batch_norms
from models.stcn.layers import ResBlock
from models.stcn.layout import ROWS, to_nchw
from models.stcn.narrow_conv import NarrowConv2d
from models.stcn.network import STCN
from models.stcn.winograd import MIN_PIXELS, WinogradConv2d, conv3x3, nnpack_ready, use_winograd

needs_nnpack = pytest.mark.skipif(not nnpack_ready(), reason="this torch build has no NNPACK")


def seeded(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@needs_nnpack
@pytest.mark.parametrize("batch", [1, 3])
def test_winograd_convolution_matches_the_direct_one(batch):
    x = seeded(batch, 32, 40, 48)  # 1,920 output pixels: the Winograd path
    weight = seeded(64, 32, 3, 3, seed=1) * 0.1
    bias = seeded(64, seed=2)
    with torch.inference_mode():
        fast = conv3x3(x, weight, bias)
        direct = F.conv2d(x.double(), weight.double(), bias.double(), padding=1).float()
    assert fast.shape == (batch, 64, 40, 48)
    error = (fast - direct).abs().max().item()
    assert 0 < error < 1e-4 * direct.abs().max().item()  # rounding differs, not the function


def test_small_maps_and_autograd_use_the_direct_convolution():
    weight = seeded(64, 8, 3, 3, seed=1)
    small = seeded(1, 8, 16, 16)  # 256 pixels, under MIN_PIXELS
    assert small.shape[-1] * small.shape[-2] < MIN_PIXELS
    with torch.inference_mode():
        assert torch.equal(conv3x3(small, weight, None), F.conv2d(small, weight, padding=1))
    large = seeded(1, 8, 40, 48)
    assert torch.equal(conv3x3(large, weight, None), F.conv2d(large, weight, padding=1))


def test_use_winograd_keeps_every_parameter_and_swaps_only_3x3_stride_1():
    with torch.device("meta"):
        network = STCN()
    before = dict(network.named_parameters())
    use_winograd(network)
    after = dict(network.named_parameters())
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before)
    swapped = {n for n, m in network.named_modules() if isinstance(m, WinogradConv2d)}
    assert "decoder.up_8_4.out_conv.conv2" in swapped
    assert "key_encoder.layer2.0.conv2" not in swapped  # stride 2
    assert "decoder.pred" not in swapped  # one output channel
    assert "key_encoder.layer2.1.conv1" not in swapped  # 1x1


def test_use_winograd_within_named_parts_only():
    with torch.device("meta"):
        network = use_winograd(STCN(), ("key_comp", "decoder"))
    swapped = {n for n, m in network.named_modules() if isinstance(m, WinogradConv2d)}
    assert {"key_comp", "decoder.compress.conv1"} <= swapped
    assert all(name.startswith(("key_comp", "decoder")) for name in swapped)


@pytest.mark.parametrize("objects", [1, 3])
def test_shared_channels_are_convolved_once_with_the_same_result(objects):
    torch.manual_seed(0)
    block = ResBlock(48, 32).eval()
    own = seeded(objects, 16, 40, 48, seed=3)
    shared = seeded(1, 32, 40, 48, seed=4)
    with torch.inference_mode():
        together = block(torch.cat([own, shared.expand(objects, -1, -1, -1)], dim=1))
        split = block.forward_shared(own, shared)
    # The split path may run the Winograd kernels where the plain block runs direct ones.
    torch.testing.assert_close(split, together, rtol=1e-4, atol=1e-4)


def test_fused_convolution_relu_and_residual_sum_give_the_same_numbers():
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1)
    norm = nn.BatchNorm2d(32).eval()
    norm.running_mean.uniform_(-0.5, 0.5)
    x = seeded(1, 16, 24, 32, seed=5)
    other = seeded(1, 32, 12, 16, seed=6)
    with torch.inference_mode():
        plain = F.relu(norm(conv(x)))
        plain_sum = F.relu(norm(conv(x)) + other)
        folded = fold_batch_norms(nn.Sequential(conv, norm).eval())
        conv1, bn1 = folded[0], folded[1]
        assert isinstance(bn1, nn.Identity)
        torch.testing.assert_close(conv_relu(conv1, bn1, x), plain, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(
            conv_add_relu(conv1, bn1, x, other), plain_sum, rtol=1e-5, atol=1e-5
        )


@pytest.mark.parametrize("objects", [1, 2, 4])
def test_winning_channel_is_the_argmax_with_ties_to_the_first_channel(objects):
    probs = soft_aggregate(torch.rand(objects, 30, 40, generator=torch.Generator().manual_seed(7)))
    probs[:, :5, :5] = 1 / (objects + 1)  # exact ties
    winners = winning_channel(probs)
    assert torch.equal(winners, probs.argmax(dim=0))
    assert (winners[:5, :5] == 0).all()
    assert set(winners.unique().tolist()) == set(range(objects + 1))


def test_reduced_precision_channels_last_path_runs_with_shared_channels():
    """The CUDA path's layout and autocast, exercised on the CPU with bfloat16 (no GPU here):
    per-object and shared tensors of mixed precision meet in the in-place sums."""
    torch.manual_seed(0)
    with torch.device("meta"):
        network = STCN()
    network.to_empty(device="cpu")
    for name, tensor in network.state_dict().items():
        if name.endswith("running_var"):
            tensor.fill_(1.0)
        elif tensor.is_floating_point():
            tensor.normal_(0, 0.02)
    network = use_winograd(fold_batch_norms(network)).to(memory_format=torch.channels_last)
    image = seeded(1, 3, 64, 96).contiguous(memory_format=torch.channels_last)
    masks = torch.rand(2, 1, 64, 96, generator=torch.Generator().manual_seed(8))
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        query = network.encode_key(image)
        value = network.encode_value(image, query.f16, masks)
        probs = network.segment(value.to(torch.bfloat16), query)
    assert value.shape == (2, 512, 4, 6)
    assert probs.shape == (2, 1, 64, 96)
    assert torch.isfinite(probs.float()).all()


@pytest.mark.parametrize("shape", [(1, 256, 30, 45), (2, 64, 7, 9)])
def test_blocked_copy_to_nchw_equals_torchs(shape):
    x = seeded(*shape).contiguous(memory_format=torch.channels_last)
    assert (shape[2] * shape[3]) % ROWS != 0  # a last, partial block
    out = to_nchw(x)
    assert out.is_contiguous()
    assert torch.equal(out, x.contiguous())
    already = x.contiguous()
    assert to_nchw(already) is already


@pytest.mark.parametrize("outputs", [1, 3])
def test_narrow_convolution_matches_the_direct_one(outputs):
    layer = NarrowConv2d(40, outputs)
    with torch.no_grad():
        layer.weight.copy_(seeded(outputs, 40, 3, 3, seed=3))
        layer.bias.copy_(seeded(outputs, seed=4))
    x = seeded(2, 40, 11, 17)
    with torch.inference_mode():
        fast = layer(x)
        direct = F.conv2d(x.double(), layer.weight.double(), layer.bias.double(), padding=1)
    assert fast.shape == (2, outputs, 11, 17)
    assert (fast.double() - direct).abs().max().item() < 1e-5 * direct.abs().max().item()
    assert torch.equal(layer(x), F.conv2d(x, layer.weight, layer.bias, padding=1))  # autograd on


def test_stride_one_projection_through_onednn_equals_the_convolution():
    conv = nn.Conv2d(16, 64, kernel_size=1)
    with torch.no_grad():
        conv.weight.copy_(seeded(64, 16, 1, 1, seed=5))
        conv.bias.copy_(seeded(64, seed=6))
    x = seeded(1, 16, 20, 30).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        fast = conv_only(conv, nn.Identity(), x)
        plain = conv(x)
    assert (fast - plain).abs().max().item() < 1e-5 * plain.abs().max().item()


def test_features_read_as_nchw_give_the_same_network_outputs():
    torch.manual_seed(0)
    plain_network = use_winograd(fold_batch_norms(STCN()))
    plain_network.key_encoder.to(memory_format=torch.channels_last)
    crossing_network = copy.deepcopy(plain_network)
    crossing_network.read_nchw()
    networks = (plain_network, crossing_network)
    image = seeded(1, 3, 96, 128).contiguous(memory_format=torch.channels_last)
    masks = torch.rand(2, 1, 96, 128, generator=torch.Generator().manual_seed(8))
    with torch.inference_mode():
        plain, crossed = (network.encode_key(image) for network in networks)
        for a, b in zip(plain, crossed, strict=True):  # layouts differ: so may the rounding
            assert (a - b).abs().max().item() < 1e-5 * a.abs().max().item()
        assert all(feature.is_contiguous() for feature in crossed[2:])
        values = [
            network.encode_value(image, query.f16, masks)
            for network, query in zip(networks, (plain, crossed), strict=True)
        ]
    assert (values[0] - values[1]).abs().max().item() < 1e-4 * values[0].abs().max().item()


def test_decoder_one_object_at_a_time_equals_the_batched_stages():
    torch.manual_seed(0)
    decoder = use_winograd(STCN()).decoder.eval()
    readout, thin = seeded(3, 512, 6, 8, seed=1), seeded(1, 512, 6, 8, seed=2)
    f8, f4 = seeded(1, 512, 12, 16, seed=3), seeded(1, 256, 24, 32, seed=4)
    with torch.inference_mode():
        logits = decoder(readout, thin, f8, f4)
        x = decoder.up_16_8(f8, decoder.compress.forward_shared(readout, thin))
        batched = decoder.pred(F.relu(decoder.up_8_4(f4, x)))
        batched = F.interpolate(batched, scale_factor=4.0, mode="bilinear", align_corners=False)
    assert logits.shape == (3, 1, 96, 128)
    assert torch.equal(logits, batched)
    assert not torch.equal(logits[0], logits[1])


@pytest.mark.parametrize("objects", [1, 3])
def test_soft_aggregation_is_the_softmax_of_the_clamped_log_odds(objects):
    probs = torch.rand(objects, 20, 30, generator=torch.Generator().manual_seed(9))
    probs[:, :2] = 1.0  # clamped at both ends
    probs[:, 2:4] = 0.0
    stacked = torch.cat([torch.prod(1 - probs.double(), 0, keepdim=True), probs.double()])
    stacked = stacked.clamp(1e-7, 1 - 1e-7)
    expected = torch.softmax(torch.log(stacked / (1 - stacked)), dim=0)
    aggregated = soft_aggregate(probs)
    assert aggregated.shape == (objects + 1, 20, 30)
    assert (aggregated.double() - expected).abs().max().item() < 1e-6
    assert torch.equal(aggregated.argmax(0), expected.argmax(0))


def test_frame_tensor_is_the_normalised_padded_frame_in_channels_last_memory():
    frame = torch.randint(0, 256, (37, 50, 3), generator=torch.Generator().manual_seed(10))
    frame = frame.to(torch.uint8).numpy()
    pad = padding(37, 50)
    image = frame_tensor(frame, pad, torch.device("cpu"))
    assert image.shape == (1, 3, 48, 64)
    assert image.is_contiguous(memory_format=torch.channels_last)
    mean = torch.tensor(MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float64).view(1, 3, 1, 1)
    plain = torch.from_numpy(frame).permute(2, 0, 1).unsqueeze(0).double() / 255
    expected = F.pad((plain - mean) / std, pad)
    assert (image.double() - expected).abs().max().item() < 1e-6
    assert torch.equal(image[..., :pad[2], :], torch.zeros_like(image[..., :pad[2], :]))
