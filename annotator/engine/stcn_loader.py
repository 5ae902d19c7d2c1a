"""An STCN checkpoint file (the official `stcn.pth` layout) -> the network, loaded strictly."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from annotator.engine.weights_load import read_state_dict
from annotator.errors import AnnotatorError
from models.stcn.network import STCN

STAGE0_KEY = "value_encoder.conv1.weight"
SHOWN = 3  # names listed in an error message


def load_stcn(path: str | Path) -> STCN:
    """The STCN network with the checkpoint's weights, on the CPU in eval mode.

    A stage-0 checkpoint (value encoder fed image + one mask, 4 input channels) gets a zero
    kernel for the "other objects" channel, as the reference evaluation does. Missing,
    unexpected or misshapen tensors raise AnnotatorError naming the file and the tensors.
    """
    state = dict(read_state_dict(path))
    weight = state.get(STAGE0_KEY)
    if isinstance(weight, torch.Tensor) and weight.dim() == 4 and weight.shape[1] == 4:
        state[STAGE0_KEY] = torch.cat([weight, weight.new_zeros(weight.shape[0], 1, 7, 7)], 1)
    with torch.device("meta"):
        network = STCN()
    problem = _mismatch(network.state_dict(), state)
    if problem:
        raise AnnotatorError(f"not an STCN checkpoint: {problem}", path)
    network.load_state_dict(state, strict=True, assign=True)
    return network.float().eval()


def _mismatch(expected: Mapping[str, torch.Tensor], found: Mapping[str, torch.Tensor]) -> str:
    """What keeps `found` from loading strictly into `expected`; empty when nothing does."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    misshapen = [
        f"{name} is {_shape(found[name])}, expected {tuple(expected[name].shape)}"
        for name in sorted(set(expected) & set(found))
        if not isinstance(found[name], torch.Tensor) or found[name].shape != expected[name].shape
    ]
    parts = []
    if missing:
        parts.append(f"{len(missing)} tensors missing ({_names(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected tensors ({_names(unexpected)})")
    if misshapen:
        parts.append(f"{len(misshapen)} with the wrong shape ({_names(misshapen)})")
    return "; ".join(parts)


def _shape(value: object) -> str:
    return str(tuple(value.shape)) if isinstance(value, torch.Tensor) else type(value).__name__


def _names(items: list[str]) -> str:
    more = f", and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more
