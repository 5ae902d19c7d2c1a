"""The names engines are chosen by (light to import: no model code comes with them)."""

from __future__ import annotations

from typing import Literal, get_args

ClickEngine = Literal["auto", "sam", "classic"]
CLICK_ENGINES: tuple[ClickEngine, ...] = get_args(ClickEngine)
PropagationEngine = Literal["auto", "stcn", "classic"]
PROPAGATION_ENGINES: tuple[PropagationEngine, ...] = get_args(PropagationEngine)
