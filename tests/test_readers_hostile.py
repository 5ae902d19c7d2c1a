"""Every reader under hostile input (issue 10): each cause the hostile test found, on files cut
from the DAVIS dev sequences, ends in a one-line error that names the file, or in the right
result; never a traceback, a crash, or data written in silence."""

from __future__ import annotations

import base64
import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile_files import lvos_dataset, png_declaring, run_isolated
from PIL import Image
from pycocotools import mask as mask_utils

from annotator.cli import main
from annotator.engine.click_session import ClickSession
from annotator.errors import AnnotatorError
from annotator.formats import labelme, lvvis
from annotator.formats.convert import convert
from annotator.formats.json_files import read_json, write_json
from annotator.formats.masks import read_label_map
from annotator.formats.segmentations import compressed_counts, decode_segmentation, encode_masks
from annotator.video.dataset import open_dataset
from annotator.video.folder import read_rgb
from annotator.video.opening import open_frames
from models.classic.segmenter import ClassicSegmenter

H, W = 480, 854  # the DAVIS dev frames


@pytest.fixture
def lvvis_root(tmp_path: Path, davis_root: Path) -> Path:
    """Three frames of 'bear' as an LV-VIS dataset (frames and instances JSON)."""
    convert(lvos_dataset(davis_root, tmp_path / "lvos"), tmp_path / "lvvis", "lvvis",
            split="train")
    return tmp_path / "lvvis"


def _edit_instances(root: Path, change) -> Path:
    path = root / "train_instances.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def _convert_fails(capsys, src: Path, dst: Path, *words: str) -> str:
    """convert SRC DST stops with one line holding `words`, and writes no mask."""
    assert main(["convert", str(src), str(dst), "--to", "lvos"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err, err
    assert not list(dst.rglob("*.png")), "a mask was written"
    return err


# ---- RLE and polygons (pycocotools) ---------------------------------------------------------

def test_compressed_counts_read_as_pycocotools_writes_them(davis_root: Path) -> None:
    for index in (0, 40, 81):
        mask = read_label_map(davis_root / f"Annotations/480p/bear/{index:05d}.png") == 1
        (rle,) = encode_masks(mask.astype(np.uint8), [1])
        runs = np.diff(np.flatnonzero(np.diff(np.r_[2, mask.ravel(order="F"), 2])))
        expected = runs.tolist() if not mask.ravel(order="F")[0] else [0, *runs.tolist()]
        assert compressed_counts(rle["counts"]) == expected
        assert sum(expected) == H * W
        decoded = decode_segmentation(rle, H, W, Path("x.json"))
        assert np.array_equal(decoded, mask)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([0, 10], "cover 10 pixels but the frame has 480x854"),  # the 74,850-pixel case
        ([-5, 10, H * W - 5], "negative run length -5"),
        ([1.5, H * W - 1.5], "whole numbers"),
        ("05", "cover 5 pixels"),
        ("0P", "ends inside a count"),  # 'P' carries the continuation bit
        ("0~", "not in the code"),
    ],
)
def test_rle_that_does_not_cover_the_frame_is_refused(tmp_path, counts, message) -> None:
    source = tmp_path / "instances.json"
    with pytest.raises(AnnotatorError, match=message) as caught:
        decode_segmentation({"size": [H, W], "counts": counts}, H, W, source)
    assert caught.value.path == source


def test_short_rle_in_a_dataset_writes_nothing(lvvis_root, tmp_path, capsys) -> None:
    def shorten(data):  # on the first frame, which is read first
        data["annotations"][0]["segmentations"][0] = {"size": [H, W], "counts": [0, 10]}

    _edit_instances(lvvis_root, shorten)
    _convert_fails(capsys, lvvis_root, tmp_path / "out", "train_instances.json",
                   "cover 10 pixels")


