"""Names given on the command line that become parts of file names (splits, sets)."""

from __future__ import annotations

from annotator.errors import AnnotatorError


def plain_name(value: str, what: str) -> str:
    """`value` if it can name a file inside the output folder on its own, else a clear error.

    A split or set name ends up in names such as ``<split>_meta.json``; one with a path
    separator, a leading dot or a NUL could lead the file out of its folder.
    """
    if (
        not value
        or value.startswith(".")
        or any(c in value for c in "/\\\x00")
        or value != value.strip()
    ):
        raise AnnotatorError(
            f"{what} {value!r} is not a plain name (letters, digits, '-' and '_'; no '/', '\\', "
            "leading '.' or surrounding spaces)"
        )
    return value
