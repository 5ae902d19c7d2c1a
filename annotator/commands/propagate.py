"""`vos-annotator propagate`: carry keyframe masks through a video, one palette PNG per frame."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, fields
from pathlib import Path

from annotator.engine.choices import PROPAGATION_ENGINES, PropagationOptions
from annotator.engine.propagation import DIRECTIONS

DESCRIPTION = (
    "Read the keyframe label maps in --masks (palette PNGs named like their frames), propagate "
    "them through FRAMES and write one palette PNG per frame to --out. Keyframes are copied "
    "through; frames no pass reaches are written empty. With --objects only those objects are "
    "propagated and the masks already in --out keep the others."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("propagate", help="propagate keyframe masks through a video",
                                   description=DESCRIPTION)
    parser.add_argument("frames", type=Path, help="a folder of frames or a video file")
    parser.add_argument("--masks", type=Path, required=True, help="folder of keyframe masks")
    parser.add_argument("--out", type=Path, required=True, help="folder for the masks")
    parser.add_argument(
        "--objects", type=parse_objects, metavar="ID,ID",
        help="propagate only these objects; the others keep what the masks in --out hold")
    add_engine_options(parser)
    parser.set_defaults(run=run)


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """The propagation engine's options, shared by `propagate` and `batch propagate` (each
    one a field of `PropagationOptions`, read back by `engine_options`), and the direction."""
    parser.add_argument("--engine", choices=PROPAGATION_ENGINES, default="auto")
    parser.add_argument("--weights", type=Path,
                        help="an STCN checkpoint (stcn.pth) or, with --engine sam2, a SAM 2.1 "
                        "checkpoint (sam2.1_hiera_*.pt)")
    parser.add_argument("--top-k", type=_positive, default=20, help="memory pixels per query")
    parser.add_argument("--mem-every", type=_positive, default=5, help="memory frame every N")
    parser.add_argument(
        "--memory-frames", type=_positive, help="memory budget in frames (default 20)"
    )
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--direction", choices=DIRECTIONS, default="both")


def engine_options(args: argparse.Namespace) -> PropagationOptions:
    """The engine options `add_engine_options` parsed, as the engine layer takes them."""
    values = {f.name: getattr(args, f.name) for f in fields(PropagationOptions)}
    plain = {name: str(v) if isinstance(v, Path) else v for name, v in values.items()}
    return PropagationOptions(**plain)


def parse_objects(text: str) -> tuple[int, ...]:
    """`1,3` -> (1, 3): object ids 1..254, each once."""
    try:
        ids = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected object ids like 1,3, got {text!r}") from exc
    if not ids or not all(1 <= i <= 254 for i in ids):
        raise argparse.ArgumentTypeError(f"object ids are 1..254, got {text!r}")
    return ids


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    from annotator.engine.propagators import make_propagator
    from annotator.engine.video_job import keyframe_files, propagate_to_folder, read_keyframes
    from annotator.video.opening import open_frames

    with open_frames(args.frames) as source:
        keyframes = read_keyframes(keyframe_files(args.masks), source)
        propagator, info = make_propagator(**asdict(engine_options(args)))
        print(f"propagate: {info.line}", file=sys.stderr)
        progress = _Progress()
        written = propagate_to_folder(source, keyframes, args.out, propagator, args.direction,
                                      on_progress=progress, object_ids=args.objects)
        progress.finish()
    print(f"propagate: wrote {written} masks to {args.out}", file=sys.stderr)
    return 0


class _Progress:
    """One self-updating line on stderr: frames done, total and speed."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        rate = (time.monotonic() - self.started) / max(done, 1)
        print(f"\rpropagate: {done}/{total} frames, {rate:.2f} s/frame", end="", file=sys.stderr)
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            print(file=sys.stderr)
