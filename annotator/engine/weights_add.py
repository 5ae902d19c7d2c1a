"""`weights add`: check a checkpoint a person already has, then register or copy it.

The check is the loading `segment` and `propagate` do, strict on tensor names and shapes (SAM
is built on the meta device for it, so nothing big is allocated): a file that would not load
is refused with the names of the tensors at fault, and nothing is registered.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from annotator.engine.stcn_loader import load_stcn
from annotator.engine.weights import (
    KNOWN,
    canonical_name,
    read_registry,
    sha256_of,
    weights_dir,
    write_registry,
)
from annotator.engine.weights_load import read_state_dict
from annotator.errors import AnnotatorError
from annotator.formats.atomic import atomic_open, remove_stale_temporaries
from models.sam.variants import UnknownLayout, detect_variant, load_sam
from models.sam2.variants import UnknownLayout as Sam2Layout
from models.sam2.variants import detect_variant as detect_sam2_variant
from models.sam2.variants import load_sam2

_STCN_PREFIXES = ("key_encoder.", "value_encoder.", "key_proj.", "key_comp.", "decoder.")


@dataclass(frozen=True)
class AddedWeights:
    name: str
    path: Path  # where the registry finds it now
    sha256: str
    official: bool | None  # matches the published sum; None when no sum is published


def identify(path: Path, state: Mapping[str, torch.Tensor]) -> str:
    """Which known weights the tensors `state` of `path` hold: a SAM variant, a SAM 2.1
    variant ('sam2.1_tiny', ...) or 'stcn'."""
    if any(k.startswith("memory_attention.") for k in state):
        try:
            return f"sam2.1_{detect_sam2_variant(state)}"
        except Sam2Layout as exc:
            raise AnnotatorError(f"not a SAM 2.1 checkpoint ({exc})", path) from exc
    try:
        return detect_variant(state)
    except UnknownLayout as sam_problem:
        if all(k.startswith(_STCN_PREFIXES) for k in state) and any(
            k.startswith("key_encoder.") for k in state
        ):
            return "stcn"
        raise AnnotatorError(f"neither a SAM nor an STCN checkpoint ({sam_problem})",
                             path) from sam_problem


def check_loads(path: Path, key: str, state: Mapping[str, torch.Tensor]) -> None:
    """Load the checkpoint as `segment` / `propagate` will; AnnotatorError when it would fail."""
    if KNOWN[key].kind == "stcn":
        load_stcn(path)
        return
    if KNOWN[key].kind == "sam2":  # its trunk cannot be built on the meta device
        try:
            load_sam2(state)
        except Sam2Layout as exc:
            raise AnnotatorError(f"not a loadable SAM 2.1 checkpoint: {exc}", path) from exc
        return
    try:
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "copying into a meta parameter is a no-op"
            load_sam(state)
    except UnknownLayout as exc:
        raise AnnotatorError(f"not a loadable SAM checkpoint: {exc}", path) from exc


def add_weights(path: str | Path, name: str | None = None, copy: bool = False,
                folder: str | Path | None = None) -> AddedWeights:
    """Verify `path` holds the weights it claims (or identify them), that they load, and
    register it in the weights `folder` (default: the user's).

    With `copy`, the file is copied into the weights folder under its usual name; otherwise
    the registry records where it is, with its size and SHA-256 sum.
    """
    path = Path(path).expanduser().resolve()
    state = read_state_dict(path)
    found = identify(path, state)
    key = canonical_name(name) if name else found
    if key != found:
        raise AnnotatorError(f"this checkpoint holds {found}, not {key}", path)
    check_loads(path, key, state)
    known = KNOWN[key]
    digest = sha256_of(path)
    official = None if known.sha256 is None else digest == known.sha256
    size = path.stat().st_size
    entries = read_registry(folder)
    if copy:
        target = weights_dir(folder) / known.filename
        remove_stale_temporaries(target.parent)
        if target.resolve() != path:
            with open(path, "rb") as source, atomic_open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
        location = target
        if known.record_first_sum:  # no published sum: this file's is the reference
            entries[key] = {"path": str(target), "size": size, "sha256": digest}
        else:
            entries.pop(key, None)
    else:
        location = path
        entries[key] = {"path": str(path), "size": size, "sha256": digest}
    write_registry(entries, folder)
    return AddedWeights(key, location, digest, official)
