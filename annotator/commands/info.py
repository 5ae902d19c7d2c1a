"""`vos-annotator info PATH`: layout, videos, frames, objects and their frame ranges."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from annotator.formats.describe import describe


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help="describe a dataset, frame folder or video file",
        description="Print the layout, videos, frame counts, objects and object frame ranges "
        "(start and end frame of each object, frame_nums as the LVOS meta records it).",
    )
    parser.add_argument("path", type=Path, help="dataset root, folder of frames or video file")
    parser.add_argument("--split", help="split to describe when PATH holds several")
    parser.add_argument("--video", action="append", help="only this video (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="take object frame ranges from the meta JSON where it lists the video, "
        "instead of reading every mask",
    )
    parser.set_defaults(run=run)


def _print_text(report: dict[str, Any]) -> None:
    print(f"{report['path']}: {report['layout']} layout", end="")
    print(f", split {report['split']}" if report["split"] else "", end="")
    print(f", {len(report['videos'])} video(s)")
    for name, video in report["videos"].items():
        height, width = video["size"]
        print(
            f"  {name}: {video['frames']} frames {width}x{height}, "
            f"{video['annotated_frames']} annotated, {len(video['objects'])} object(s)"
        )
        for object_id, entry in video["objects"].items():
            label = f" ({entry['category']})" if entry["category"] else ""
            span = entry.get("frame_range")
            where = (
                f"frames {span['start']}..{span['end']}, frame_nums {span['frame_nums']}"
                if span
                else "no pixels"
            )
            print(f"    object {object_id}{label}: {where}")


def run(args: argparse.Namespace) -> int:
    report = describe(args.path, args.split, args.video, args.quick)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        _print_text(report)
    return 0
