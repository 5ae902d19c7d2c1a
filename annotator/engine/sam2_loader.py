"""A SAM 2.1 checkpoint file (the official `sam2.1_hiera_*.pt` layout) -> the network, loaded
strictly with the package's config of the variant its tensors hold."""

from __future__ import annotations

import os
from pathlib import Path

from sam2.modeling.sam2_base import SAM2Base

from annotator.engine.weights_load import read_state_dict
from annotator.errors import AnnotatorError
from models.sam2.variants import UnknownLayout, load_sam2

SIZE_VARIABLE = "VOS_ANNOTATOR_SAM2_SIZE"


def working_size() -> int | None:
    """The square size SAM 2.1 works at when `VOS_ANNOTATOR_SAM2_SIZE` sets one (a multiple of
    64: faster and coarser than the official 1024; for tests and benchmarks), else None."""
    text = os.environ.get(SIZE_VARIABLE, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 64 or int(text) % 64:
        raise AnnotatorError(f"{SIZE_VARIABLE}={text!r} is not a positive multiple of 64")
    return int(text)


def load_sam2_checkpoint(path: str | Path, image_size: int | None = None,
                         ) -> tuple[SAM2Base, str]:
    """The network and its variant ('tiny', 'small', 'base_plus', 'large'), on the CPU in eval
    mode, working at `image_size`, else `working_size()`, else the config's 1024."""
    state = read_state_dict(path)
    try:
        return load_sam2(state, image_size if image_size is not None else working_size())
    except UnknownLayout as exc:
        raise AnnotatorError(f"not a SAM 2.1 checkpoint: {exc}", path) from exc
