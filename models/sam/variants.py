"""SAM variants: building each official layout and telling which one a state dict holds."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import torch
from segment_anything.modeling import MaskDecoder, PromptEncoder, Sam, TwoWayTransformer
from segment_anything.modeling.image_encoder import ImageEncoderViT

from models.sam.tiny_vit import TinyViT

# variant -> (embedding width, depth, heads, global attention blocks) of the ViT image encoder
VIT_LAYOUTS: dict[str, tuple[int, int, int, tuple[int, ...]]] = {
    "vit_b": (768, 12, 12, (2, 5, 8, 11)),
    "vit_l": (1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": (1280, 32, 16, (7, 15, 23, 31)),
}
VARIANTS = ("vit_t", *VIT_LAYOUTS)
_TINYVIT_KEY = "image_encoder.patch_embed.seq.0.c.weight"
_VIT_KEY = "image_encoder.patch_embed.proj.weight"
_IMAGE_SIZE = 1024
_PROMPT_DIM = 256


class UnknownLayout(ValueError):
    """The tensors are not those of any SAM variant this program knows."""


def build_sam(variant: str) -> Sam:
    """A randomly initialised SAM of the official layout of `variant`, in eval mode."""
    if variant == "vit_t":
        encoder: torch.nn.Module = TinyViT(img_size=_IMAGE_SIZE)
    elif variant in VIT_LAYOUTS:
        width, depth, heads, global_blocks = VIT_LAYOUTS[variant]
        encoder = ImageEncoderViT(
            img_size=_IMAGE_SIZE, patch_size=16, embed_dim=width, depth=depth, num_heads=heads,
            mlp_ratio=4, out_chans=_PROMPT_DIM, qkv_bias=True,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            use_rel_pos=True, window_size=14, global_attn_indexes=global_blocks,
        )
    else:
        raise ValueError(f"unknown SAM variant {variant!r}; known: {', '.join(VARIANTS)}")
    grid = _IMAGE_SIZE // 16
    sam = Sam(
        image_encoder=encoder,
        prompt_encoder=PromptEncoder(
            embed_dim=_PROMPT_DIM, image_embedding_size=(grid, grid),
            input_image_size=(_IMAGE_SIZE, _IMAGE_SIZE), mask_in_chans=16,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(depth=2, embedding_dim=_PROMPT_DIM, mlp_dim=2048,
                                          num_heads=8),
            transformer_dim=_PROMPT_DIM, iou_head_depth=3, iou_head_hidden_dim=256,
        ),
    )
    return sam.eval()


def unwrap_state_dict(checkpoint: object) -> Mapping[str, torch.Tensor]:
    """The tensor mapping inside a checkpoint: bare, or under 'model' / 'state_dict'."""
    for _ in range(2):
        if isinstance(checkpoint, Mapping) and not _has_tensors(checkpoint):
            inner = next((checkpoint[k] for k in ("model", "state_dict") if k in checkpoint), None)
            if inner is None:
                break
            checkpoint = inner
    if not isinstance(checkpoint, Mapping) or not _has_tensors(checkpoint):
        raise UnknownLayout("it holds no tensors (not a model checkpoint)")
    return {k.removeprefix("module."): v for k, v in checkpoint.items()}


def _has_tensors(mapping: Mapping) -> bool:
    return any(isinstance(v, torch.Tensor) for v in mapping.values())


def detect_variant(state: Mapping[str, torch.Tensor]) -> str:
    """'vit_t', 'vit_b', 'vit_l' or 'vit_h' from the shapes of the image encoder's tensors."""
    if not any(k.startswith("mask_decoder.") for k in state):
        raise UnknownLayout("no SAM mask decoder tensors (mask_decoder.*) in it")
    if _TINYVIT_KEY in state:
        return "vit_t"
    if _VIT_KEY not in state:
        raise UnknownLayout(f"no image encoder patch embedding ({_VIT_KEY}) in it")
    patch_embed = state[_VIT_KEY]
    if not isinstance(patch_embed, torch.Tensor) or patch_embed.ndim == 0:
        raise UnknownLayout(f"{_VIT_KEY} is not a weight tensor")
    width = int(patch_embed.shape[0])
    blocks = {k.split(".")[2] for k in state if k.startswith("image_encoder.blocks.")}
    odd = sorted(b for b in blocks if not (b.isascii() and b.isdigit()))
    if odd:
        raise UnknownLayout(f"image encoder block {odd[0]!r} is not numbered as SAM's are")
    depth = 1 + max(map(int, blocks), default=-1)
    for variant, (w, d, _, _) in VIT_LAYOUTS.items():
        if (w, d) == (width, depth):
            return variant
    raise UnknownLayout(f"image encoder of width {width} and depth {depth} is no SAM variant")


def load_sam(state: Mapping[str, torch.Tensor]) -> tuple[Sam, str]:
    """Build the detected variant and load `state` into it strictly."""
    variant = detect_variant(state)
    sam = build_sam(variant)
    state = dict(state)
    for name, buffer in sam.state_dict().items():
        # older batch-norm checkpoints may lack the counters; they do not affect eval
        if name.endswith("num_batches_tracked") and name not in state:
            state[name] = buffer
    try:
        sam.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).split("\n\t", 2)[:2]
        raise UnknownLayout(f"tensors do not match the {variant} layout: {' '.join(first)}")\
            from exc
    return sam.eval(), variant
