"""`vos-annotator segment`: a palette PNG with the object as id 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from annotator.cli import main
from annotator.engine.click_protocol import iou
from annotator.formats.masks import read_label_map


def test_segment_writes_a_palette_png_of_the_object(davis_root, tmp_path, capsys):
    image = davis_root / "JPEGImages/480p/hike/00000.jpg"
    truth = read_label_map(davis_root / "Annotations/480p/hike/00000.png") == 1
    ys, xs = np.nonzero(truth)
    out = tmp_path / "mask.png"
    code = main(["segment", str(image), "--point", f"{int(np.median(xs))},{int(np.median(ys))}",
                 "--point", "50,50,neg", "--box",
                 f"{xs.min() - 8},{ys.min() - 8},{xs.max() + 8},{ys.max() + 8}",
                 "--out", str(out), "--engine", "classic"])
    assert code == 0
    assert "classic" in capsys.readouterr().out
    with Image.open(out) as written:
        assert written.mode == "P"
    labels = read_label_map(out)
    assert set(np.unique(labels)) == {0, 1}
    assert iou(labels == 1, truth) > 0.8
    assert labels[50, 50] == 0


def test_bad_prompts_are_one_line_errors(davis_root, tmp_path, capsys):
    image = davis_root / "JPEGImages/480p/hike/00000.jpg"
    out = tmp_path / "mask.png"
    assert main(["segment", str(image), "--point", "9000,10", "--out", str(out),
                 "--engine", "classic"]) == 2
    assert "outside the 854x480 image" in capsys.readouterr().err
    assert main(["segment", str(image), "--out", str(out), "--engine", "classic"]) == 2
    missing = tmp_path / "nope.jpg"
    assert main(["segment", str(missing), "--point", "1,1", "--out", str(out)]) == 2
    assert "nope.jpg" in capsys.readouterr().err
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"\x00" * 100)
    assert main(["segment", str(image), "--point", "10,10", "--out", str(out),
                 "--weights", str(broken)]) == 2
    assert "broken.pth" in capsys.readouterr().err
    assert not out.exists()


def test_exif_rotated_photo_is_segmented_upright(
    davis_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A phone photo stored sideways with an EXIF orientation: the CLI reads it upright, as
    the folder source (and so the GUI) does, so a point given on the upright image lands on
    the object and the mask has the upright size."""
    upright = np.array(Image.open(davis_root / "JPEGImages/480p/hike/00000.jpg"))
    truth = read_label_map(davis_root / "Annotations/480p/hike/00000.png") == 1
    exif = Image.Exif()
    exif[0x0112] = 6  # the viewer turns the stored image 90 degrees clockwise
    stored = tmp_path / "photo.jpg"
    Image.fromarray(np.rot90(upright)).save(stored, quality=95, exif=exif.tobytes())
    ys, xs = np.nonzero(truth)
    out = tmp_path / "mask.png"
    code = main(["segment", str(stored), "--point", f"{int(np.median(xs))},{int(np.median(ys))}",
                 "--box", f"{xs.min() - 8},{ys.min() - 8},{xs.max() + 8},{ys.max() + 8}",
                 "--out", str(out), "--engine", "classic"])
    assert code == 0, capsys.readouterr().err
    labels = read_label_map(out)
    assert labels.shape == truth.shape == (480, 854)
    assert iou(labels == 1, truth) > 0.8
