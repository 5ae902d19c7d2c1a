"""Choice of the propagation engine: STCN when its checkpoint is at hand, else the classic one."""

from __future__ import annotations

from pathlib import Path

from annotator.engine.choices import PROPAGATION_ENGINES
from annotator.engine.device import describe_device, pick_device
from annotator.engine.engine_info import EngineInfo, cpu_info, precision_on
from annotator.engine.fallback import load_or_fall_back
from annotator.engine.weights import find_weights
from annotator.errors import AnnotatorError
from models.classic.propagator import ClassicPropagator
from models.protocols import Propagator

ENGINES = PROPAGATION_ENGINES
HOW_TO_GET_STCN = (
    "for the STCN memory network put the official stcn.pth in the weights folder "
    "(see `vos-annotator weights`) or pass --weights PATH"
)


def make_propagator(
    engine: str = "auto",
    weights: str | Path | None = None,
    device: str | None = None,
    top_k: int = 20,
    mem_every: int = 5,
    memory_frames: int | None = None,
    folder: str | Path | None = None,
) -> tuple[Propagator, EngineInfo]:
    """The propagator for `engine` and what it is and where it runs.

    "stcn" needs `weights` or the "stcn" checkpoint registered in the weights `folder` (default:
    the user's); "sam2" `weights` or the SAM 2.1 checkpoint of the `folder` that suits the
    device; "auto" takes STCN when either is there, else the weights-free classic propagator.
    `memory_frames` None is STCN's default budget.
    """
    if engine not in ENGINES:
        raise AnnotatorError(f"unknown propagation engine {engine!r} (one of {', '.join(ENGINES)})")
    if engine == "sam2":
        return _sam2(weights, device, folder)
    path = Path(weights) if weights is not None else None
    if path is None and engine in ("auto", "stcn"):
        path = find_weights("stcn", folder)
    if engine == "stcn" and path is None:
        raise AnnotatorError(f"no STCN checkpoint found: {HOW_TO_GET_STCN}")
    if engine == "classic" or path is None:
        line = f"classic propagator (no learned weights, CPU); {HOW_TO_GET_STCN}"
        return ClassicPropagator(), cpu_info("classic propagator", line)
    if engine == "auto" and weights is None:  # found, yet failing: classic, with a warning
        return load_or_fall_back(
            lambda: _stcn(path, device, top_k, mem_every, memory_frames),
            lambda: make_propagator("classic"),
            "the STCN checkpoint of the weights folder",
        )
    return _stcn(path, device, top_k, mem_every, memory_frames)


def _sam2(weights: str | Path | None, device: str | None, folder: str | Path | None,
          ) -> tuple[Propagator, EngineInfo]:
    from annotator.engine.sam2_loader import load_sam2_checkpoint
    from annotator.engine.sam2_weights import find_sam2_weights
    from models.sam2.propagator import Sam2Propagator

    path = Path(weights) if weights is not None else find_sam2_weights(device, folder)
    torch_device = pick_device(device)
    model, variant = load_sam2_checkpoint(path)
    where = describe_device(torch_device)
    precision = "bfloat16 autocast" if torch_device.type == "cuda" else "float32"
    line = (f"SAM 2.1 {variant} ({path.name}) on {where}, {precision}, memory: the keyframes "
            f"and the last {model.num_maskmem - 1} frames")
    return Sam2Propagator(model, torch_device), EngineInfo(f"SAM 2.1 {variant}", where,
                                                           precision, True, line)


def _stcn(
    path: Path, device: str | None, top_k: int, mem_every: int, memory_frames: int | None
) -> tuple[Propagator, EngineInfo]:
    from annotator.engine.stcn_loader import load_stcn
    from models.stcn.propagator import DEFAULT_MEMORY_FRAMES, STCNPropagator

    budget = DEFAULT_MEMORY_FRAMES if memory_frames is None else memory_frames
    if top_k < 1 or mem_every < 1 or budget < 1:
        raise AnnotatorError("top-k, memory every N and the memory budget must be at least 1")
    torch_device = pick_device(device)
    propagator = STCNPropagator(
        load_stcn(path),
        torch_device,
        top_k=top_k,
        mem_every=mem_every,
        memory_frames=budget,
    )
    where, precision = describe_device(torch_device), precision_on(torch_device)
    line = (
        f"STCN ({path.name}) on {where}, {precision}, top-k {top_k}, "
        f"a memory frame every {mem_every}, memory budget {budget} frames"
    )
    return propagator, EngineInfo("STCN", where, precision, True, line)
