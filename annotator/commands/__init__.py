"""One module per subcommand; each has `register(subparsers)` that sets `run` on its parser."""

COMMAND_MODULES = (
    "info",
    "convert",
    "segment",
    "weights",
    "propagate",
    "evaluate",
    "batch",
    "review",
)
