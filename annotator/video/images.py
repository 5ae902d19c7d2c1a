"""Image files at the edge: the size a header declares is checked against a pixel budget before
anything is decoded, only the formats a layout uses are parsed, and every decoder failure
becomes an AnnotatorError that names the file.

A PNG of a few kilobytes may declare 20,000 x 20,000 pixels (a decompression bomb); frames,
masks and the masks inside labelme files all pass through `open_image`, which refuses such a
header before Pillow allocates anything.
"""

from __future__ import annotations

import contextlib
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from PIL import Image

from annotator.errors import AnnotatorError

MAX_PIXELS = 8192 * 8192  # 67 M pixels: an 8K frame (7680 x 4320) fits, a bomb does not
# Pillow warns from 89 M pixels on (Image.MAX_IMAGE_PIXELS); all that is refused here anyway.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
FRAME_FORMATS = ("JPEG", "PNG")  # a multi-picture JPEG (MPO) opens as JPEG
MASK_FORMATS = ("PNG",)
# What Pillow's decoders raise on damaged data besides OSError (incl. UnidentifiedImageError).
DECODER_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    ZeroDivisionError,
    struct.error,
)
_JPEG_END = b"\xff\xd9"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def check_pixels(width: int, height: int, source: str | Path | None, what: str) -> None:
    """Refuse a size no real frame has: empty, or beyond `MAX_PIXELS`."""
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise AnnotatorError(
            f"{what} declares {width}x{height} pixels; this tool reads images of 1 to "
            f"{MAX_PIXELS:,} pixels (a damaged or hostile file?)",
            source,
        )


@contextlib.contextmanager
def open_image(
    file: str | Path | IO[bytes], what: str, formats: tuple[str, ...], source: str | Path | None
) -> Iterator[Image.Image]:
    """Open an image whose header passes `check_pixels`; a decoder failure inside the block
    becomes AnnotatorError ("cannot read the <what>") about `source` (None: an image inside
    another file, which the caller names)."""
    try:
        with Image.open(file, formats=list(formats)) as image:
            check_pixels(image.width, image.height, source, what)
            yield image
    except AnnotatorError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own check, at open, came first
        raise AnnotatorError(
            f"{what} declares more than {MAX_PIXELS:,} pixels, the most this tool reads "
            "(a damaged or hostile file?)",
            source,
        ) from exc
    except DECODER_ERRORS as exc:
        raise AnnotatorError(f"cannot read the {what} ({exc or type(exc).__name__})",
                             source) from exc


def check_complete(path: Path, what: str, formats: tuple[str, ...]) -> None:
    """Refuse a truncated image file without decoding a whole one: a JPEG ends with its EOI
    marker and a PNG with its IEND chunk; a file that does not is decoded to be sure (some
    cameras append data after the image)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - len(_PNG_END)))
            tail = handle.read()
    except OSError as exc:
        raise AnnotatorError(f"cannot read the {what} ({exc.strerror or exc})", path) from exc
    if tail.endswith(_JPEG_END) or tail.endswith(_PNG_END):
        return
    with open_image(path, what, formats, path) as image:
        image.load()
