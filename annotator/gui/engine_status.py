"""What the GUI knows of the engine in a worker (loading, loaded, failed) and the status-bar
line and advice made from the engines' EngineInfo records."""

from __future__ import annotations

from annotator.engine.engine_info import EngineInfo

LOADING = "loading…"
FAILED = "none (failed to load)"
SAM2_ADVICE = ("SAM 2.1 does both (the sam2 engine): Help > Better engines downloads "
               "sam2.1_tiny, or sam2.1_large for a GPU.")
CLICK_ADVICE = ("For better click masks add SAM weights: Help > Better engines downloads MobileSAM "
                "(vit_t, fast on a CPU) or SAM vit_b, or adds a checkpoint you have "
                "(vit_b / vit_l / vit_h). " + SAM2_ADVICE)
PROPAGATION_ADVICE = ("For better propagation add the STCN weights: Help > Better engines > "
                      "Add a file… (stcn.pth). " + SAM2_ADVICE)


class EngineStatus:
    """The engine of one worker: None while loading, its EngineInfo once loaded; `failed`
    when loading failed and nothing was loaded instead."""

    def __init__(self) -> None:
        self.info: EngineInfo | None = None
        self.failed = False

    @property
    def loading(self) -> bool:
        return self.info is None and not self.failed

    @property
    def description(self) -> str:
        """One line: the engine's own, or that it is loading or failed."""
        if self.info is not None:
            return self.info.line
        return FAILED if self.failed else LOADING

    @property
    def name(self) -> str:
        if self.info is not None:
            return self.info.name
        return FAILED if self.failed else LOADING

    def start_loading(self) -> None:
        self.info, self.failed = None, False

    def set_loaded(self, info: EngineInfo) -> None:
        self.info, self.failed = info, False

    def set_failed(self) -> bool:
        """Loading failed; True when this changes what is shown (nothing else was loaded)."""
        if not self.loading:
            return False
        self.failed = True
        return True

    @property
    def classic(self) -> bool:
        """A weights-free engine is in use (a learned one could do better)."""
        return self.info is not None and not self.info.learned


def summary(click: EngineStatus, propagation: EngineStatus) -> str:
    """One short line for the status bar; `advice` has the whole story."""
    devices = sorted({s.info.device for s in (click, propagation) if s.info is not None})
    hint = "  (Help > Better engines)" if click.classic or propagation.classic else ""
    return (f"Clicks: {click.name} | Propagation: {propagation.name} | "
            f"Device: {', '.join(devices) or LOADING}{hint}")


def advice(click: EngineStatus, propagation: EngineStatus) -> str:
    """Which engines are in use and how to get better ones."""
    lines = [f"Clicks: {click.description}", f"Propagation: {propagation.description}", ""]
    if click.classic:
        lines.append(CLICK_ADVICE)
    if propagation.classic:
        lines.append(PROPAGATION_ADVICE)
    lines.append("Choose engines, device and weights folder in File > Settings; the engines "
                 "switch as soon as weights arrive.")
    return "\n".join(lines)
