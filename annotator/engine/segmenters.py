"""The click segmenters the app can use, and the choice of the best one available."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from annotator.engine.device import describe_device, pick_device
from annotator.engine.fallback import load_or_fall_back
from annotator.engine.protocols import ClickPrediction
from annotator.engine.weights import SAM_PREFERENCE_CPU, SAM_PREFERENCE_GPU, find_weights
from annotator.engine.weights_load import load_sam_checkpoint
from annotator.errors import AnnotatorError
from models.classic.segmenter import ClassicSegmenter
from models.sam.segmenter import SamPredictorCore

ENGINES = ("auto", "sam", "classic")


class _CoreSegmenter:
    """A model core (arrays in, a (masks, scores, logits) tuple out) as a ClickSegmenter."""

    def __init__(self, core: Any, name: str) -> None:
        self.core = core
        self.name = name

    def set_image(self, frame: np.ndarray) -> None:
        self.core.set_image(frame)

    def predict(
        self,
        points: np.ndarray,
        labels: np.ndarray,
        box: np.ndarray | None = None,
        prior: np.ndarray | None = None,
        multimask: bool = True,
    ) -> ClickPrediction:
        masks, scores, logits = self.core.predict(points, labels, box, prior, multimask)
        return ClickPrediction(masks=masks, scores=scores, logits=logits)


class ClassicClickSegmenter(_CoreSegmenter):
    """The weights-free segmenter (GrabCut colour models, geodesic seeds, hard clicks)."""

    def __init__(self) -> None:
        core = ClassicSegmenter()
        super().__init__(core, core.name)


class SamClickSegmenter(_CoreSegmenter):
    """SAM or MobileSAM; `embed` / `set_embedding` let a session cache image embeddings."""

    def __init__(self, core: SamPredictorCore) -> None:
        super().__init__(core, core.name)
        self.variant = core.variant
        self.device = core.device

    def embed(self, frame: np.ndarray) -> Any:
        return self.core.embed(frame)

    def set_embedding(self, embedding: Any) -> None:
        self.core.set_embedding(embedding)


def load_sam_segmenter(path: str | Path, device: str | None = None) -> SamClickSegmenter:
    """SAM from a checkpoint file (variant read from its tensors) on the chosen device."""
    sam, variant = load_sam_checkpoint(path)
    return SamClickSegmenter(SamPredictorCore(sam, variant, pick_device(device)))


def make_click_segmenter(
    engine: str = "auto", weights: str | Path | None = None, device: str | None = None
) -> tuple[ClassicClickSegmenter | SamClickSegmenter, str]:
    """The segmenter to use and one line saying which it is and why.

    'auto': the given `weights`, else a registered or present SAM checkpoint (MobileSAM first
    on a CPU, the largest on a GPU), else the classic segmenter. 'sam' fails without a
    checkpoint; 'classic' never loads one.
    """
    if engine not in ENGINES:
        raise AnnotatorError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "classic":
        return ClassicClickSegmenter(), "classic segmenter (no learned weights)"
    path = Path(weights) if weights is not None else None
    if path is None:
        chosen = pick_device(device)
        order = SAM_PREFERENCE_CPU if chosen.type == "cpu" else SAM_PREFERENCE_GPU
        path = next((p for p in map(find_weights, order) if p is not None), None)
    if path is None:
        if engine == "sam":
            raise AnnotatorError(
                "no SAM checkpoint found: run `vos-annotator weights download vit_t` (or "
                "vit_b), `vos-annotator weights add FILE`, or pass --weights FILE"
            )
        return ClassicClickSegmenter(), (
            "classic segmenter (no SAM weights found: run `vos-annotator weights download "
            "vit_t` or `vos-annotator weights add FILE`)"
        )
    if engine == "auto" and weights is None:  # found, yet failing: classic, with a warning
        return load_or_fall_back(
            lambda: _sam(path, device),
            lambda: make_click_segmenter("classic"),
            "the SAM checkpoint of the weights folder",
        )
    return _sam(path, device)


def _sam(path: Path, device: str | None) -> tuple[SamClickSegmenter, str]:
    segmenter = load_sam_segmenter(path, device)
    return segmenter, f"{segmenter.name} on {describe_device(segmenter.device)} ({path.name})"
