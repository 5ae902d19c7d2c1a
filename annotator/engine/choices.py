"""The names engines are chosen by (light to import: no model code comes with them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

ClickEngine = Literal["auto", "sam", "sam2", "classic"]
CLICK_ENGINES: tuple[ClickEngine, ...] = get_args(ClickEngine)
PropagationEngine = Literal["auto", "stcn", "sam2", "classic"]
PROPAGATION_ENGINES: tuple[PropagationEngine, ...] = get_args(PropagationEngine)


@dataclass(frozen=True)
class PropagationOptions:
    """How to build a propagator: `make_propagator`'s arguments by name, as plain values that
    travel to worker processes and Ray tasks. An engine option is added here, in
    `make_propagator` and in the commands' `add_engine_options`, nowhere else."""

    engine: str = "auto"
    weights: str | None = None
    device: str | None = None
    top_k: int = 20
    mem_every: int = 5
    memory_frames: int | None = None
