"""SAM 2.1 variants: the package's config of each, building it, and telling which one a
checkpoint's tensors hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from sam2.modeling.sam2_base import SAM2Base

_PATCH_KEY = "image_encoder.trunk.patch_embed.proj.weight"
_BLOCK_PREFIX = "image_encoder.trunk.blocks."
# tensors that SAM 2.1 has and SAM 2.0 lacks
_SAM21_KEYS = ("no_obj_embed_spatial", "obj_ptr_tpos_proj.weight")
# What the package's `build_sam2_video_predictor` sets on top of each config (its post-processing
# defaults) that belongs to the network itself; `fill_hole_area=8` is applied by the session.
_VIDEO_OVERRIDES = (
    "model.sam_mask_decoder_extra_args.dynamic_multimask_via_stability=true",
    "model.sam_mask_decoder_extra_args.dynamic_multimask_stability_delta=0.05",
    "model.sam_mask_decoder_extra_args.dynamic_multimask_stability_thresh=0.98",
    "model.binarize_mask_from_pts_for_mem_enc=true",
)
FILL_HOLE_AREA = 8


@dataclass(frozen=True)
class Variant:
    """One official SAM 2.1 model: its name, its config in the package and its trunk's shape."""

    name: str
    config: str  # path inside the sam2 package
    embed_dim: int
    blocks: int


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("tiny", "configs/sam2.1/sam2.1_hiera_t.yaml", 96, 12),
        Variant("small", "configs/sam2.1/sam2.1_hiera_s.yaml", 96, 16),
        Variant("base_plus", "configs/sam2.1/sam2.1_hiera_b+.yaml", 112, 24),
        Variant("large", "configs/sam2.1/sam2.1_hiera_l.yaml", 144, 48),
    )
}


class UnknownLayout(ValueError):
    """The tensors are not those of any SAM 2.1 variant."""


def build_sam2(variant: str, image_size: int | None = None) -> SAM2Base:
    """A randomly initialised SAM 2.1 network of `variant` as the package builds it for video,
    in eval mode. `image_size` (a multiple of 64) overrides the config's 1024 (tests only)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown SAM 2.1 variant {variant!r}; known: {', '.join(VARIANTS)}")
    config = OmegaConf.load(str(files("sam2") / VARIANTS[variant].config))
    overrides = list(_VIDEO_OVERRIDES)
    if image_size is not None:
        if image_size < 64 or image_size % 64:
            raise ValueError(f"image size {image_size} is not a positive multiple of 64")
        overrides.append(f"model.image_size={image_size}")
    config = OmegaConf.merge(config, OmegaConf.from_dotlist(overrides))
    OmegaConf.resolve(config)
    model = instantiate(config.model, _recursive_=True)
    if not isinstance(model, SAM2Base):
        raise TypeError(f"the {variant} config does not build a SAM2Base")
    return model.eval()


def detect_variant(state: Mapping[str, torch.Tensor]) -> str:
    """'tiny', 'small', 'base_plus' or 'large' from the shapes of the image trunk's tensors."""
    patch = state.get(_PATCH_KEY)
    if not isinstance(patch, torch.Tensor) or not any(k.startswith("memory_attention.")
                                                      for k in state):
        raise UnknownLayout(f"no SAM 2 image trunk ({_PATCH_KEY}) or memory attention in it")
    if patch.ndim == 0:
        raise UnknownLayout(f"{_PATCH_KEY} is not a weight tensor")
    width = int(patch.shape[0])
    numbers = {k[len(_BLOCK_PREFIX):].split(".")[0] for k in state if k.startswith(_BLOCK_PREFIX)}
    odd = sorted(n for n in numbers if not (n.isascii() and n.isdigit()))
    if odd:
        raise UnknownLayout(f"image trunk block {odd[0]!r} is not numbered as SAM 2's are")
    blocks = 1 + max(map(int, numbers), default=-1)
    found = next((v.name for v in VARIANTS.values() if (v.embed_dim, v.blocks) == (width, blocks)),
                 None)
    if found is None:
        raise UnknownLayout(f"an image trunk of width {width} and {blocks} blocks is no SAM 2.1 "
                            "variant")
    if not all(key in state for key in _SAM21_KEYS):
        raise UnknownLayout(f"a SAM 2.0 {found} checkpoint (it lacks {_SAM21_KEYS[0]}); use the "
                            "SAM 2.1 release")
    return found


def load_sam2(state: Mapping[str, torch.Tensor], image_size: int | None = None,
              ) -> tuple[SAM2Base, str]:
    """Build the detected variant and load `state` into it strictly."""
    variant = detect_variant(state)
    model = build_sam2(variant, image_size)
    try:
        model.load_state_dict(dict(state), strict=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).split("\n\t", 2)[:2])
        raise UnknownLayout(f"tensors do not match the SAM 2.1 {variant} layout: {first}") from exc
    return model.eval(), variant
