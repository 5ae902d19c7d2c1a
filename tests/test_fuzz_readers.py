"""Fuzz suite over every reader: seeded mutations of real files made from the DAVIS dev data
(truncations, bit flips, lying image headers, JSON values of the wrong type, huge numbers,
NaN, hostile text). Each case must end in a usable, checked result or in the project's own
error (AnnotatorError); never another exception, never a crash (the readers that reach
pycocotools or FFmpeg run in a child process), never a file written outside the output folder.

Seeds and case counts are fixed, so a failure names a case that can be replayed from its
label; the suite is sized to run in a few seconds on an idle machine."""

from __future__ import annotations

import itertools
import json
import os
import random
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from fuzz_mutations import image_cases, json_cases
from hostile_files import REPO, lvos_dataset
from PIL import Image

from annotator.annotation.journal import journal_path, recover
from annotator.annotation.marks import QAMark, Verdict
from annotator.annotation.project import Project
from annotator.annotation.state_file import DamagedState, read_state, state_path
from annotator.annotation.video_annotation import VideoAnnotation
from annotator.engine.weights import REGISTRY_FILE, read_registry
from annotator.errors import AnnotatorError
from annotator.formats import labelme, lvos
from annotator.formats.categories import read_categories
from annotator.formats.convert import convert
from annotator.formats.lvvis_results import read_scores
from annotator.formats.masks import read_label_map, write_label_map
from annotator.formats.reader import read_video
from annotator.formats.segmentations import encode_masks
from annotator.quality.plan import lvos_plan
from annotator.video.dataset import open_dataset
from annotator.video.folder import check_frame_file, read_rgb
from annotator.video.images import MAX_PIXELS

SEED = 10  # the number; change it to explore, keep it fixed in CI
CASE_SECONDS = 10  # one case's bound (a hang fails it); each takes milliseconds
CHILD_SECONDS = 180  # the child process's bound for all its cases (about 5 s on an idle machine)
CHILD_MEMORY = 6 << 30  # its address-space limit: a runaway allocation fails, never swaps
H, W = 480, 854
VIDEO = "bear"


@dataclass
class Corpus:
    """Real files to mutate, made once from three frames of 'bear' (two objects and void)."""

    root: Path  # an LVOS dataset with meta, expression meta, state file
    lvvis: Path  # the same as LV-VIS (RLE, one frame as polygons, one as uncompressed RLE)
    labelme: Path  # the same as labelme JSON files
    video: Path  # eight frames as an H.264 file
    journal: bytes  # a recovery journal of an unsaved session
    mask: Path  # a palette PNG written by the tool


