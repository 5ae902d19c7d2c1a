"""PLACEHOLDER: replaced by the module's owner. `vos-annotator evaluate`."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="(not built yet)")
    parser.set_defaults(run=lambda args: print("evaluate: not built yet") or 1)
