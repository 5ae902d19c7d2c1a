"""`vos-annotator review`: a model's masks reviewed, with or without ground truth: the HTML / CSV
report and an overlay video."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from annotator.engine.mask_sets import DEFAULT_MIN_SCORE

DESCRIPTION = (
    "Review the masks in PRED (a folder of PNGs per video, a dataset root, or an LV-VIS / "
    "YouTube-VIS results or instances JSON) on the frames in FRAMES (a frame folder, a video "
    "file or a dataset root). With --gt (same forms) every frame that has ground truth is "
    "scored (J, F, J&F per object); every frame is checked without it too (low confidence, "
    "sudden area change, object lost or appearing, fragments, overlaps in the source, a mask "
    "that jumps against the motion). Writes report.html, frames.csv (worst first) and "
    "objects.csv into --report, and with --video an MP4 of the masks over the frames "
    "(one file per video: FILE, or FILE's name with -<video> for several)."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("review", help="report on a model's masks: worst frames, "
                                   "flags, plots, overlay video", description=DESCRIPTION)
    parser.add_argument("pred", type=Path, metavar="PRED", help="the masks to review")
    parser.add_argument("--frames", type=Path, required=True,
                        help="a frame folder, a video file or a dataset root")
    parser.add_argument("--gt", type=Path, help="ground truth (optional)")
    parser.add_argument("--report", type=Path, required=True, help="folder for the report")
    parser.add_argument("--video", type=Path, metavar="FILE.mp4",
                        help="write the overlay video here")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE,
                        help="results JSON: instances scoring less are left out "
                        f"(default {DEFAULT_MIN_SCORE})")
    parser.set_defaults(run=run)


def video_path(base: Path, video: str, several: bool) -> Path:
    """Where one video's overlay goes: `base`, or ``<stem>-<video>.mp4`` beside it."""
    return base.with_name(f"{base.stem}-{video}{base.suffix}") if several else base


def run(args: argparse.Namespace) -> int:
    from annotator.engine.review_run import review_one, write_overlay_video
    from annotator.engine.review_sources import open_sources, videos_to_review
    from annotator.errors import AnnotatorError
    from annotator.quality.review_report import worst_first, write_report

    if args.video is not None and args.video.suffix.lower() != ".mp4":
        raise AnnotatorError("the overlay video must be an .mp4 file", args.video)
    sources = open_sources(args.pred, args.frames, args.gt, args.min_score)
    several = len(sources.videos) > 1
    reviewed = []
    for inputs, frames in videos_to_review(sources):
        video = review_one(inputs, frames, progress=_progress(f"{inputs.video}: checking"))
        assert video is not None  # nothing stops it
        reviewed.append(video)
        worst = worst_first(video.rows)[:5]
        flags = sum(len(row.flags) for row in video.rows)
        scored = [row.jf for row in video.rows if row.jf is not None]
        mean = f"mean J&F {sum(scored) / len(scored):.3f}, " if scored else ""
        print(f"{inputs.video}: {len(video.rows)} frames, {mean}{flags} flags; worst: "
              + ", ".join(row.name for row in worst))
        for note in inputs.notes:
            print(f"note: {inputs.video}: {note}", file=sys.stderr)
        if args.video is not None:
            path = video_path(args.video, inputs.video, several)
            count = write_overlay_video(path, inputs, frames, video,
                                        progress=_progress(f"{inputs.video}: video"))
            print(f"wrote {path} ({count} frames)")
    for note in sources.notes:
        print(f"note: {note}", file=sys.stderr)
    for path in write_report(args.report, reviewed):
        print(f"wrote {path}")
    return 0


def _progress(what: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        if done == total or done % 20 == 0:
            end = "\n" if done == total else ""
            print(f"\r{what}: {done}/{total}", end=end, file=sys.stderr, flush=True)
    return show
