"""SAM 2.1 tiny weights for tests: drawn at random from a fixed seed, at a small image size, and
saved in the official checkpoint layout ({"model": state dict}).

A plain random SAM 2.1 barely reacts to where its prompts are: the output is dominated by the
image, so a test comparing two engines on it cannot tell a right engine from a wrong one.
`prompt_sensitive_state` redraws a few tensors so that the propagated masks follow the keyframe
masks, while the image still decides the pixels near each boundary:

- memory encoder: the image projection is zeroed, so a spatial memory holds its mask only;
- memory attention: queries and keys are one constant vector on the fastest rotary
  frequencies, so after the rotary encoding each position attends to its own place in every
  remembered frame; values read +1 inside a remembered mask and -1 outside on channel 0, which
  the output projection writes, strongly, into channel 0 of the frame's features;
- mask decoder: the image-to-token attention is zeroed (the image embedding passes through),
  the upscaling carries channel 0 through (inside a mask above zero, outside below) and adds the
  image's fine features, and every mask token reads channel 0 of the upscaled embedding; the
  object is always present.

With these weights moving the keyframe mask by 16 px changes about 15 % of the propagated
labels, a click in place of the mask about 16 %, and a bilinear frame resize in place of the
package's bicubic one about 1 %.
"""

from __future__ import annotations

from pathlib import Path

import torch
from sam2.modeling.sam2_base import SAM2Base

from models.sam2.variants import build_sam2

IMAGE_SIZE = 128
FAST_FREQUENCIES = 16  # rotary frequencies per axis that the local attention uses
QUERY_SCALE = 8.0
MEMORY_GAIN = 8.0
UPSCALE_GAIN = 10.0
MASK_GAIN = 0.04
MASK_CENTRE = 3.3
LOGIT_GAIN = 50.0
PRESENT = 10.0


def plain_model(seed: int) -> SAM2Base:
    torch.manual_seed(seed)
    return build_sam2("tiny", IMAGE_SIZE)


def prompt_sensitive_model(seed: int) -> SAM2Base:
    model = plain_model(seed)
    with torch.no_grad():
        _mask_only_memory(model)
        _local_memory_attention(model)
        _decoder_reading_channel_zero(model)
    return model


def save_official(model: SAM2Base, path: Path) -> Path:
    torch.save({"model": model.state_dict()}, path)
    return path


def _mask_only_memory(model: SAM2Base) -> None:
    projection = model.memory_encoder.pix_feat_proj
    projection.weight.zero_()
    projection.bias.zero_()


def _local_memory_attention(model: SAM2Base) -> None:
    encoder = model.memory_encoder
    side = model.image_size
    # the memory of a patch inside a mask (logit +10) and outside (-10)
    masks = torch.tensor([10.0, -10.0]).view(2, 1, 1, 1).expand(2, 1, side, side)
    pixels = torch.zeros(2, model.hidden_dim, side // 16, side // 16)
    inside, outside = encoder(pixels, masks, skip_mask_sigmoid=True)["vision_features"][:, :, 0, 0]
    difference = inside - outside
    for layer in model.memory_attention.layers:
        attention = layer.cross_attn_image
        width = attention.internal_dim
        constant = torch.zeros(width)
        pairs = width // 4  # complex pairs per axis: x first, then y
        for pair in [*range(FAST_FREQUENCIES), *range(pairs, pairs + FAST_FREQUENCIES)]:
            constant[2 * pair] = QUERY_SCALE
        for projection in (attention.q_proj, attention.k_proj):
            projection.weight.zero_()
            projection.bias.copy_(constant)
        value = attention.v_proj
        value.weight.zero_()
        value.bias.zero_()
        value.weight[0] = 2 * difference / difference.dot(difference)
        value.bias[0] = -value.weight[0].dot((inside + outside) / 2)
        attention.out_proj.weight.zero_()
        attention.out_proj.bias.zero_()
        attention.out_proj.weight[0, 0] = MEMORY_GAIN


def _decoder_reading_channel_zero(model: SAM2Base) -> None:
    model.sam_prompt_encoder.no_mask_embed.weight[0, 0] = 0
    decoder = model.sam_mask_decoder
    for layer in decoder.transformer.layers:
        layer.cross_attn_image_to_token.out_proj.weight.zero_()
        layer.cross_attn_image_to_token.out_proj.bias.zero_()
    first, _, _, second, _ = decoder.output_upscaling
    first.weight[:, 0] = 0
    first.weight[0, 0] = UPSCALE_GAIN
    first.bias[0] = 0
    second.weight[:, 0] = 0
    second.weight[0, 0] = MASK_GAIN
    second.bias[0] = -MASK_GAIN * MASK_CENTRE
    for hypernetwork in decoder.output_hypernetworks_mlps:
        last = hypernetwork.layers[-1]
        last.weight.zero_()
        last.bias.zero_()
        last.bias[0] = LOGIT_GAIN
    score = decoder.pred_obj_score_head.layers[-1]
    score.weight.zero_()
    score.bias.fill_(PRESENT)
