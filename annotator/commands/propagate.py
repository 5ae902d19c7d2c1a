"""PLACEHOLDER: replaced by the module's owner. `vos-annotator propagate`."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("propagate", help="(not built yet)")
    parser.set_defaults(run=lambda args: print("propagate: not built yet") or 1)
