"""The weights registry: the folder, `weights add` (which loads the tensors as `segment` and
`propagate` will), a damaged registry, `auto` falling back, and downloads from a local HTTP
server."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from weights_server import PAYLOAD, RangeHandler

from annotator.cli import main
from annotator.engine import weights as registry
from annotator.engine.propagators import make_propagator
from annotator.engine.segmenters import make_click_segmenter
from annotator.engine.weights import REGISTRY_FILE, find_weights, sha256_of, weights_dir
from annotator.engine.weights_add import add_weights
from annotator.engine.weights_download import download_file, download_weights
from annotator.errors import AnnotatorError
from annotator.formats.masks import read_label_map
from models.classic.propagator import ClassicPropagator
from models.sam.segmenter import SamClickSegmenter
from models.sam.variants import build_sam


@pytest.fixture(autouse=True)
def folder(tmp_path, monkeypatch) -> Path:
    target = tmp_path / "weights"
    monkeypatch.setenv("VOS_ANNOTATOR_WEIGHTS", str(target))
    return target


@pytest.fixture(scope="module")
def vit_t_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "my_mobile_sam.pt"
    torch.save(build_sam("vit_t").state_dict(), path)
    return path


def test_folder_from_environment_and_nothing_present(folder, capsys):
    assert weights_dir() == folder
    assert find_weights("vit_b") is None and find_weights("mobile_sam") is None
    with pytest.raises(AnnotatorError, match="unknown weights"):
        find_weights("vit_q")
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert str(folder) in out and out.count("missing") == len(registry.KNOWN) == 9


def test_add_records_in_place_and_auto_uses_it(vit_t_file, folder, capsys):
    assert main(["weights", "add", str(vit_t_file)]) == 0
    assert "registered vit_t" in capsys.readouterr().out
    assert find_weights("vit_t") == vit_t_file.resolve()
    assert not (folder / "mobile_sam.pt").exists()  # recorded, not copied
    segmenter, info = make_click_segmenter("auto", device="cpu")
    description = info.line
    assert isinstance(segmenter, SamClickSegmenter) and segmenter.variant == "vit_t"
    assert "MobileSAM" in description


def test_add_copy_and_wrong_name(vit_t_file, folder):
    added = add_weights(vit_t_file, "mobile_sam", copy=True)
    assert added.path == folder / "mobile_sam.pt" and added.official is False
    assert added.sha256 == hashlib.sha256(vit_t_file.read_bytes()).hexdigest()
    assert find_weights("vit_t") == folder / "mobile_sam.pt"
    assert added.path.read_bytes() == vit_t_file.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == ["mobile_sam.pt", "registry.json"]
    with pytest.raises(AnnotatorError, match="holds vit_t, not vit_h"):
        add_weights(vit_t_file, "vit_h")


def test_a_registered_file_that_changed_is_ignored(tmp_path, vit_t_file):
    copy = tmp_path / "copy.pt"
    copy.write_bytes(vit_t_file.read_bytes())
    add_weights(copy)
    assert find_weights("vit_t") == copy.resolve()
    with open(copy, "ab") as handle:
        handle.write(b"extra")
    assert find_weights("vit_t") is None


def test_auto_without_weights_is_classic_and_sam_says_what_to_do():
    segmenter, info = make_click_segmenter("auto", device="cpu")
    description = info.line
    assert segmenter.name.startswith("classic") and "weights download" in description
    with pytest.raises(AnnotatorError, match="weights download"):
        make_click_segmenter("sam", device="cpu")


def test_download_resumes_with_range_and_checks_the_sum(server, tmp_path):
    target = tmp_path / "w.pt"
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    RangeHandler.cut_after = 300_000
    with pytest.raises(AnnotatorError, match="resume"):
        download_file(server, target, len(PAYLOAD), digest, timeout=5)
    partial = tmp_path / "w.pt.part"
    assert partial.stat().st_size == 300_000 and not target.exists()
    seen: list[int] = []
    download_file(server, target, len(PAYLOAD), digest, lambda done, total: seen.append(done),
                  timeout=5)
    assert target.read_bytes() == PAYLOAD and not partial.exists()
    assert RangeHandler.ranges == [None, "bytes=300000-"]
    assert seen[-1] == len(PAYLOAD)


def test_download_with_a_wrong_sum_keeps_nothing(server, tmp_path):
    target = tmp_path / "w.pt"
    with pytest.raises(AnnotatorError, match="SHA-256"):
        download_file(server, target, len(PAYLOAD), "0" * 64, timeout=5)
    assert not target.exists() and not (tmp_path / "w.pt.part").exists()


def test_download_by_name_goes_to_the_folder(server, folder, monkeypatch):
    known = registry.KNOWN["vit_t"]
    fake = registry.KnownWeights("vit_t", "sam", known.filename, server, len(PAYLOAD),
                                 hashlib.sha256(PAYLOAD).hexdigest(), known.description)
    monkeypatch.setitem(registry.KNOWN, "vit_t", fake)
    path = download_weights("vit_t")
    assert path == folder / "mobile_sam.pt" and path.read_bytes() == PAYLOAD
    assert find_weights("vit_t") == path


def test_offline_says_so_in_one_line_and_where_to_put_the_file(folder, monkeypatch, capsys):
    known = registry.KNOWN["vit_b"]
    fake = registry.KnownWeights("vit_b", "sam", known.filename, "http://127.0.0.1:9/x.pth",
                                 known.size, known.sha256, known.description)
    monkeypatch.setitem(registry.KNOWN, "vit_b", fake)
    assert main(["weights", "download", "vit_b"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "offline" in err and str(folder / "sam_vit_b_01ec64.pth") in err


def test_weights_without_a_known_sum_are_never_downloaded(folder, monkeypatch, capsys):
    def no_network(*args, **kwargs):
        raise AssertionError("nothing may be fetched")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    assert main(["weights", "download", "stcn"]) == 2
    message = capsys.readouterr().err
    assert "no published SHA-256 for stcn.pth" in message and "weights add" in message
    assert not folder.exists() or not any(folder.iterdir())


DECODER_KEY = "mask_decoder.iou_prediction_head.layers.0.weight"


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
def test_a_sam_file_that_would_not_load_is_refused(vit_t_file, tmp_path, folder, fault):
    state = torch.load(vit_t_file, weights_only=True)
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
    propagator, info = make_propagator("auto")
    description = info.line
    assert isinstance(propagator, ClassicPropagator)
    assert description.startswith("classic") and "WARNING" in description
    assert str(broken) in description
    with pytest.raises(AnnotatorError, match=r"decoder.pred.weight"):
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


def test_auto_falls_back_when_the_registered_sam_does_not_load(vit_t_file, tmp_path, folder):
    state = torch.load(vit_t_file, weights_only=True)
    state[DECODER_KEY] = torch.zeros(3, 3)
    broken = _save(state, tmp_path / "mobile_sam.pt")
    _register_as_is(folder, "vit_t", broken)
    segmenter, info = make_click_segmenter("auto", device="cpu")
    description = info.line
    assert segmenter.name.startswith("classic") and description.startswith("classic")
    assert f"WARNING: the SAM checkpoint of the weights folder failed to load ({broken}" in (
        description
    )
    with pytest.raises(AnnotatorError, match=DECODER_KEY):
        make_click_segmenter("sam", device="cpu")


def test_sam2_first_download_records_its_sum_and_later_ones_must_match(server, folder,
                                                                       monkeypatch):
    """SAM 2.1 has no published sums: the first download from the official server is recorded,
    and a later download of the same name must match it."""
    known = registry.KNOWN["sam2.1_tiny"]
    fake = registry.KnownWeights(known.name, "sam2", known.filename, server, None, None,
                                 known.description, record_first_sum=True)
    monkeypatch.setitem(registry.KNOWN, known.name, fake)
    path = download_weights("sam2.1_hiera_tiny")
    assert path == folder / "sam2.1_hiera_tiny.pt" and path.read_bytes() == PAYLOAD
    recorded = registry.read_registry()["sam2.1_tiny"]
    assert recorded == {"path": str(path), "size": len(PAYLOAD),
                        "sha256": hashlib.sha256(PAYLOAD).hexdigest()}
    assert find_weights("sam2.1_tiny") == path
    path.unlink()
    entries = registry.read_registry()
    entries["sam2.1_tiny"]["sha256"] = "0" * 64  # the server now sends other bytes
    registry.write_registry(entries)
    with pytest.raises(AnnotatorError, match="SHA-256"):
        download_weights("sam2.1_tiny")
    assert not path.exists()
