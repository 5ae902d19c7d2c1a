"""`weights add` loads the tensors as `segment` / `propagate` will; a damaged registry is named;
`auto` falls back to the weights-free engines when a registered checkpoint does not load."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from annotator.cli import main
from annotator.engine.propagators import make_propagator
from annotator.engine.segmenters import make_click_segmenter
from annotator.engine.weights import REGISTRY_FILE, find_weights, sha256_of
from annotator.engine.weights_add import add_weights
from annotator.errors import AnnotatorError
from annotator.formats.masks import read_label_map
from models.classic.propagator import ClassicPropagator
from models.sam.variants import build_sam

DECODER_KEY = "mask_decoder.iou_prediction_head.layers.0.weight"


@pytest.fixture(autouse=True)
def folder(tmp_path, monkeypatch) -> Path:
    target = tmp_path / "weights"
    monkeypatch.setenv("VOS_ANNOTATOR_WEIGHTS", str(target))
    return target


@pytest.fixture(scope="module")
def vit_t_state() -> dict[str, torch.Tensor]:
    return build_sam("vit_t").state_dict()


def _stcn_state(stcn_fixture_dir: Path) -> dict[str, torch.Tensor]:
    """The official STCN key set and shapes, each tensor one stored number (a zero view)."""
    keys = json.loads((stcn_fixture_dir / "state_dict_keys.json").read_text())
    return {name: torch.zeros(()).expand(shape) for name, shape, _ in keys}


def _save(state: dict[str, torch.Tensor], path: Path) -> Path:
    torch.save(state, path)
    return path


def _register_as_is(folder: Path, name: str, path: Path) -> None:
    """Record `path` in the registry without `weights add`'s checks (as an older version did,
    or as if the file changed after it was added)."""
    folder.mkdir(exist_ok=True)
    entry = {"path": str(path), "size": path.stat().st_size, "sha256": sha256_of(path)}
    (folder / REGISTRY_FILE).write_text(json.dumps({name: entry}))


def test_stcn_checkpoint_is_recognised_and_recorded(stcn_fixture_dir, tmp_path):
    path = _save(_stcn_state(stcn_fixture_dir), tmp_path / "stcn.pth")
    added = add_weights(path)
    assert added.name == "stcn" and added.official is None
    assert find_weights("stcn") == path.resolve()
    with pytest.raises(AnnotatorError, match="holds stcn"):
        add_weights(path, "vit_b")


@pytest.mark.parametrize("fault", ["shape", "missing"])
def test_an_stcn_file_that_would_not_load_is_refused(stcn_fixture_dir, tmp_path, folder, capsys,
                                                    fault):
    state = _stcn_state(stcn_fixture_dir)
    name = "decoder.pred.weight"
    if fault == "shape":
        state[name] = torch.zeros(()).expand(2, 256, 3, 3)
    else:
        del state[name]
    path = _save(state, tmp_path / "stcn.pth")
    assert main(["weights", "add", str(path)]) == 2
    captured = capsys.readouterr()
    assert "registered" not in captured.out
    message = captured.err.strip()
    assert str(path) in message and name in message
    assert ("wrong shape" if fault == "shape" else "missing") in message
    assert not folder.exists() and find_weights("stcn") is None


@pytest.mark.parametrize("fault", ["shape", "missing"])
def test_a_sam_file_that_would_not_load_is_refused(vit_t_state, tmp_path, folder, fault):
    state = dict(vit_t_state)
    if fault == "shape":
        state[DECODER_KEY] = torch.zeros(3, 3)
    else:
        del state[DECODER_KEY]
    path = _save(state, tmp_path / "mobile_sam.pt")
    with pytest.raises(AnnotatorError, match=f"not a loadable SAM checkpoint.*{DECODER_KEY}"):
        add_weights(path, copy=True)
    assert not folder.exists() and find_weights("vit_t") is None


@pytest.mark.parametrize(
    "content",
    [
        b'{"vit_t": {"path": 5, "size": "big", "sha256": null}}',
        b'{"vit_t": "here"}',
        b"[1, 2]",
        b'{"vit_t": {"path": "\xff\xfe"}}',
    ],
)
def test_a_registry_of_the_wrong_shape_is_named(folder, capsys, content):
    folder.mkdir()
    (folder / REGISTRY_FILE).write_bytes(content)
    with pytest.raises(AnnotatorError, match="registry") as raised:
        find_weights("vit_t")
    assert raised.value.path == folder / REGISTRY_FILE
    assert main(["weights", "list"]) == 2
    err = capsys.readouterr().err
    assert str(folder / REGISTRY_FILE) in err and "Traceback" not in err


def test_auto_falls_back_when_the_registered_stcn_does_not_load(stcn_fixture_dir, tmp_path,
                                                                folder, davis_root, capsys):
    state = _stcn_state(stcn_fixture_dir)
    del state["decoder.pred.weight"]
    broken = _save(state, tmp_path / "stcn.pth")
    _register_as_is(folder, "stcn", broken)
    propagator, description = make_propagator("auto")
    assert isinstance(propagator, ClassicPropagator)
    assert description.startswith("classic") and "WARNING" in description
    assert str(broken) in description
    with pytest.raises(AnnotatorError, match="decoder.pred.weight"):
        make_propagator("stcn")

    frames, masks, out = tmp_path / "frames", tmp_path / "masks", tmp_path / "out"
    frames.mkdir()
    masks.mkdir()
    for name in ("00000.jpg", "00001.jpg", "00002.jpg"):
        os.link(davis_root / "JPEGImages/480p/bear" / name, frames / name)
    truth = davis_root / "Annotations/480p/bear/00000.png"
    os.link(truth, masks / "00000.png")
    assert main(["propagate", str(frames), "--masks", str(masks), "--out", str(out)]) == 0
    assert "WARNING" in capsys.readouterr().err
    first = read_label_map(out / "00000.png")
    assert np.array_equal(first, read_label_map(truth))
    assert (read_label_map(out / "00002.png") == 1).sum() > 0.5 * (first == 1).sum()


def test_auto_falls_back_when_the_registered_sam_does_not_load(vit_t_state, tmp_path, folder):
    state = dict(vit_t_state)
    state[DECODER_KEY] = torch.zeros(3, 3)
    broken = _save(state, tmp_path / "mobile_sam.pt")
    _register_as_is(folder, "vit_t", broken)
    segmenter, description = make_click_segmenter("auto", device="cpu")
    assert segmenter.name.startswith("classic") and description.startswith("classic")
    assert f"WARNING: the SAM checkpoint of the weights folder failed to load ({broken}" in (
        description
    )
    with pytest.raises(AnnotatorError, match=DECODER_KEY):
        make_click_segmenter("sam", device="cpu")
