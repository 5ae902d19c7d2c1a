"""SAM 2.1 checkpoints (official layout, random weights from a fixed seed) loaded strictly, and
the click engine proved equal to the `sam2` package's own SAM2ImagePredictor."""

from __future__ import annotations

import inspect
import warnings
from dataclasses import astuple
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from sam2.build_sam import build_sam2 as package_build_sam2
from sam2.modeling.backbones.hieradet import Hiera
from sam2.sam2_image_predictor import SAM2ImagePredictor
from sam2_weights import IMAGE_SIZE, plain_model, save_official

from annotator.engine import sam2_loader
from annotator.engine.click_session import ClickSession
from annotator.engine.sam2_loader import load_sam2_checkpoint
from annotator.engine.sam2_weights import PREFERENCE_GPU, find_sam2_weights
from annotator.engine.segmenters import make_click_segmenter
from annotator.engine.weights import find_weights
from annotator.engine.weights_add import add_weights
from annotator.errors import AnnotatorError
from models.sam.variants import build_sam
from models.sam2.click import Sam2ClickSegmenter
from models.sam2.variants import VARIANTS, detect_variant

H, W = 90, 120


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_official(plain_model(seed=0), tmp_path_factory.mktemp("sam2") / "tiny.pt")


@pytest.fixture(scope="module")
def state(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, weights_only=True)["model"]


@pytest.fixture(scope="module")
def frame(davis_root: Path) -> np.ndarray:
    source = sorted((davis_root / "JPEGImages" / "480p" / "hike").glob("*.jpg"))[0]
    with Image.open(source) as image:
        return np.array(image.convert("RGB").resize((W, H)))


@pytest.fixture(scope="module")
def core(checkpoint: Path, frame: np.ndarray) -> Sam2ClickSegmenter:
    """The click core on `frame` (tests that change its image use a core of their own)."""
    model, variant = load_sam2_checkpoint(checkpoint, IMAGE_SIZE)
    clicks = Sam2ClickSegmenter(model, variant)
    clicks.set_image(frame)
    return clicks


