"""The click segmenters the app can use, and the choice of the best one available."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from annotator.engine.choices import CLICK_ENGINES
from annotator.engine.device import describe_device, pick_device
from annotator.engine.engine_info import EngineInfo, cpu_info
from annotator.engine.fallback import load_or_fall_back
from annotator.engine.sam2_weights import find_sam2_weights
from annotator.engine.weights import SAM_PREFERENCE_CPU, SAM_PREFERENCE_GPU, find_weights
from annotator.errors import AnnotatorError
from models.classic.segmenter import ClassicSegmenter
from models.protocols import ClickSegmenter

if TYPE_CHECKING:  # torch and segment-anything load with the first SAM, not before
    from models.sam.segmenter import SamClickSegmenter

if TYPE_CHECKING:
    from models.sam2.click import Sam2ClickSegmenter

ENGINES = CLICK_ENGINES
GET_SAM = "`vos-annotator weights download vit_t` or `vos-annotator weights add FILE`"


def load_sam_segmenter(path: str | Path, device: str | None = None) -> SamClickSegmenter:
    """SAM from a checkpoint file (variant read from its tensors) on the chosen device."""
    from annotator.engine.weights_load import load_sam_checkpoint
    from models.sam.segmenter import SamClickSegmenter

    sam, variant = load_sam_checkpoint(path)
    return SamClickSegmenter(sam, variant, pick_device(device))


def load_sam2_segmenter(path: str | Path, device: str | None = None) -> Sam2ClickSegmenter:
    """SAM 2.1 from a checkpoint file (variant read from its tensors) on the chosen device."""
    from annotator.engine.sam2_loader import load_sam2_checkpoint
    from models.sam2.click import Sam2ClickSegmenter

    model, variant = load_sam2_checkpoint(path)
    return Sam2ClickSegmenter(model, variant, pick_device(device))


def make_click_segmenter(
    engine: str = "auto",
    weights: str | Path | None = None,
    device: str | None = None,
    folder: str | Path | None = None,
) -> tuple[ClickSegmenter, EngineInfo]:
    """The segmenter to use and what it is (its `line` says which and why).

    'auto': the given `weights`, else a registered or present SAM checkpoint in the weights
    `folder` (default: the user's) (MobileSAM first on a CPU, the largest on a GPU), else the
    classic segmenter. 'sam' fails without a checkpoint; 'sam2' takes `weights` or the SAM 2.1
    checkpoint of the `folder` that suits the device; 'classic' never loads one.
    """
    if engine not in ENGINES:
        raise AnnotatorError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "classic":
        return _classic("classic segmenter (no learned weights)")
    if engine == "sam2":
        return _sam2(Path(weights) if weights is not None else find_sam2_weights(device, folder),
                     device)
    path = Path(weights) if weights is not None else None
    if path is None:
        present = {n: p for n in SAM_PREFERENCE_CPU if (p := find_weights(n, folder)) is not None}
        if present:  # the device (and torch with it) is looked at only when there is a choice
            cpu = pick_device(device).type == "cpu"
            order = SAM_PREFERENCE_CPU if cpu else SAM_PREFERENCE_GPU
            path = next(present[n] for n in order if n in present)
    if path is None:
        if engine == "sam":
            raise AnnotatorError(
                "no SAM checkpoint found: run `vos-annotator weights download vit_t` (or "
                "vit_b), `vos-annotator weights add FILE`, or pass --weights FILE"
            )
        return _classic(f"classic segmenter (no SAM weights found: run {GET_SAM})")
    if engine == "auto" and weights is None:  # found, yet failing: classic, with a warning
        return load_or_fall_back(
            lambda: _sam(path, device),
            lambda: make_click_segmenter("classic"),
            "the SAM checkpoint of the weights folder",
        )
    return _sam(path, device)


def _sam(path: Path, device: str | None) -> tuple[ClickSegmenter, EngineInfo]:
    segmenter = load_sam_segmenter(path, device)
    where = describe_device(segmenter.device)
    precision = "fp16 image encoder" if segmenter.half else "float32"
    return segmenter, EngineInfo(segmenter.name, where, precision, True,
                                 f"{segmenter.name} on {where} ({path.name})")


def _sam2(path: Path, device: str | None) -> tuple[ClickSegmenter, EngineInfo]:
    segmenter = load_sam2_segmenter(path, device)
    where = describe_device(segmenter.device)
    precision = "bfloat16 autocast" if segmenter.device.type == "cuda" else "float32"
    return segmenter, EngineInfo(segmenter.name, where, precision, True,
                                 f"{segmenter.name} on {where} ({path.name})")


def _classic(line: str) -> tuple[ClickSegmenter, EngineInfo]:
    return ClassicSegmenter(), cpu_info("classic segmenter", line)