def _two_objects_and_void(labels: np.ndarray) -> np.ndarray:
    out = labels.copy()
    xs = np.nonzero(labels)[1]
    middle = int(np.median(xs)) if xs.size else W // 2
    out[:, middle:][out[:, middle:] == 1] = 2
    out[:8, :] = 255  # a strip of void along the top
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, davis_root: Path) -> Corpus:
    base = tmp_path_factory.mktemp("corpus")
    root = lvos_dataset(davis_root, base / "lvos", VIDEO, frames=3)
    for path in sorted((root / "Annotations" / VIDEO).glob("*.png")):
        labels = _two_objects_and_void(read_label_map(path))
        path.unlink()  # a hard link to the dev data: replace, never change
        write_label_map(path, labels)
    project = Project.open(root)
    project.annotation.objects  # noqa: B018 - loaded
    project.annotation.set_mark(1, QAMark(Verdict.NEEDS_FIX, "paw"))
    project.save()
    project.annotation.paint(2, 1, np.pad(np.ones((20, 20), bool), ((30, H - 50), (30, W - 50))))
    project.close()  # unsaved: the journal stays
    journal = journal_path(root, VIDEO).read_bytes()
    project = Project.open(root)
    project.discard_recovery()
    project.close()
    meta = json.loads((root / "train_meta.json").read_text())
    meta["videos"][VIDEO]["objects"]["1"]["category"] = "bear"
    meta["videos"][VIDEO]["attributes"] = ["occlusion"]
    (root / "train_meta.json").write_text(json.dumps(meta))
    expressions = {"videos": {VIDEO: {"expressions": {"0": {"exp": "the bear", "obj_id": "1"}},
                                      "frames": ["00000", "00001", "00002"]}}}
    (root / "train_expression_meta.json").write_text(json.dumps(expressions))
    lvvis = base / "lvvis"
    convert(root, lvvis, "lvvis", split="train")
    instances = lvvis / "train_instances.json"
    data = json.loads(instances.read_text())
    first = read_label_map(root / "Annotations" / VIDEO / "00000.png")
    contours, _ = cv2.findContours((first == 2).astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polygons = [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]
    data["annotations"][1]["segmentations"][0] = polygons
    (rle,) = encode_masks((first == 1).astype(np.uint8), [1])
    runs = np.diff(np.flatnonzero(np.diff(np.r_[2, (first == 1).ravel(order="F"), 2])))
    data["annotations"][0]["segmentations"][0] = {"size": rle["size"], "counts": runs.tolist()}
    instances.write_text(json.dumps(data))
    labelme_root = base / "labelme"
    convert(root, labelme_root, "labelme")
    video = base / "bear.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 214, 120, "yuv420p"
        for index in range(8):
            rgb = Image.open(davis_root / f"JPEGImages/480p/{VIDEO}/{index:05d}.jpg")
            frame = av.VideoFrame.from_image(rgb.resize((214, 120)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return Corpus(root, lvvis, labelme_root, video, journal,
                  root / "Annotations" / VIDEO / "00000.png")


class _Hang(BaseException):
    """Raised in a case that runs past CASE_SECONDS (a BaseException: no reader swallows it)."""


@contextmanager
def _bounded(seconds: float = CASE_SECONDS) -> Iterator[None]:
    """Interrupt the block with _Hang after `seconds` (a hang is a failure, not a stall)."""

    def stop(signum: int, frame: object) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _failures(cases: Iterable[tuple[str, bytes]], target: Path,
              read: Callable[[Path], Any], check: Callable[[Any], None]) -> list[str]:
    """Write each case at `target` and read it: AnnotatorError naming the file, or a result
    that passes `check`; anything else (another exception, a hang) is a failure, named by its
    case."""
    failures = []
    for label, data in cases:
        target.write_bytes(data)
        try:
            with _bounded():
                result = read(target)
        except AnnotatorError as exc:
            if str(target) not in str(exc):
                failures.append(f"{target.name} {label}: the error names no file: {exc}"[:300])
            continue
        except _Hang:
            failures.append(f"{target.name} {label}: no answer in {CASE_SECONDS} s")
            continue
        except Exception as exc:
            failures.append(f"{target.name} {label}: {type(exc).__name__}: {exc}"[:300])
            continue
        try:
            check(result)
        except AssertionError as exc:
            failures.append(f"{target.name} {label}: wrong result: {exc}"[:300])
    return failures


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")


def _is_label_map(labels: Any, size: tuple[int, int]) -> None:
    assert isinstance(labels, np.ndarray) and labels.dtype == np.uint8, type(labels)
    assert labels.shape == size, labels.shape


# ---- images ----------------------------------------------------------------------------------

def test_fuzz_masks(corpus: Corpus, davis_root: Path, tmp_path: Path) -> None:
    failures = []
    for name, original in (("palette", corpus.mask.read_bytes()),
                           ("grey-alpha", (davis_root / "Annotations/480p/bear/00077.png")
                            .read_bytes())):
        failures += _failures(image_cases(original, _rng(name), 30), tmp_path / f"{name}.png",
                              lambda p: read_label_map(p, (H, W)),
                              lambda labels: _is_label_map(labels, (H, W)))
    assert not failures, "\n".join(failures)


def test_fuzz_frames(corpus: Corpus, tmp_path: Path) -> None:
    original = (corpus.root / "JPEGImages" / VIDEO / "00000.jpg").read_bytes()

    def check(frame: np.ndarray) -> None:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert frame.shape[0] * frame.shape[1] <= MAX_PIXELS

    def read(path: Path) -> np.ndarray:
        check_frame_file(path, (H, W))  # convert's check before it copies a frame
        return read_rgb(path)

    failures = _failures(image_cases(original, _rng("jpeg"), 40), tmp_path / "00000.jpg",
                         read, check)
    png = (tmp_path / "frame.png")
    Image.open(corpus.root / "JPEGImages" / VIDEO / "00001.jpg").save(png)
    failures += _failures(image_cases(png.read_bytes(), _rng("png"), 15), png, read_rgb, check)
    assert not failures, "\n".join(failures)


# ---- JSON readers ----------------------------------------------------------------------------

def _document(path: Path) -> Any:
    return json.loads(path.read_text())


def test_fuzz_labelme(corpus: Corpus, tmp_path: Path) -> None:
    files = sorted((corpus.labelme / "JPEGImages" / VIDEO).glob("*.json"))
    with_mask = next(f for f in files if '"mask"' in f.read_text() and "base64" not in f.name)

    def check(result: tuple[np.ndarray, dict[int, Any]]) -> None:
        labels, objects = result
        assert labels.dtype == np.uint8 and labels.ndim == 2
        assert all(1 <= i <= 254 for i in objects)

    failures = []
    for number, path in enumerate([*files[:2], with_mask]):
        cases = json_cases(_document(path), _rng(f"labelme{number}"), 30)
        failures += _failures(cases, tmp_path / "frame.json", labelme.read_frame, check)
    sized = json_cases(_document(files[0]), _rng("labelme-sized"), 20)
    failures += _failures(sized, tmp_path / "sized.json",
                          lambda p: labelme.read_frame(p, (H, W)), check)
    assert not failures, "\n".join(failures)


def test_fuzz_lvos_meta_and_expressions(corpus: Corpus, tmp_path: Path) -> None:
    root = tmp_path / "lvos"
    root.mkdir()
    for kind in ("JPEGImages", "Annotations"):
        os.symlink(corpus.root / kind, root / kind)
    dataset = open_dataset(root)

    def read(path: Path) -> Any:
        video = read_video(dataset, VIDEO)
        return video, lvos.read_meta(path) if path.name == "train_meta.json" else None

    def check(result: Any) -> None:
        video, _ = result
        assert all(1 <= i <= 254 and isinstance(o.category, str) and isinstance(o.caption, str)
                   for i, o in video.objects.items())
        assert all(isinstance(a, str) for a in video.attributes)

    failures = []
    for name in ("train_meta.json", "train_expression_meta.json"):
        cases = json_cases(_document(corpus.root / name), _rng(name), 40)
        failures += _failures(cases, root / name, read, check)
        (root / name).unlink()
    assert not failures, "\n".join(failures)


def test_fuzz_categories_scores_and_registry(corpus: Corpus, tmp_path: Path) -> None:
    categories = _document(corpus.lvvis / "train_instances.json")["categories"]
    failures = _failures(json_cases(categories, _rng("categories"), 30),
                         tmp_path / "categories.json", read_categories,
                         lambda table: None)
    text = "\n".join(c["name"] for c in categories).encode() + b"\n# a comment\n"
    failures += _failures(image_cases(text, _rng("categories.txt"), 10),
                          tmp_path / "categories.txt", read_categories, lambda table: None)
    scores = {VIDEO: {"1": 0.9, "2": 0.5}}

    def scores_check(read: dict[str, dict[int, float]]) -> None:
        assert all(np.isfinite(v) for objects in read.values() for v in objects.values())

    failures += _failures(json_cases(scores, _rng("scores"), 20), tmp_path / "scores.json",
                          read_scores, scores_check)
    registry = {"vit_t": {"path": str(tmp_path / "mobile_sam.pt"), "size": 10, "sha256": "ab"}}
    folder = tmp_path / "weights"
    folder.mkdir()
    failures += _failures(json_cases(registry, _rng("registry"), 20), folder / REGISTRY_FILE,
                          lambda p: read_registry(p.parent), lambda table: None)
    assert not failures, "\n".join(failures)


def test_fuzz_state_file_and_journal(corpus: Corpus, tmp_path: Path) -> None:
    names = ["00000", "00001", "00002"]
    state = _document(state_path(corpus.root, VIDEO))
    root = tmp_path / "root"

    def read_and_load(path: Path) -> VideoAnnotation:
        annotation = VideoAnnotation(names, H, W)
        try:
            data = read_state(root, VIDEO, names)
        except DamagedState as exc:
            assert exc.kept is None  # no kept copy here
            raise
        if data is not None:
            annotation.load_state_dict(data)
        return annotation

    def check_state(annotation: VideoAnnotation) -> None:
        assert all(1 <= i <= 254 for i in annotation.objects)
        assert all(0 <= i < 3 for i in annotation.marks)

    target = state_path(root, VIDEO)
    target.parent.mkdir(parents=True)
    failures = _failures(json_cases(state, _rng("state"), 50), target, read_and_load,
                         check_state)

    def replay(path: Path) -> tuple[VideoAnnotation, Any]:
        annotation = VideoAnnotation(names, H, W)
        return annotation, recover(annotation, root, VIDEO)

    def check_replay(result: tuple[VideoAnnotation, Any]) -> None:
        annotation, recovery = result
        for index in recovery.frames:
            _is_label_map(annotation.label_map(index), (H, W))

    journal = journal_path(root, VIDEO)
    failures += _failures(image_cases(corpus.journal, _rng("journal"), 30), journal, replay,
                          check_replay)
    assert not failures, "\n".join(failures)


def test_fuzz_evaluation_meta(corpus: Corpus, tmp_path: Path) -> None:
    gt = tmp_path / "gt" / VIDEO
    gt.mkdir(parents=True)
    for index in range(3):
        os.symlink(corpus.root / f"Annotations/{VIDEO}/{index:05d}.png", gt / f"{index:08d}.png")
    meta = {"videos": {VIDEO: {"objects": {"1": {"frame_range": {
        "start": "00000000", "end": "00000002", "frame_nums": 2}}, "2": {"frame_range": {
            "start": "00000000", "end": "00000001", "frame_nums": 2}}}}}}

    def check(plan: Any) -> None:
        assert all(len(track.frames) <= 4 for track in plan.tracks)

    failures = _failures(json_cases(meta, _rng("evaluate"), 40), tmp_path / "valid_meta.json",
                         lambda p: lvos_plan(p, tmp_path / "gt"), check)
    assert not failures, "\n".join(failures)


def test_fuzz_convert_writes_only_into_its_output(corpus: Corpus, tmp_path: Path) -> None:
    """Mutated labelme datasets through convert: a clean error or an output, and no file
    anywhere but in the output folder."""
    rng = _rng("convert-labelme")
    first = corpus.labelme / "JPEGImages" / VIDEO / "00000.json"
    failures = []
    for number, (label, data) in enumerate(json_cases(_document(first), rng, 8)):
        source = tmp_path / f"src{number}"
        (source / "JPEGImages").mkdir(parents=True)
        frames = source / "JPEGImages" / VIDEO
        frames.mkdir()
        for path in (corpus.labelme / "JPEGImages" / VIDEO).iterdir():
            os.link(path, frames / path.name)
        (frames / "00000.json").unlink()
        (frames / "00000.json").write_bytes(data)
        before = _tree(tmp_path)
        out = tmp_path / f"out{number}"
        try:
            with _bounded():
                convert(source, out, "lvos", split="train")
        except AnnotatorError:
            pass
        except _Hang:
            failures.append(f"{label}: no answer in {CASE_SECONDS} s")
        except Exception as exc:
            failures.append(f"{label}: {type(exc).__name__}: {exc}"[:300])
        failures += [f"{label}: wrote {p}" for p in _tree(tmp_path) - before
                     if out not in Path(p).parents]
    assert not failures, "\n".join(failures)


def _tree(folder: Path) -> set[str]:
    return {f"{p}" for p in folder.rglob("*") if p.is_file()}


# ---- native code: pycocotools and FFmpeg, in a child process ------------------------------

def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def _run_child(manifest: Path) -> list[dict[str, str]]:
    """The results of fuzz_child.py on `manifest`; a crash, a hang or a traceback outside the
    cases fails the test, naming the case it was in."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    command = [sys.executable, str(REPO / "tests" / "fuzz_child.py"), str(manifest)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                              timeout=CHILD_SECONDS, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"the child hung for {CHILD_SECONDS} s in case {_last_case(output)}")
    assert done.returncode == 0, (f"the child died ({done.returncode}) in case "
                                  f"{_last_case(done.stdout)}\n{done.stderr[-2000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _last_case(output: str) -> str:
    started = [line[6:] for line in output.splitlines() if line.startswith("start ")]
    return started[-1] if started else "? (before the first)"


def test_fuzz_instances_and_video_files_in_a_child_process(corpus: Corpus,
                                                           tmp_path: Path) -> None:
    cases: list[dict[str, str]] = []
    instances = _document(corpus.lvvis / "train_instances.json")
    anywhere = json_cases(instances, _rng("instances"), 60)
    # and inside the segmentations, where pycocotools is one check away: the uncompressed RLE
    # of object 1 and the polygons of object 2 (see the corpus)
    rle = json_cases(instances, _rng("rle"), 12, ("annotations", 0, "segmentations", 0))
    polygons = json_cases(instances, _rng("polygons"), 12, ("annotations", 1, "segmentations"))
    for label, data in itertools.chain(anywhere, rle, polygons):
        path = tmp_path / f"instances-{len(cases)}.json"
        path.write_bytes(data)
        cases.append({"label": f"instances {label}", "kind": "instances", "path": str(path)})
    for label, data in image_cases(corpus.video.read_bytes(), _rng("video"), 16):
        path = tmp_path / f"video-{len(cases)}.mp4"
        path.write_bytes(data)
        cases.append({"label": f"video {label}", "kind": "video", "path": str(path)})
    for number, (label, data) in enumerate(json_cases(instances, _rng("convert-lvvis"), 6)):
        source = tmp_path / f"lvvis{number}"
        (source / "JPEGImages").mkdir(parents=True)
        os.symlink(corpus.lvvis / "JPEGImages" / VIDEO, source / "JPEGImages" / VIDEO)
        (source / "train_instances.json").write_bytes(data)
        cases.append({"label": f"convert {label}", "kind": "convert", "path": str(source),
                      "out": str(tmp_path / f"out{number}")})
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(cases))
    before = _tree(tmp_path)
    results = _run_child(manifest)
    assert [r["label"] for r in results] == [c["label"] for c in cases]
    bugs = [f"{r['label']}: {r['detail']}" for r in results if r["outcome"] == "bug"]
    assert not bugs, "\n\n".join(bugs)
    unnamed = [f"{r['label']}: {r['detail']}" for r, c in zip(results, cases, strict=True)
               if r["outcome"] == "refused" and c["path"] not in r["detail"]]
    assert not unnamed, "errors that name no file:\n" + "\n".join(unnamed)
    outs = [Path(c["out"]) for c in cases if "out" in c]
    stray = [p for p in _tree(tmp_path) - before if not any(o in Path(p).parents for o in outs)]
    assert not stray, stray
    outcomes = {r["outcome"] for r in results}
    assert outcomes == {"ok", "refused"}  # the mutations reach both ends
