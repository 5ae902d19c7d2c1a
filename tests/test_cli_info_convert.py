"""`vos-annotator info` and `vos-annotator convert`, run as a person would run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from annotator.formats.masks import read_label_map

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "annotator.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def test_info_describes_the_davis_root(davis_root: Path) -> None:
    result = _cli("info", davis_root, "--video", "bear", "--video", "swing")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{davis_root}: davis layout, 2 video(s)"
    assert "  bear: 82 frames 854x480, 82 annotated, 1 object(s)" in lines
    assert "    object 1: frames 00000..00081, frame_nums 82" in lines
    result = _cli("info", davis_root, "--video", "soccerball", "--json")
    report = json.loads(result.stdout)
    assert report["layout"] == "davis"
    assert report["videos"]["soccerball"]["objects"]["1"]["frame_range"] == {
        "start": "00000",
        "end": "00047",
        "frame_nums": 48,
    }


def test_convert_chain_end_to_end(tmp_path: Path, davis_root: Path) -> None:
    categories = tmp_path / "categories.txt"
    categories.write_text("object\nball\n")
    out = tmp_path / "lvvis"
    result = _cli(
        "convert",
        davis_root,
        out,
        "--to",
        "lvvis",
        "--split",
        "val",
        "--categories",
        categories,
        "--video",
        "soccerball",
    )
    assert result.returncode == 0, result.stderr
    assert "converted 1 video(s) to lvvis" in result.stdout
    data = json.loads((out / "val_instances.json").read_text())
    assert data["categories"] == [
        {"id": 1, "name": "object", "partition": 0},  # LV-VIS's loader needs a partition
        {"id": 2, "name": "ball", "partition": 0},
    ]
    info = json.loads(_cli("info", out, "--json").stdout)
    assert (info["layout"], info["split"]) == ("lvvis", "val")
    assert info["videos"]["soccerball"]["annotated_frames"] == 48

    for target in ("youtube-vos-valid", "davis", "labelme"):
        result = _cli("convert", out, tmp_path / target, "--to", target)
        assert result.returncode == 0, result.stderr
    # LVOS frame ids, numbered as the source numbers its frames (00000 -> 00000000)
    convert_dir = tmp_path / "youtube-vos-valid/Annotations_convert/soccerball"
    first = read_label_map(convert_dir / "00000000.png")
    assert sorted(p.name for p in convert_dir.iterdir()) == ["00000000.png"]
    truth = read_label_map(davis_root / "Annotations/480p/soccerball/00000.png")
    assert np.array_equal(first, truth)
    meta = json.loads((tmp_path / "youtube-vos-valid/meta.json").read_text())
    ball = meta["videos"]["soccerball"]["objects"]["1"]
    assert ball["frames"] == [f"{i:08d}" for i in range(48)] and ball["category"] == "object"
    # the LVOS toolkit walks 0, 5, ..., 45 below the end 47: ten ids, plus the end
    assert ball["frame_range"] == {"start": "00000000", "end": "00000047", "frame_nums": 11}
    assert (tmp_path / "youtube-vos-valid/Annotations/soccerball/00000047.png").is_file()
    davis_mask = tmp_path / "davis/Annotations/480p/soccerball/00030.png"
    assert np.array_equal(
        read_label_map(davis_mask),
        read_label_map(davis_root / "Annotations/480p/soccerball/00030.png"),
    )
    labelme_file = json.loads((tmp_path / "labelme/JPEGImages/soccerball/00030.json").read_text())
    assert labelme_file["imagePath"] == "00030.jpg" and labelme_file["imageData"] is None


def test_errors_are_one_line_naming_the_file(tmp_path: Path) -> None:
    frames = tmp_path / "ds" / "JPEGImages" / "clip"
    frames.mkdir(parents=True)
    (frames / "00000.jpg").write_bytes(b"not an image")
    (tmp_path / "ds" / "train_meta.json").write_text("{oops")
    result = _cli("info", tmp_path / "ds")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("vos-annotator: error: ")
    assert "00000.jpg" in result.stderr or "train_meta.json" in result.stderr
    result = _cli("convert", tmp_path / "missing", tmp_path / "out", "--to", "lvos")
    assert result.returncode == 2 and "missing: no such file or folder" in result.stderr


def test_lvvis_to_lvvis_keeps_category_ids_and_partitions(tmp_path: Path, davis_root: Path) -> None:
    categories = tmp_path / "categories.json"
    categories.write_text(json.dumps([{"id": 40, "name": "object", "partition": 2}]))
    first, second = tmp_path / "first", tmp_path / "second"
    assert (
        _cli(
            "convert",
            davis_root,
            first,
            "--to",
            "lvvis",
            "--video",
            "swing",
            "--categories",
            categories,
        ).returncode
        == 0
    )
    result = _cli("convert", first, second, "--to", "lvvis")
    assert result.returncode == 0, result.stderr
    data = json.loads((second / "train_instances.json").read_text())
    assert data["categories"] == [{"id": 40, "name": "object", "partition": 2}]
    assert {a["category_id"] for a in data["annotations"]} == {40}


def test_info_quick_reads_the_meta_instead_of_the_masks(tmp_path: Path, davis_root: Path) -> None:
    out = tmp_path / "lvos"
    assert _cli("convert", davis_root, out, "--to", "lvos", "--video", "swing").returncode == 0
    full = json.loads(_cli("info", out, "--json").stdout)
    quick = json.loads(_cli("info", out, "--json", "--quick").stdout)
    assert quick == full
    for mask in (out / "Annotations" / "swing").glob("*.png"):
        mask.write_bytes(b"broken")  # masks unreadable: only the quick path can still answer
    assert json.loads(_cli("info", out, "--json", "--quick").stdout) == full
    assert _cli("info", out).returncode == 2