def test_polygon_far_outside_the_frame_is_refused_before_pycocotools(lvvis_root, tmp_path):
    """The hostile test crashed the process (exit 139) here; run in a child so a crash fails
    this test only."""
    def far(data):
        data["annotations"][0]["segmentations"][1] = [[10, 10, 1e9, 20, 30, 40]]

    _edit_instances(lvvis_root, far)
    done = run_isolated("""
        import sys
        from annotator.cli import main
        sys.exit(main(["convert", sys.argv[1], sys.argv[2], "--to", "lvos"]))
    """, str(lvvis_root), str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert "train_instances.json" in done.stderr and "(1e+09, 20)" in done.stderr
    assert "far outside the 854x480 frame" in done.stderr


def test_polygons_near_the_frame_read_as_pycocotools_fills_them(tmp_path) -> None:
    polygon = [[-20.0, -10.0, 300.0, -10.0, 300.0, 200.0, -20.0, 200.0]]  # cut by the border
    mask = decode_segmentation(polygon, H, W, tmp_path / "x.json")
    expected = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygon, H, W)))
    assert np.array_equal(mask, expected.astype(bool)) and mask[:200, :300].all()
    bad_polygons = ([[1.0, 2.0, 3.0, float("nan"), 5.0, 6.0]], [[1, 2, 3, 4, 5]],
                    [["a", 1, 2, 3, 4, 5]])
    for bad in bad_polygons:
        with pytest.raises(AnnotatorError, match=r"x\.json: (polygon|a polygon)"):
            decode_segmentation(bad, H, W, tmp_path / "x.json")


# ---- instances JSON fields -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(annotations="abc"), '"annotations" must be a list, not str'),
        (lambda d: d.update(annotations={"1": {}}), '"annotations" must be a list, not dict'),
        (lambda d: d["annotations"][0].update(category_id="cat"),
         "category_id must be a whole number, not str 'cat'"),
        (lambda d: d["annotations"][0].update(video_id=7), "no video has id 7"),
        (lambda d: d["videos"][0].update(height=100_000, width=100_000),
         "declares 100000x100000 pixels"),
        (lambda d: d["videos"][0].update(height=float("nan")), "height must be a whole number"),
    ],
)
def test_instances_fields_of_the_wrong_type_are_named(lvvis_root, change, message) -> None:
    path = _edit_instances(lvvis_root, change)
    with pytest.raises(AnnotatorError, match=message) as caught:
        lvvis.read_instances(path)
    assert caught.value.path == path


def test_two_videos_with_the_same_name_are_refused(lvvis_root, tmp_path, capsys) -> None:
    def twin(data):
        data["videos"].append({**data["videos"][0], "id": 2})

    _edit_instances(lvvis_root, twin)
    _convert_fails(capsys, lvvis_root, tmp_path / "out", "ids 1 and 2", "same name 'bear'")


def test_category_id_as_text_stops_convert_in_one_line(lvvis_root, tmp_path, capsys) -> None:
    _edit_instances(lvvis_root, lambda d: d["annotations"][0].update(category_id="cat"))
    _convert_fails(capsys, lvvis_root, tmp_path / "out", "category_id")


