"""SAM plumbing with randomly initialised models of the official layouts, saved as checkpoint
files and loaded back through the same path as real ones."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from annotator.engine.click_session import ClickSession
from annotator.engine.segmenters import load_sam_segmenter, make_click_segmenter
from annotator.engine.weights_load import load_sam_checkpoint
from annotator.errors import AnnotatorError
from models.sam.segmenter import SamEmbedding
from models.sam.variants import build_sam, detect_variant, unwrap_state_dict

H, W = 120, 160


@pytest.fixture(scope="module")
def vit_t_file(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("sam") / "mobile_sam.pt"
    torch.save(build_sam("vit_t").state_dict(), path)
    return path


@pytest.fixture(scope="module")
def segmenter(vit_t_file):
    return load_sam_segmenter(vit_t_file, "cpu")


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 60, (H, W, 3), dtype=np.uint8)
    image[30:90, 40:110] = (200, 180, 40)
    return image


@pytest.fixture(scope="module")
def embedding(segmenter, frame) -> SamEmbedding:
    return segmenter.embed(frame)


def test_vit_t_checkpoint_loads_with_every_tensor(vit_t_file):
    saved = torch.load(vit_t_file, weights_only=True)
    model, variant = load_sam_checkpoint(vit_t_file)
    assert variant == "vit_t"
    loaded = model.state_dict()
    assert set(saved) == set(loaded)
    # MobileSAM key layout: TinyViT stem, attention stages, neck
    assert "image_encoder.patch_embed.seq.0.c.weight" in saved
    assert "image_encoder.layers.3.blocks.1.attn.attention_biases" in saved
    assert saved["image_encoder.layers.2.blocks.0.attn.attention_biases"].shape == (5, 196)
    assert "image_encoder.neck.3.weight" in saved
    for name in ("image_encoder.layers.1.blocks.0.attn.qkv.weight", "mask_decoder.iou_token.weight",
                 "image_encoder.layers.0.blocks.1.conv2.bn.running_var"):
        assert torch.equal(saved[name], loaded[name])


@pytest.mark.parametrize("variant", ["vit_b", "vit_l", "vit_h"])
def test_vit_variants_detected_from_official_layout_shapes(variant):
    with torch.device("meta"):
        state = build_sam(variant).state_dict()
    assert detect_variant(state) == variant
    assert detect_variant(unwrap_state_dict({"model": state})) == variant


def test_vit_b_random_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "sam_vit_b_01ec64.pth"
    state = build_sam("vit_b").state_dict()
    torch.save({"model": state}, path)
    model, variant = load_sam_checkpoint(path)
    assert variant == "vit_b"
    name = "image_encoder.blocks.11.attn.rel_pos_h"
    assert torch.equal(model.state_dict()[name], state[name])


def test_truncated_checkpoint_is_refused_by_name(vit_t_file, tmp_path):
    broken = tmp_path / "mobile_sam.pt"
    broken.write_bytes(vit_t_file.read_bytes()[: 5_000_000])
    with pytest.raises(AnnotatorError, match="truncated") as info:
        make_click_segmenter("auto", broken, "cpu")
    assert str(broken) in str(info.value)


class _CreatesFile:
    """Unpickling this calls `open(path, "w")`: what a malicious checkpoint could run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


def test_other_models_and_pickled_code_are_refused(tmp_path):
    other = tmp_path / "resnet.pth"
    torch.save(torch.nn.Linear(3, 2).state_dict(), other)
    with pytest.raises(AnnotatorError, match="not a SAM checkpoint"):
        load_sam_checkpoint(other)
    code = tmp_path / "evil.pth"
    torch.save({"model": threading.Lock}, code)
    with pytest.raises(AnnotatorError, match="checkpoint"):
        load_sam_checkpoint(code)
    sentinel = tmp_path / "ran.txt"
    runs_code = tmp_path / "runs_code.pth"
    torch.save({"model": _CreatesFile(sentinel)}, runs_code)
    with pytest.raises(AnnotatorError, match="not a readable PyTorch checkpoint") as info:
        load_sam_checkpoint(runs_code)
    assert str(runs_code) in str(info.value)
    assert not sentinel.exists()  # the pickled call was never made
    text = tmp_path / "notes.pth"
    text.write_text("hello")
    with pytest.raises(AnnotatorError):
        load_sam_checkpoint(text)


def test_unknown_device_is_a_clear_error(vit_t_file):
    with pytest.raises(AnnotatorError, match="unknown device 'gpu'"):
        load_sam_segmenter(vit_t_file, "gpu")


