"""Seeded mutations of real files for the fuzz suite: truncations, bit flips, header sizes,
and JSON values swapped for wrong types, huge numbers, NaN and hostile text.

Every mutation is a pure function of (the original, a `random.Random`), so a failing case is
reproduced from its label alone."""

from __future__ import annotations

import json
import random
import struct
import zlib
from collections.abc import Iterator
from typing import Any

HOSTILE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 255, 256, 2**31, 2**64, 10**30, -(10**30), 0.5, -0.5,
    1e30, -1e30, 1e9, float("nan"), float("inf"), float("-inf"), "", "cat", "0", "-3",
    "../../escape", "/etc/passwd", "a\\b", "\x00", "05", "0P", "\udcff", [], {}, [None],
    [[]], {"a": 1}, [1e9, 1e9, -1e9, 5, 5, 5], [[1e9, 5, 5, 5, 9, 9]], [0, 10],
    [-5, 10, 20], {"size": [4, 4], "counts": "0"}, {"size": [10**6, 10**6], "counts": [0]},
    "x" * 10_000,
]


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


def _replace(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return root


def _parent_and_key(root: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    return parent, path[-1]


def mutate_document(document: Any, rng: random.Random,
                    under: tuple[Any, ...] = ()) -> tuple[str, Any]:
    """One structural mutation of a JSON document (a deep copy is changed), at a node chosen
    among those `under` the given path (the whole document by default)."""
    doc = json.loads(json.dumps(document))
    paths = [path for path in _nodes(doc) if path[: len(under)] == under]
    path = rng.choice(paths)
    operation = rng.choice(["replace", "replace", "replace", "delete", "duplicate", "retype"])
    where = "/".join(map(str, path)) or "<root>"
    if operation == "replace" or not path:
        value = rng.choice(HOSTILE_VALUES)
        return f"replace {where} by {value!r:.40}", _replace(doc, path, value)
    parent, key = _parent_and_key(doc, path)
    if operation == "delete":
        del parent[key]
        return f"delete {where}", doc
    if operation == "duplicate" and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(parent[key])))
        return f"duplicate {where}", doc
    old = parent[key]
    if isinstance(old, list):
        parent[key] = {str(i): v for i, v in enumerate(old)}
    elif isinstance(old, dict):
        parent[key] = list(old.values())
    else:
        parent[key] = [old]
    return f"retype {where}", doc


def json_cases(document: Any, rng: random.Random, count: int,
               under: tuple[Any, ...] = ()) -> Iterator[tuple[str, bytes]]:
    """`count` mutated versions of `document` as file bytes: mostly structural mutations
    (`under` a path when given, else anywhere), some cut short or with flipped bits (which
    may leave the text not UTF-8)."""
    text = json.dumps(document).encode("utf-8")
    for number in range(count):
        kind = rng.random()
        if kind < 0.7 or under:
            label, mutated = mutate_document(document, rng, under)
            data = json.dumps(mutated).encode("utf-8", "surrogatepass")
        elif kind < 0.85:
            cut = rng.randrange(len(text))
            label, data = f"truncate at {cut}", text[:cut]
        else:
            label, data = bit_flips(text, rng)
        yield f"{number}: {label}", data


def bit_flips(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    flipped = bytearray(data)
    positions = [rng.randrange(len(data)) for _ in range(rng.randint(1, 8))]
    for position in positions:
        flipped[position] ^= 1 << rng.randrange(8)
    return f"flip bits at {positions}", bytes(flipped)


def _png_with_size(data: bytes, width: int, height: int) -> bytes:
    """The PNG with its IHDR width and height replaced (CRC fixed, so only the size lies)."""
    if data[12:16] != b"IHDR":
        return data
    header = struct.pack(">II", width, height) + data[24:29]
    chunk = b"IHDR" + header
    return data[:8] + data[8:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


def _jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header (SOF0/SOF2) size replaced."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at >= 0:
            return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]
    return data


def image_cases(data: bytes, rng: random.Random, count: int) -> Iterator[tuple[str, bytes]]:
    """`count` mutated versions of a PNG or JPEG file: truncated, bit flips, or a header that
    declares another size (huge, zero, one pixel)."""
    for number in range(count):
        kind = rng.random()
        if kind < 0.35:
            cut = rng.randrange(len(data))
            label, mutated = f"truncate at {cut}", data[:cut]
        elif kind < 0.75:
            label, mutated = bit_flips(data, rng)
        else:
            width, height = rng.choice([(20_000, 20_000), (65_535, 1), (0, 0), (1, 1),
                                        (8_193, 8_193), (3, 70_000)])
            resize = _png_with_size if data.startswith(b"\x89PNG") else _jpeg_with_size
            label, mutated = f"declare {width}x{height}", resize(data, width, height)
        yield f"{number}: {label}", mutated
