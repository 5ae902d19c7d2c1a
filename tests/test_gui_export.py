"""Exports from the File menu write what the CLI's `convert` writes, read back here."""

from __future__ import annotations

import json

import numpy as np
from gui_helpers import make_lvos_dataset, make_window, open_and_wait
from pycocotools import mask as coco_mask

from annotator.formats.masks import read_label_map


def test_exports_write_lvvis_youtube_and_labelme(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 4, first_mask=True)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    c.set_index(2)
    c.add_object()
    c.update_object(2, category="rock")
    square = np.zeros((480, 854), bool)
    square[20:60, 700:760] = True
    c.paint(square)
    c.update_object(1, category="bear")
    expected = {i: c.annotation.label_map(i) for i in (0, 2)}

    messages: list[str] = []
    c.message.connect(messages.append)
    for kind in ("lvvis", "lvvis_results", "youtube_vos", "labelme"):
        c.autosaver.export(kind, tmp_path / kind)
        qtbot.waitUntil(lambda: not c.tasks.busy, timeout=60_000)
    assert window.last_error == ""
    instances_path = tmp_path / "lvvis" / "train_instances.json"
    assert f"Exported bear: wrote {instances_path}" in messages  # the status line names it
    assert sorted(p.name for p in (tmp_path / "lvvis").iterdir()) == ["train_instances.json"]

    instances = json.loads(instances_path.read_text())
    files = instances["videos"][0]["file_names"]  # the annotated frames
    assert files == ["bear/00000.jpg", "bear/00002.jpg"]
    names = {cat["id"]: cat["name"] for cat in instances["categories"]}
    assert sorted(names.values()) == ["bear", "rock"]
    for annotation in instances["annotations"]:
        object_id = {"bear": 1, "rock": 2}[names[annotation["category_id"]]]
        for file, rle in zip(files, annotation["segmentations"], strict=True):
            truth = expected[int(file[-9:-4])] == object_id
            if rle is None:
                assert not truth.any()
                continue
            decoded = coco_mask.decode({"size": rle["size"], "counts": rle["counts"].encode()})
            assert np.array_equal(decoded.astype(bool), truth)

    results = json.loads((tmp_path / "lvvis_results" / "results.json").read_text())
    assert [(r["video_id"], r["score"]) for r in results] == [(1, 1.0), (1, 1.0)]
    assert [r["segmentations"] for r in results] == [
        a["segmentations"] for a in instances["annotations"]
    ]

    convert = tmp_path / "youtube_vos" / "Annotations_convert" / "bear"  # LVOS frame ids
    assert sorted(p.name for p in convert.glob("*.png")) == ["00000000.png", "00000002.png"]
    assert np.array_equal(read_label_map(convert / "00000000.png"), expected[0])
    assert np.array_equal(read_label_map(convert / "00000002.png"), np.where(square, 2, 0))
    meta = json.loads((tmp_path / "youtube_vos" / "meta.json").read_text())
    assert meta["videos"]["bear"]["objects"]["2"]["frames"] == ["00000002"]

    frames = tmp_path / "labelme" / "JPEGImages" / "bear"
    assert sorted(p.name for p in frames.glob("*.json")) == ["00000.json", "00002.json"]
    for name, label in (("00000.json", "bear"), ("00002.json", "rock")):
        document = json.loads((frames / name).read_text())
        assert {shape["label"] for shape in document["shapes"]} == {label}
        assert (document["imageHeight"], document["imageWidth"]) == (480, 854)