def test_wrong_shapes_are_named(tmp_path):
    state = build_sam("vit_t").state_dict()
    state["mask_decoder.iou_token.weight"] = torch.zeros(2, 7)
    path = tmp_path / "mobile_sam.pt"
    torch.save(state, path)
    with pytest.raises(AnnotatorError, match="iou_token"):
        load_sam_checkpoint(path)


def test_first_click_gives_three_candidates_then_refinement_feeds_logits(
    segmenter, frame, embedding
):
    session = ClickSession(segmenter)
    session.cache.put(0, embedding)
    session.set_frame(0, frame)
    first = session.add_click(70, 60, True)
    assert first.masks.shape == (3, H, W) and first.masks.dtype == bool
    assert first.logits.shape == (3, 256, 256) and first.scores.shape == (3,)
    assert np.all(np.diff(first.scores) <= 0)  # best first
    session.choose(1)
    second = session.add_click(20, 20, False)
    assert second.masks.shape == (1, H, W)
    # the session fed back the chosen candidate's low-res logits
    expected = segmenter.predict(np.array([[70, 60], [20, 20]]), np.array([1, 0]),
                                 prior=first.logits[1][None], multimask=False)
    np.testing.assert_allclose(second.logits, expected.logits, atol=1e-4)
    without_prior = segmenter.predict(np.array([[70, 60], [20, 20]]), np.array([1, 0]),
                                      multimask=False)
    assert not np.allclose(second.logits, without_prior.logits, atol=1e-3)
    assert session.undo_click() is first
    assert len(session.clicks) == 1


def test_box_and_points_together(segmenter, frame, embedding):
    session = ClickSession(segmenter)
    session.cache.put(3, embedding)
    session.set_frame(3, frame)
    boxed = session.set_box(110, 90, 40, 30)  # corners in any order
    assert session.box == (40.0, 30.0, 110.0, 90.0)
    direct = segmenter.predict(np.zeros((0, 2)), np.zeros(0), box=np.array([40, 30, 110, 90]))
    np.testing.assert_allclose(boxed.logits, direct.logits, atol=1e-4)
    refined = session.add_click(75, 60, True)
    assert refined.masks.shape == (1, H, W)
    with pytest.raises(ValueError):
        session.add_click(W + 5, 10, True)


class _CountingEmbed:
    """Stands in for the encoder: returns copies of a real embedding, slowly, and counts."""

    def __init__(self, embedding: SamEmbedding) -> None:
        self.embedding = embedding
        self.calls: list[int] = []

    def __call__(self, frame: np.ndarray) -> SamEmbedding:
        self.calls.append(int(frame[0, 0, 0]))
        time.sleep(0.2)
        e = self.embedding
        return SamEmbedding(e.features.clone(), e.original_size, e.input_size)


def test_embedding_cache_is_bounded_in_bytes(segmenter, frame, embedding, monkeypatch):
    counter = _CountingEmbed(embedding)
    monkeypatch.setattr(segmenter, "embed", counter)
    size = embedding.nbytes
    assert size == 256 * 64 * 64 * 4
    session = ClickSession(segmenter, cache_bytes=int(2.5 * size))
    frames = []
    for i in range(3):
        f = frame.copy()
        f[0, 0, 0] = i
        frames.append(f)
        session.set_frame(i, f)
    assert session.cache.indices() == [1, 2]  # frame 0 evicted: budget holds two
    assert session.cache.nbytes <= 2.5 * size
    session.set_frame(2, frames[2])  # cached: no encoder run
    session.set_frame(0, frames[0])  # evicted: encoded again
    assert counter.calls == [0, 1, 2, 0]
    assert session.cache.indices() == [2, 0]


def test_prefetch_from_a_thread_encodes_once(segmenter, frame, embedding, monkeypatch):
    counter = _CountingEmbed(embedding)
    monkeypatch.setattr(segmenter, "embed", counter)
    session = ClickSession(segmenter)
    worker = threading.Thread(target=session.prefetch, args=(5, frame))
    worker.start()
    time.sleep(0.05)
    session.set_frame(5, frame)  # waits for the worker's embedding instead of computing again
    worker.join()
    assert len(counter.calls) == 1
    assert not session.prefetch(5, frame)
    assert session.add_click(70, 60, True).masks.shape == (3, H, W)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_half_precision_encoder_matches_float(vit_t_file, frame):
    gpu = load_sam_segmenter(vit_t_file, "cuda")
    assert gpu.core.half
    half = gpu.embed(frame).features.cpu()
    gpu.core.half = False
    full = gpu.embed(frame).features.cpu()
    assert torch.allclose(half, full, atol=0.05 * float(full.abs().max()))