def test_split_named_for_another_instances_file_is_refused(lvvis_root, tmp_path, capsys) -> None:
    """`--split val` where the frames are shared and only train_instances.json is there used to
    read no masks at all, in silence (the follow-up from #11)."""
    out = tmp_path / "val"
    assert main(["convert", str(lvvis_root), str(out), "--to", "lvos", "--split", "val"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for words in (str(lvvis_root), "no val_instances.json", "train_instances.json",
                  "--split train"):
        assert words in err, err
    assert not out.exists() or not list(out.rglob("*.png"))
    with pytest.raises(AnnotatorError, match=r"only train_instances.json"):
        open_dataset(lvvis_root, split="val")
    # the split the file is named for reads every mask back
    assert main(["convert", str(lvvis_root), str(out), "--to", "lvos", "--split", "train"]) == 0
    source = sorted((tmp_path / "lvos" / "Annotations" / "bear").glob("*.png"))
    written = sorted((out / "Annotations" / "bear").glob("*.png"))  # LVOS' 8-digit names
    assert [p.name for p in written] == ["00000000.png", "00000001.png", "00000002.png"]
    for path, original in zip(written, source, strict=True):
        expected = read_label_map(original)
        assert np.count_nonzero(expected) > 0
        np.testing.assert_array_equal(read_label_map(path), expected)


# ---- JSON text -------------------------------------------------------------------------------

def test_json_that_is_not_utf8_names_the_file_and_the_byte(tmp_path, davis_root) -> None:
    root = lvos_dataset(davis_root, tmp_path / "lvos")
    meta = root / "train_meta.json"
    meta.write_bytes('{"videos": {"bear": {"objects": {"1": {"category": "b\xe4r"}}}}}'
                     .encode("latin-1"))
    with pytest.raises(AnnotatorError, match=r"train_meta\.json: not UTF-8 text \(byte 0xe4"):
        convert(root, tmp_path / "out", "davis")
    huge = tmp_path / "huge.json"
    huge.write_text("[" + "9" * 5000 + "]")  # past Python's int-parsing limit
    with pytest.raises(AnnotatorError, match=r"huge\.json: not valid JSON"):
        read_json(huge)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(AnnotatorError, match=r"deep\.json: not valid JSON"):
        read_json(deep)


def test_names_that_are_not_utf8_are_refused_not_written_as_lone_surrogates(
    tmp_path: Path, davis_root: Path
) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    source = davis_root / "JPEGImages/480p/bear"
    for index in range(2):
        os.link(source / f"{index:05d}.jpg", folder / f"{index:05d}.jpg")
    odd = os.fsdecode(b"fr\xe9me.jpg")  # a Latin-1 name: not UTF-8
    os.link(source / "00002.jpg", folder / odd)
    with pytest.raises(AnnotatorError, match=r"fr\\\\xe9me\.jpg.*not valid UTF-8"):
        open_frames(folder)
    target = tmp_path / "out.json"
    with pytest.raises(AnnotatorError, match="not valid UTF-8"):
        write_json(target, {"file_names": [odd]})
    assert not list(tmp_path.glob("*out.json*"))  # neither the file nor a temporary
    text = {"name": "b\xe4r \U0001f43b"}  # real non-ASCII text is fine
    write_json(target, text)
    assert json.loads(target.read_bytes().decode("utf-8", "strict")) == text


# ---- images: decompression bombs, truncation, mixed sizes ---------------------------------

def test_png_declaring_20000x20000_is_refused_as_frame_mask_and_labelme_mask(
    tmp_path: Path, davis_root: Path
) -> None:
    bomb = png_declaring(20_000, 20_000)
    root = lvos_dataset(davis_root, tmp_path / "lvos")
    started = time.perf_counter()
    frame = root / "JPEGImages/bear/00003.png"
    frame.write_bytes(bomb)
    with pytest.raises(AnnotatorError, match=r"00003\.png: frame declares more than 67,108,864"):
        read_rgb(frame)
    mask = root / "Annotations/bear/00001.png"
    mask.unlink()
    mask.write_bytes(bomb)
    with pytest.raises(AnnotatorError, match=r"00001\.png: mask declares more than"):
        read_label_map(mask, (H, W))
    shape = {"label": "a", "shape_type": "mask", "points": [[0, 0], [19_999, 19_999]],
             "mask": base64.b64encode(bomb).decode()}
    document = tmp_path / "frame.json"
    document.write_text(json.dumps({"shapes": [shape], "imageHeight": H, "imageWidth": W}))
    with pytest.raises(AnnotatorError, match=r"frame\.json: shape 0 \('a'\): mask declares"):
        labelme.read_frame(document)
    just_over = tmp_path / "big.png"  # over the budget, under Pillow's own limit
    just_over.write_bytes(png_declaring(10_000, 7_000))
    with pytest.raises(AnnotatorError, match=r"big\.png: mask declares 10000x7000 pixels"):
        read_label_map(just_over)
    assert time.perf_counter() - started < 10  # nothing was decoded


def test_convert_refuses_a_truncated_frame_and_mixed_sizes(tmp_path, davis_root, capsys):
    root = lvos_dataset(davis_root, tmp_path / "lvos", frames=4)
    frame = root / "JPEGImages/bear/00002.jpg"
    whole = frame.read_bytes()
    frame.unlink()  # a hard link: write a new file
    frame.write_bytes(whole[: len(whole) // 2])
    err = _convert_fails(capsys, root, tmp_path / "out", "00002.jpg", "truncated")
    assert err.startswith("vos-annotator: error: ")
    frame.unlink()
    Image.open(davis_root / "JPEGImages/480p/bear/00002.jpg").resize((427, 240)).save(frame)
    _convert_fails(capsys, root, tmp_path / "out", "00002.jpg", "427x240", "854x480")
    frame.unlink()
    frame.write_bytes(whole + b"camera trailer")  # whole, with data after the image
    assert main(["convert", str(root), str(tmp_path / "out"), "--to", "davis"]) == 0
    copied = tmp_path / "out/JPEGImages/480p/bear/00002.jpg"
    assert copied.read_bytes() == whole + b"camera trailer"


# ---- labelme shapes --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["circle", "rectangle"])
@pytest.mark.parametrize("value", [float("nan"), 1e30, float("inf")])
def test_labelme_circles_and_rectangles_with_nan_or_huge_points(tmp_path, kind, value) -> None:
    path = tmp_path / "f.json"
    shape = {"label": "a", "shape_type": kind, "points": [[10, 10], [value, 20]]}
    path.write_text(json.dumps({"shapes": [shape], "imageHeight": 40, "imageWidth": 50}))
    with pytest.raises(AnnotatorError, match=r"f\.json: shape 0 \('a'\): points must be finite"):
        labelme.read_frame(path)


def test_labelme_mask_at_a_negative_offset_is_kept_and_clipped(tmp_path, davis_root) -> None:
    truth = read_label_map(davis_root / "Annotations/480p/bear/00000.png") == 1
    ys, xs = np.nonzero(truth)
    piece = truth[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    buffer = io.BytesIO()
    Image.fromarray(piece).save(buffer, format="PNG")
    x0, y0 = -37, -25  # the box starts above and left of the frame
    h, w = piece.shape
    shape = {"label": "bear", "group_id": 1, "shape_type": "mask",
             "points": [[x0, y0], [x0 + w - 1, y0 + h - 1]],
             "mask": base64.b64encode(buffer.getvalue()).decode()}
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"shapes": [shape], "imageHeight": H, "imageWidth": W}))
    labels, _ = labelme.read_frame(path)
    assert np.array_equal(labels[: y0 + h, : x0 + w] == 1, piece[-y0:, -x0:])
    assert (labels == 1).sum() == piece[-y0:, -x0:].sum() > 0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"shapes": [], "imageHeight": -3, "imageWidth": 5}, "height is -3; it must be at least 1"),
        ({"shapes": [], "imageHeight": 10**5, "imageWidth": 10**5}, "declares 100000x100000"),
        ({"shapes": [{"label": ["a"], "points": [[0, 0], [3, 0], [3, 3]]}],
          "imageHeight": 5, "imageWidth": 5}, "shape 0: label must be text"),
        ({"shapes": [7], "imageHeight": 5, "imageWidth": 5}, "shape 0 must be an object"),
    ],
)
def test_labelme_fields_of_the_wrong_type_are_named(tmp_path, document, message) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(document))
    with pytest.raises(AnnotatorError, match=message):
        labelme.read_frame(path)


