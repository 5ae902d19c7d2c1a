"""Reading checkpoint files safely (`weights_only`) into models, with errors a person can act on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from segment_anything.modeling import Sam

from annotator.errors import AnnotatorError
from models.sam.variants import UnknownLayout, load_sam, unwrap_state_dict


def read_state_dict(path: str | Path) -> Mapping[str, torch.Tensor]:
    """The tensors of a checkpoint file, loaded without running any pickled code."""
    path = Path(path)
    if not path.is_file():
        raise AnnotatorError("checkpoint file not found", path)
    if path.stat().st_size == 0:
        raise AnnotatorError("checkpoint file is empty", path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # the unpickler of an untrusted file may fail in any way
        reason = _first_line(exc)
        raise AnnotatorError(f"not a readable PyTorch checkpoint, or truncated ({reason})",
                             path) from exc
    try:
        return unwrap_state_dict(checkpoint)
    except UnknownLayout as exc:
        raise AnnotatorError(f"not a model checkpoint: {exc}", path) from exc


def load_sam_checkpoint(path: str | Path) -> tuple[Sam, str]:
    """A SAM / MobileSAM model from its checkpoint, variant detected from the tensors."""
    state = read_state_dict(path)
    try:
        return load_sam(state)
    except UnknownLayout as exc:
        raise AnnotatorError(f"not a SAM checkpoint: {exc}", path) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
