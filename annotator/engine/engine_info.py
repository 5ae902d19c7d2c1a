"""What an engine is and where it runs, as data: the GUI and the CLI show it, nobody parses it."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class EngineInfo:
    """One loaded engine: `name` ("STCN", "SAM vit_b", "classic propagator"), the `device` it
    runs on, its `precision`, whether it uses `learned` weights, and `line`: one sentence for
    a person (with advice when a better engine could be had)."""

    name: str
    device: str
    precision: str
    learned: bool
    line: str

    def __str__(self) -> str:
        return self.line

    def after_failure(self) -> EngineInfo:
        """The same engine, taken because the chosen one failed to load."""
        return replace(self, line=f"{self.line} (the chosen engine failed to load)")

    def with_warning(self, warning: str) -> EngineInfo:
        """The same engine, its line ending with `warning`."""
        return replace(self, line=f"{self.line}; WARNING: {warning}")


def precision_on(device: torch.device) -> str:
    """The precision the learned engines use on `device`: fp16 autocast on CUDA."""
    return "fp16 autocast" if device.type == "cuda" else "float32"


def cpu_info(name: str, line: str) -> EngineInfo:
    """A weights-free engine: it runs on the CPU in float32 (and needs no torch)."""
    return EngineInfo(name, f"CPU ({os.cpu_count() or 1} cores)", "float32", False, line)