# ---- models and commands ---------------------------------------------------------------------

def test_sam_checkpoint_with_an_unnumbered_block_is_named(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("VOS_ANNOTATOR_WEIGHTS", str(tmp_path / "weights"))
    state = {"mask_decoder.a": torch.zeros(1),
             "image_encoder.patch_embed.proj.weight": torch.zeros(768, 3, 16, 16),
             "image_encoder.blocks.abc.attn.qkv.weight": torch.zeros(1)}
    checkpoint = tmp_path / "sam_vit_b.pth"
    torch.save(state, checkpoint)
    assert main(["weights", "add", str(checkpoint)]) == 2
    err = capsys.readouterr().err.strip()
    assert "sam_vit_b.pth" in err and "block 'abc'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "weights").exists()


@pytest.mark.parametrize(
    ("box", "message"),
    [("2000,2000,3000,3000", "empty inside the 854x480 frame"),
     ("nan,0,10,10", "must be numbers"), ("0,0,inf,10", "must be numbers"),
     ("-100,-100,-50,-50", "empty inside")],
)
def test_segment_box_outside_the_image_or_nan(davis_root, tmp_path, capsys, box, message):
    image = davis_root / "JPEGImages/480p/bear/00000.jpg"
    out = tmp_path / "mask.png"
    assert main(["segment", str(image), f"--box={box}", "--out", str(out),
                 "--engine", "classic"]) == 2
    err = capsys.readouterr().err.strip()
    assert "00000.jpg" in err and message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_segment_box_partly_outside_is_cut_to_the_image(davis_root, tmp_path) -> None:
    image = tmp_path / "crop.png"  # small: the classic segmenter is quick on it
    Image.open(davis_root / "JPEGImages/480p/bear/00000.jpg").crop((200, 150, 360, 270)).save(
        image)
    session = ClickSession(ClassicSegmenter())
    session.set_frame(0, read_rgb(image))
    session.set_box(500, -300, 40, 100)  # corners in any order, past the top and the right
    assert session.box == (40.0, 0.0, 159.0, 100.0)
    assert session.mask is not None and session.mask.shape == (120, 160) and session.mask.any()
    out = tmp_path / "mask.png"
    assert main(["segment", str(image), "--box=40,-300,500,100", "--out", str(out),
                 "--engine", "classic"]) == 0
    assert read_label_map(out).any()


def test_propagate_refuses_frames_too_small_in_one_line(tmp_path, davis_root, capsys) -> None:
    frames, masks = tmp_path / "frames", tmp_path / "masks"
    frames.mkdir()
    masks.mkdir()
    for index in range(3):
        rgb = np.asarray(Image.open(davis_root / f"JPEGImages/480p/bear/{index:05d}.jpg"))
        Image.fromarray(rgb[200:201, 400:401]).save(frames / f"{index:05d}.png")  # 1x1
    Image.fromarray(np.ones((1, 1), np.uint8), "L").save(masks / "00000.png")
    assert main(["propagate", str(frames), "--masks", str(masks), "--out", str(tmp_path / "o"),
                 "--engine", "classic"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"vos-annotator: error: {frames}: frames are 1x1 pixels; propagation "
                       "needs at least 32x32")
    assert not any("Traceback" in line for line in err)


def test_evaluate_meta_with_a_giant_range_allocates_nothing(tmp_path, davis_root, capsys):
    gt = tmp_path / "gt/bear"
    gt.mkdir(parents=True)
    for index in range(3):
        os.link(davis_root / f"Annotations/480p/bear/{index:05d}.png", gt / f"{index:08d}.png")
    meta = tmp_path / "valid_meta.json"
    meta.write_text(json.dumps({"videos": {"bear": {"objects": {"1": {"frame_range": {
        "start": "00000000", "end": "2000000000", "frame_nums": 3}}}}}}))
    started = time.perf_counter()
    assert main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "gt"),
                 "--meta", str(meta), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "valid_meta.json" in err and "walks 400000000 frames but the video has 3" in err
    assert time.perf_counter() - started < 5
    meta.write_text(json.dumps({"videos": {"bear": {"objects": {"1": {"frame_range": {
        "start": "0", "end": "20", "frame_nums": float("inf")}}}}}}))
    assert main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "gt"),
                 "--meta", str(meta), "--jobs", "1"]) == 2
    assert "valid_meta.json" in capsys.readouterr().err