@pytest.fixture(scope="module")
def reference(checkpoint: Path, frame: np.ndarray) -> SAM2ImagePredictor:
    """The package's image predictor on the same file; it assumes the 1024 model's feature
    sizes, so they are set for IMAGE_SIZE."""
    model = package_build_sam2(VARIANTS["tiny"].config, str(checkpoint), device="cpu",
                               hydra_overrides_extra=[f"++model.image_size={IMAGE_SIZE}"])
    predictor = SAM2ImagePredictor(model)
    side = IMAGE_SIZE // 4
    predictor._bb_feat_sizes = [(side, side), (side // 2, side // 2), (side // 4, side // 4)]
    predictor.set_image(frame)
    return predictor


def test_checkpoint_loads_strictly_with_every_tensor(checkpoint: Path,
                                                     state: dict[str, torch.Tensor]) -> None:
    model, variant = load_sam2_checkpoint(checkpoint, IMAGE_SIZE)
    assert variant == "tiny"
    loaded = model.state_dict()
    assert set(loaded) == set(state) and len(state) == 471
    for name in ("image_encoder.trunk.blocks.11.attn.qkv.weight", "no_obj_embed_spatial",
                 "memory_attention.layers.3.cross_attn_image.v_proj.weight",
                 "sam_mask_decoder.pred_obj_score_head.layers.2.bias"):
        assert torch.equal(loaded[name], state[name])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_official_variant_is_told_from_its_tensor_shapes(
    variant: str, state: dict[str, torch.Tensor],
) -> None:
    """The trunk's width and depth per variant are the package's (its config, else Hiera's
    defaults); a state with those
    shapes (names of the tiny checkpoint, trunk resized) is told apart."""
    config = OmegaConf.load(str(files("sam2") / VARIANTS[variant].config))
    trunk = config.model.image_encoder.trunk
    stages = trunk.get("stages", inspect.signature(Hiera).parameters["stages"].default)
    width, depth = int(trunk.embed_dim), sum(stages)
    assert (VARIANTS[variant].embed_dim, VARIANTS[variant].blocks) == (width, depth)
    shapes = {k: v for k, v in state.items() if not k.startswith("image_encoder.trunk.blocks.")}
    shapes["image_encoder.trunk.patch_embed.proj.weight"] = torch.empty(width, 3, 7, 7)
    shapes.update({f"image_encoder.trunk.blocks.{i}.norm1.weight": torch.empty(width)
                   for i in range(depth)})
    assert detect_variant(shapes) == variant


def test_wrong_files_get_a_clear_message(tmp_path: Path, checkpoint: Path,
                                         state: dict[str, torch.Tensor]) -> None:
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(checkpoint.read_bytes()[: 1 << 20])
    with pytest.raises(AnnotatorError, match="truncated") as caught:
        load_sam2_checkpoint(truncated)
    assert str(truncated) in str(caught.value)

    sam = tmp_path / "mobile_sam.pt"
    with torch.device("meta"):
        torch.save({k: torch.zeros(1) for k in build_sam("vit_t").state_dict()}, sam)
    with pytest.raises(AnnotatorError, match=r"not a SAM 2.1 checkpoint.*memory attention"):
        load_sam2_checkpoint(sam)

    missing = tmp_path / "missing.pt"
    torch.save({"model": {k: v for k, v in state.items() if "layers.2.linear1" not in k}},
               missing)
    with pytest.raises(AnnotatorError, match=r"memory_attention.layers.2.linear1.weight"):
        load_sam2_checkpoint(missing, IMAGE_SIZE)

    odd = tmp_path / "odd_blocks.pt"  # a hostile key, and a scalar where the patch weight is
    torch.save({"model": {**state, "image_encoder.trunk.blocks.x1.norm1.weight": torch.zeros(1)}},
               odd)
    with pytest.raises(AnnotatorError, match="block 'x1' is not numbered"):
        load_sam2_checkpoint(odd)
    torch.save({"model": {**state, "image_encoder.trunk.patch_embed.proj.weight": torch.zeros(())}},
               odd)
    with pytest.raises(AnnotatorError, match=r"proj.weight is not a weight tensor"):
        load_sam2_checkpoint(odd)

    older = tmp_path / "sam2_hiera_tiny.pt"
    torch.save({"model": {k: v for k, v in state.items() if "no_obj_embed" not in k}}, older)
    with pytest.raises(AnnotatorError, match=r"SAM 2.0 tiny"):
        load_sam2_checkpoint(older)


def test_working_size_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sam2_loader.SIZE_VARIABLE, "256")
    assert sam2_loader.working_size() == 256
    monkeypatch.setenv(sam2_loader.SIZE_VARIABLE, "100")
    with pytest.raises(AnnotatorError, match="multiple of 64"):
        sam2_loader.working_size()


PROMPTS = [
    {"points": np.array([[60.0, 40.0]]), "labels": np.array([1])},
    {"points": np.array([[60.0, 40.0], [20.0, 70.0]]), "labels": np.array([1, 0]),
     "box": np.array([30.0, 20.0, 100.0, 80.0])},
    {"points": np.zeros((0, 2)), "labels": np.zeros(0), "box": np.array([5.0, 5.0, 50, 60])},
]


@pytest.mark.parametrize("prompt", PROMPTS, ids=["click", "clicks and box", "box"])
def test_clicks_equal_the_package_image_predictor(core: Sam2ClickSegmenter,
                                                  reference: SAM2ImagePredictor,
                                                  prompt: dict[str, np.ndarray]) -> None:
    masks, scores, logits = astuple(core.predict(**prompt))
    has_points = len(prompt["points"]) > 0
    theirs = reference.predict(
        point_coords=prompt["points"] if has_points else None,
        point_labels=prompt["labels"] if has_points else None, box=prompt.get("box"),
    )
    order = np.argsort(-theirs[1], kind="stable")
    np.testing.assert_allclose(logits, theirs[2][order], atol=1e-5)
    np.testing.assert_allclose(scores, theirs[1][order], atol=1e-6)
    assert np.array_equal(masks, theirs[0][order].astype(bool))
    assert masks.shape == (3, H, W) and logits.shape == (3, IMAGE_SIZE // 4, IMAGE_SIZE // 4)
    # refining: the best candidate's logits fed back with one more click, one mask out
    more = np.vstack([prompt["points"], [[90.0, 30.0]]])
    labels = np.append(prompt["labels"], 1)
    refined = core.predict(more, labels, prompt.get("box"), logits[:1], multimask=False)
    theirs = reference.predict(more, labels, prompt.get("box"), logits[:1],
                               multimask_output=False)
    np.testing.assert_allclose(refined.logits, theirs[2], atol=1e-5)


def test_a_click_elsewhere_or_a_wrong_resize_changes_the_logits(core: Sam2ClickSegmenter,
                                                                 frame: np.ndarray) -> None:
    """Guards the comparison above: these weights react to where the click is and to how the
    frame is resized, far beyond its tolerance."""
    click = PROMPTS[0]
    logits = core.predict(**click).logits
    moved = core.predict(click["points"] + 16, click["labels"]).logits
    assert np.abs(moved - logits).max() > 0.01

    original = core.transforms
    wrong = Sam2ClickSegmenter(core.model, core.variant)

    class BicubicFirst:
        """Pillow's bicubic resize (the video predictor's), then the package's transforms."""

        def __call__(self, image: np.ndarray) -> torch.Tensor:
            resized = np.asarray(Image.fromarray(image).resize((IMAGE_SIZE, IMAGE_SIZE)))
            tensor = torch.from_numpy(resized / 255.0).float().permute(2, 0, 1)
            return original.transforms(tensor)

    wrong.transforms = BicubicFirst()  # type: ignore[assignment]
    wrong.set_image(frame)
    resized = wrong.predict(**click).logits
    assert np.abs(resized - logits).max() > 0.01


def test_click_session_caches_and_prefetches_embeddings(checkpoint: Path, frame: np.ndarray,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sam2_loader.SIZE_VARIABLE, str(IMAGE_SIZE))
    segmenter, info = make_click_segmenter("sam2", checkpoint, "cpu")
    assert isinstance(segmenter, Sam2ClickSegmenter) and segmenter.variant == "tiny"
    assert info.name == "SAM 2.1 tiny" and info.learned and info.precision == "float32"
    assert info.line.startswith("SAM 2.1 tiny on CPU")
    session = ClickSession(segmenter)
    assert session.prefetch(1, frame[::-1].copy())
    assert not session.prefetch(1, frame[::-1].copy())  # cached already
    session.set_frame(0, frame)
    assert sorted(session.cache.indices()) == [0, 1] and session.cache.nbytes > 0
    first = session.add_click(60, 40, True)
    assert len(first.masks) == 3 and first.masks.shape[1:] == (H, W)
    second = session.add_click(90, 30, True)
    assert len(second.masks) == 1
    assert session.undo_click() is first


def test_sam2_engine_without_weights_says_what_to_do(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOS_ANNOTATOR_WEIGHTS", str(tmp_path))
    with pytest.raises(AnnotatorError, match=r"weights download sam2.1_tiny"):
        make_click_segmenter("sam2", device="cpu")


def test_weights_add_identifies_and_records_a_sam2_checkpoint(
    checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOS_ANNOTATOR_WEIGHTS", str(tmp_path / "weights"))
    added = add_weights(checkpoint, copy=True)
    assert added.name == "sam2.1_tiny" and added.official is None
    assert find_weights("sam2.1_hiera_tiny") == tmp_path / "weights" / "sam2.1_hiera_tiny.pt"
    with pytest.raises(AnnotatorError, match=r"holds sam2.1_tiny, not sam2.1_large"):
        add_weights(checkpoint, "sam2.1_large")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing of it is loaded with full pickle
        assert torch.load(added.path, weights_only=True)["model"].keys()


def test_the_checkpoint_that_suits_the_device_is_found(tmp_path: Path) -> None:
    for name in ("sam2.1_hiera_large.pt", "sam2.1_hiera_small.pt"):
        (tmp_path / name).write_bytes(b"")
    assert find_sam2_weights("cpu", tmp_path) == tmp_path / "sam2.1_hiera_small.pt"
    assert PREFERENCE_GPU[0] == "sam2.1_large"  # a GPU takes the largest present
