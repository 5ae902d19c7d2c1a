"""Deterministic stand-in weights of the official `stcn.pth` layout (the fixture's rule).

No real checkpoint can be downloaded where the tests run, so the tests and benchmarks build one
tensor by tensor from its name: every tensor is drawn from a generator seeded by the CRC32 of
its name (`../shared/fixtures/stcn/README.md`). Saved with `torch.save`, the result is a file in
exactly the official format.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

KEY_PROJECTION_GAIN = 0.01  # weights of tensors under `key_proj.` are drawn this much smaller


def rule_tensor(name: str, shape: Sequence[int]) -> torch.Tensor:
    """The tensor the rule gives for `name` (float32; int64 zeros for batch-norm counters)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if name.endswith("num_batches_tracked"):
        return torch.zeros(tuple(shape), dtype=torch.int64)
    if name.endswith("running_mean"):
        values = 0.1 * rng.standard_normal(shape)
    elif name.endswith("running_var"):
        values = 1.0 + 0.5 * rng.random(shape)
    elif len(shape) == 1 and name.endswith("weight"):
        values = 1.0 + 0.1 * rng.standard_normal(shape)
    elif name.endswith("bias"):
        values = 0.05 * rng.standard_normal(shape)
    else:
        gain = KEY_PROJECTION_GAIN if name.startswith("key_proj.") else 1.0
        values = gain * np.sqrt(2 / np.prod(shape[1:])) * rng.standard_normal(shape)
    return torch.from_numpy(np.asarray(values, dtype=np.float32))


def rule_state_dict(keys: Iterable[Sequence[Any]]) -> dict[str, torch.Tensor]:
    """The state dict for `keys`: `[name, shape, dtype]` entries as in `state_dict_keys.json`."""
    return {str(name): rule_tensor(str(name), [int(n) for n in shape]) for name, shape, *_ in keys}
