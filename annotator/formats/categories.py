"""Category tables: names to ids (and LV-VIS partitions), read from a file or built on the fly.

A categories file is either JSON (a list of ``{"id", "name", "partition"?}``, or an object
with such a ``"categories"`` list, e.g. an LV-VIS instances file) or plain text with one name
per line (ids 1, 2, ... in order; blank lines and ``#`` comments skipped).

LV-VIS gives every category a ``partition``: 0 and 1 are its base categories, 2 and 3 its
novel ones, and its loader needs the key. A category without one is written with
`DEFAULT_PARTITION` (0, base).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.errors import AnnotatorError
from annotator.formats.json_files import read_json
from annotator.formats.validate import as_dict, as_int, as_list, as_str

UNNAMED = "object"
DEFAULT_PARTITION = 0  # LV-VIS: 0, 1 base; 2, 3 novel


@dataclass
class Category:
    id: int
    name: str
    partition: int | None = None

    def to_json(self) -> dict[str, Any]:
        partition = DEFAULT_PARTITION if self.partition is None else self.partition
        return {"id": self.id, "name": self.name, "partition": partition}


@dataclass
class CategoryTable:
    """Categories by name; `id_for` adds unknown names unless the table is fixed."""

    by_name: dict[str, Category] = field(default_factory=dict)
    fixed: bool = False
    source: Path | None = None

    def id_for(self, name: str) -> int:
        name = name.strip() or UNNAMED
        category = self.by_name.get(name)
        if category is None:
            if self.fixed:
                raise AnnotatorError(
                    f"category {name!r} is not in the categories file", self.source
                )
            category = Category(max((c.id for c in self.by_name.values()), default=0) + 1, name)
            self.by_name[name] = category
        return category.id

    def name_of(self, category_id: int) -> str:
        for category in self.by_name.values():
            if category.id == category_id:
                return category.name
        return ""

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in sorted(self.by_name.values(), key=lambda c: c.id)]

    @classmethod
    def from_json_list(cls, entries: Any, source: Path | None = None) -> CategoryTable:
        table = cls(source=source)
        ids: dict[int, str] = {}
        for entry in as_list(entries, source, '"categories"'):
            entry = as_dict(entry, source, "a category")
            category_id = as_int(entry.get("id"), source, "a category's id")
            partition = entry.get("partition")
            category = Category(
                category_id,
                as_str(entry.get("name"), source, f"category {category_id}: name"),
                None if partition is None
                else as_int(partition, source, f"category {category_id}: partition"),
            )
            if category_id in ids or category.name in table.by_name:
                twin = ids.get(category_id, category.name)
                raise AnnotatorError(
                    f"categories {twin!r} and {category.name!r} share an id or a name", source
                )
            ids[category_id] = category.name
            table.by_name[category.name] = category
        return table


def read_categories(path: str | Path) -> CategoryTable:
    """Read a categories file (see the module docstring); the table is fixed."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        data = read_json(path)
        entries = data.get("categories") if isinstance(data, dict) else data
        table = CategoryTable.from_json_list(entries, path)
    else:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise AnnotatorError(f"cannot read the categories file ({exc})", path) from exc
        table = CategoryTable(source=path)
        for line in lines:
            name = line.split("#", 1)[0].strip()
            if name and name not in table.by_name:
                table.id_for(name)
    if not table.by_name:
        raise AnnotatorError("the categories file lists no categories", path)
    table.fixed = True
    table.source = path
    return table
