"""SAM 2.1 propagation equals the `sam2` package's own SAM2VideoPredictor given the same
prompts, on a short DAVIS clip with prompt-sensitive random weights (tests/sam2_weights.py);
deliberately wrong engines fail the same comparison."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from sam2.build_sam import build_sam2_video_predictor
from sam2_weights import IMAGE_SIZE, prompt_sensitive_model, save_official

from annotator.engine.sam2_loader import load_sam2_checkpoint
from models.sam2 import propagator as sam2_propagator
from models.sam2.frames import MEAN, STD
from models.sam2.propagator import Sam2Propagator, labels_from_logits
from models.sam2.variants import VARIANTS

FRAMES = 5
SIZE = (60, 107)  # small frames: the model works at IMAGE_SIZE whatever their size
AGREEMENT = 0.999


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sam2")
    return save_official(prompt_sensitive_model(seed=0), folder / "sam2.1_hiera_tiny.pt")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, davis_root: Path,
         ) -> tuple[Path, list[np.ndarray], np.ndarray]:
    """A folder of JPEGs named as the package wants them (0.jpg, ...), the frames decoded
    from them, and a label map of frame 0: the bear (1) and a box in the top left corner (2)."""
    folder = tmp_path_factory.mktemp("clip")
    sources = sorted((davis_root / "JPEGImages" / "480p" / "bear").glob("*.jpg"))[:FRAMES]
    frames = []
    for index, source in enumerate(sources):
        with Image.open(source) as image:
            image.convert("RGB").resize(SIZE[::-1]).save(folder / f"{index}.jpg", quality=95)
        with Image.open(folder / f"{index}.jpg") as saved:
            frames.append(np.array(saved.convert("RGB")))
    mask_file = sorted((davis_root / "Annotations" / "480p" / "bear").glob("*.png"))[0]
    with Image.open(mask_file) as mask:
        labels = (np.array(mask.resize(SIZE[::-1], Image.Resampling.NEAREST)) > 0).astype(np.uint8)
    labels[: SIZE[0] // 4, : SIZE[1] // 4] = 2
    return folder, frames, labels


@pytest.fixture(scope="module")
def engine(checkpoint: Path) -> Sam2Propagator:
    model, variant = load_sam2_checkpoint(checkpoint, IMAGE_SIZE)
    assert variant == "tiny"
    return Sam2Propagator(model, "cpu")


def package_labels(checkpoint: Path, folder: Path, keyframes: Mapping[int, np.ndarray],
                   start: int, count: int, reverse: bool, reach: int | None = None,
                   ) -> dict[int, np.ndarray]:
    """The package's labels of `count` frames after `start`: `add_new_mask` for every object
    on every keyframe (empty where it is absent), then `propagate_in_video`."""
    predictor = build_sam2_video_predictor(
        VARIANTS["tiny"].config, str(checkpoint), device="cpu",
        hydra_overrides_extra=[f"++model.image_size={IMAGE_SIZE}"],
    )
    if reach is not None:
        predictor.num_maskmem = predictor.max_obj_ptrs_in_encoder = reach
    ids = sorted({int(v) for labels in keyframes.values() for v in np.unique(labels)} - {0})
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package warns that its CUDA hole filling is absent
        state = predictor.init_state(str(folder))
        for index, labels in keyframes.items():
            for object_id in ids:
                predictor.add_new_mask(state, index, object_id, labels == object_id)
        for index, objects, logits in predictor.propagate_in_video(
            state, start_frame_idx=start, max_frame_num_to_track=count, reverse=reverse
        ):
            if index != start:
                results[index] = labels_from_logits(logits, objects)
    return results


def ours(engine: Sam2Propagator, frames: list[np.ndarray], keyframes: Mapping[int, np.ndarray],
         targets: list[int]) -> dict[int, np.ndarray]:
    return {f.index: f.labels for f in engine.propagate(frames, keyframes, targets)}


def agreement(ours: Mapping[int, np.ndarray], theirs: Mapping[int, np.ndarray],
              ) -> dict[int, float]:
    """Per frame of `ours`, the fraction of pixels with the same label in `theirs`."""
    return {index: float((labels == theirs[index]).mean()) for index, labels in ours.items()}


@pytest.fixture(scope="module")
def late_object(clip: tuple[Path, list[np.ndarray], np.ndarray],
                ) -> dict[int, np.ndarray]:
    """Keyframes 0 (the bear only) and 1 (the bear and the box, which appears there)."""
    _, _, labels = clip
    first = np.where(labels == 2, 0, labels).astype(np.uint8)
    return {0: first, 1: labels}


@pytest.fixture(scope="module")
def package_late(checkpoint: Path, clip: tuple[Path, list[np.ndarray], np.ndarray],
                 late_object: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    return package_labels(checkpoint, clip[0], late_object, start=1, count=2, reverse=False)


def test_forward_with_an_object_appearing_on_a_later_keyframe_equals_the_package(
    engine: Sam2Propagator, clip: tuple[Path, list[np.ndarray], np.ndarray],
    late_object: dict[int, np.ndarray], package_late: dict[int, np.ndarray],
) -> None:
    result = ours(engine, clip[1], late_object, [2, 3])
    scores = agreement(result, package_late)
    assert sorted(scores) == sorted(package_late)
    assert min(scores.values()) >= AGREEMENT, scores
    for labels in result.values():  # both objects are carried
        assert 0.5 < (labels == 1).sum() / (late_object[1] == 1).sum() < 2
        assert (labels == 2).any()


def test_backward_two_objects_beyond_the_memory_reach_equal_the_package(
    checkpoint: Path, clip: tuple[Path, list[np.ndarray], np.ndarray],
) -> None:
    """With the reach cut to 3 (memory frames and object pointers) the memory drops frames
    within this short clip, so what it keeps is what the package reads."""
    folder, frames, labels = clip
    model, _ = load_sam2_checkpoint(checkpoint, IMAGE_SIZE)
    model.num_maskmem = model.max_obj_ptrs_in_encoder = 3
    engine = Sam2Propagator(model)
    last = FRAMES - 1
    result = ours(engine, frames, {last: labels}, list(range(last - 1, -1, -1)))
    assert engine.last_memory_frames == 1 + 2  # the keyframe and the two frames it can read
    expected = package_labels(checkpoint, folder, {last: labels}, start=last, count=last,
                              reverse=True, reach=3)
    scores = agreement(result, expected)
    assert sorted(scores) == list(range(last))
    assert min(scores.values()) >= AGREEMENT, scores


def test_moving_the_keyframe_mask_changes_the_result(
    engine: Sam2Propagator, clip: tuple[Path, list[np.ndarray], np.ndarray],
    late_object: dict[int, np.ndarray], package_late: dict[int, np.ndarray],
) -> None:
    """The weights make prompts matter, so the comparison can tell engines apart."""
    moved = {index: np.roll(labels, 16, axis=1) for index, labels in late_object.items()}
    scores = agreement(ours(engine, clip[1], moved, [2]), package_late)
    assert max(scores.values()) < 0.95, scores


def _bilinear_frame(frame: np.ndarray, size: int, device: torch.device) -> torch.Tensor:
    image = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255
    image = F.interpolate(image, size=(size, size), mode="bilinear", align_corners=False)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return ((image - mean) / std).to(device)


def _centre_clicks(self: Any, labels: np.ndarray) -> dict[str, Any]:
    """A positive click at each object's centre instead of its mask (no click where the
    object is absent)."""
    points, codes = [], []
    for object_id in self.ids:
        ys, xs = np.nonzero(labels == object_id)
        present = len(xs) > 0
        points.append([xs.mean() / labels.shape[1] * self.model.image_size if present else 0.0,
                       ys.mean() / labels.shape[0] * self.model.image_size if present else 0.0])
        codes.append([1 if present else -1])
    clicks = {"point_coords": torch.tensor(points, dtype=torch.float32).unsqueeze(1),
              "point_labels": torch.tensor(codes, dtype=torch.int32)}
    return {"point_inputs": clicks, "mask_inputs": None}


@pytest.fixture(params=["bilinear frame resize", "a click instead of the mask"])
def wrong_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                 engine: Sam2Propagator) -> Iterator[Sam2Propagator]:
    if request.param == "bilinear frame resize":
        monkeypatch.setattr(sam2_propagator, "video_frame_tensor", _bilinear_frame)
    else:
        monkeypatch.setattr(sam2_propagator._Pass, "keyframe_prompts", _centre_clicks)
    return engine


def test_a_wrong_engine_fails_the_comparison(
    wrong_engine: Sam2Propagator, clip: tuple[Path, list[np.ndarray], np.ndarray],
    late_object: dict[int, np.ndarray], package_late: dict[int, np.ndarray],
) -> None:
    scores = agreement(ours(wrong_engine, clip[1], late_object, [2]), package_late)
    assert min(scores.values()) < AGREEMENT, scores
