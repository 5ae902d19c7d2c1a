"""PLACEHOLDER: replaced by the module's owner. `vos-annotator info`."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="(not built yet)")
    parser.set_defaults(run=lambda args: print("info: not built yet") or 1)
