"""`vos-annotator segment`: one object's mask from clicks and a box on one image."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from annotator.engine.choices import CLICK_ENGINES
from annotator.errors import AnnotatorError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "segment", help="segment one object in an image from clicks and/or a box",
        description="Write a palette PNG with the object as id 1. Prompts are applied in the "
        "order a person would give them: the box first, then the points in order.",
    )
    parser.add_argument("image", type=Path, help="the image (JPEG, PNG, ...)")
    parser.add_argument("--point", action="append", default=[], type=parse_point,
                        metavar="X,Y[,neg]", help="a click in pixels; add ',neg' for background")
    parser.add_argument("--box", type=parse_box, metavar="X0,Y0,X1,Y1", help="a box in pixels")
    parser.add_argument("--out", type=Path, required=True, help="the mask PNG to write")
    parser.add_argument("--engine", choices=CLICK_ENGINES, default="auto")
    parser.add_argument("--weights", type=Path,
                        help="a SAM / MobileSAM checkpoint file, or a SAM 2.1 one with --engine "
                        "sam2")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.set_defaults(run=run)


def parse_point(text: str) -> tuple[float, float, bool]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].lower() not in ("neg", "pos")):
        raise argparse.ArgumentTypeError(f"expected X,Y or X,Y,neg, got {text!r}")
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"point coordinates must be numbers: {text!r}") from exc
    return x, y, len(parts) == 2 or parts[2].lower() == "pos"


def parse_box(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"box coordinates must be numbers: {text!r}") from exc
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"expected X0,Y0,X1,Y1, got {text!r}")
    return values  # type: ignore[return-value]


def run(args: argparse.Namespace) -> int:
    from annotator.engine.click_session import ClickSession
    from annotator.engine.segmenters import make_click_segmenter
    from annotator.formats.masks import write_label_map
    from annotator.video.folder import read_rgb

    if not args.point and args.box is None:
        raise AnnotatorError("give at least one --point or a --box")
    frame = read_rgb(args.image)
    h, w = frame.shape[:2]
    for x, y, _ in args.point:
        if not (0 <= x < w and 0 <= y < h):
            raise AnnotatorError(f"point {x:g},{y:g} is outside the {w}x{h} image", args.image)
    segmenter, info = make_click_segmenter(args.engine, args.weights, args.device)
    print(f"engine: {info.line}")
    session = ClickSession(segmenter)
    session.set_frame(0, frame)
    if args.box is not None:
        try:
            session.set_box(*args.box)
        except ValueError as exc:
            raise AnnotatorError(f"bad --box: {exc}", args.image) from exc
    for x, y, positive in args.point:
        session.add_click(x, y, positive)
    mask = session.mask
    assert mask is not None  # a box or a point was given
    write_label_map(args.out, mask.astype(np.uint8))
    print(f"wrote {args.out}: {int(mask.sum())} pixels of {w * h} in the object")
    return 0