def test_meta_and_categories_fields_of_the_wrong_type(tmp_path, davis_root) -> None:
    root = lvos_dataset(davis_root, tmp_path / "lvos")
    for entry, message in (({"objects": {"300": {}}}, "object id is 300, outside 1..254"),
                           ({"attributes": 5}, "attributes must be a list, not int"),
                           ({"objects": {"1": {"category": 7}}}, "category must be text")):
        write_json(root / "train_meta.json", {"videos": {"bear": entry}})
        with pytest.raises(AnnotatorError, match=rf"train_meta\.json: video 'bear': .*{message}"):
            convert(root, tmp_path / "out", "davis")
    (root / "train_meta.json").unlink()
    categories = tmp_path / "categories.json"
    categories.write_text(json.dumps([{"id": "one", "name": "bear"}]))
    with pytest.raises(AnnotatorError, match=r"categories\.json: a category's id must be a whole"):
        convert(root, tmp_path / "out", "lvvis", categories=categories)
    categories.write_text(json.dumps([{"id": 1, "name": "bear"}, {"id": 1, "name": "cat"}]))
    with pytest.raises(AnnotatorError, match=r"categories\.json: categories 'bear' and 'cat'"):
        convert(root, tmp_path / "out", "lvvis", categories=categories)
    assert not list((tmp_path / "out").rglob("*.json"))
    assert open_dataset(root).videos == ["bear"]
