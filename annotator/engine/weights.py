"""The weights registry: known checkpoints, the per-user weights folder, files people added.

Files live in one folder, `VOS_ANNOTATOR_WEIGHTS` or the per-user cache folder
(`platformdirs.user_cache_dir("vos-annotator")/weights`). `registry.json` there records files
added with `weights add` that stay where they are, with their size and SHA-256 sum. A known
checkpoint's sum is checked on download and on `weights add` whenever it is known; for STCN the
official sum is not published, so only the sum of the file a person adds is recorded; for SAM
2.1 (no published sums either, but an official HTTPS source) the first download's sum is. A
registered file whose size has changed since is ignored (its sum is not recomputed per lookup).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from annotator.errors import AnnotatorError
from annotator.formats.atomic import atomic_write_text

ENV_FOLDER = "VOS_ANNOTATOR_WEIGHTS"
REGISTRY_FILE = "registry.json"
_SAM_URL = "https://dl.fbaipublicfiles.com/segment_anything/"
_SAM2_URL = "https://dl.fbaipublicfiles.com/segment_anything_2/092824/"


@dataclass(frozen=True)
class KnownWeights:
    name: str
    kind: str  # 'sam', 'sam2' or 'stcn'
    filename: str
    url: str
    size: int | None
    sha256: str | None
    description: str
    # no published sum, but an official HTTPS source: the first download's sum is recorded
    record_first_sum: bool = False


KNOWN: dict[str, KnownWeights] = {
    w.name: w
    for w in (
        KnownWeights("vit_t", "sam", "mobile_sam.pt",
                     "https://github.com/ChaoningZhang/MobileSAM/raw/master/weights/mobile_sam.pt",
                     40_728_226,
                     "6dbb90523a35330fedd7f1d3dfc66f995213d81b29a5ca8108dbcdd4e37d6c2f",
                     "MobileSAM (TinyViT encoder), fast on a CPU"),
        KnownWeights("vit_b", "sam", "sam_vit_b_01ec64.pth", _SAM_URL + "sam_vit_b_01ec64.pth",
                     375_042_383,
                     "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
                     "SAM ViT-B"),
        KnownWeights("vit_l", "sam", "sam_vit_l_0b3195.pth", _SAM_URL + "sam_vit_l_0b3195.pth",
                     1_249_524_607,
                     "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622",
                     "SAM ViT-L"),
        KnownWeights("vit_h", "sam", "sam_vit_h_4b8939.pth", _SAM_URL + "sam_vit_h_4b8939.pth",
                     2_564_550_879,
                     "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e",
                     "SAM ViT-H, the most accurate, for a GPU"),
        *(
            KnownWeights(f"sam2.1_{variant}", "sam2", f"sam2.1_hiera_{variant}.pt",
                         f"{_SAM2_URL}sam2.1_hiera_{variant}.pt", None, None,
                         f"SAM 2.1 Hiera {label} (about {megabytes} MB): clicks and propagation",
                         record_first_sum=True)
            for variant, label, megabytes in (
                ("tiny", "tiny", 156), ("small", "small", 185), ("base_plus", "base+", 324),
                ("large", "large, the most accurate, for a GPU", 899),
            )
        ),
        KnownWeights("stcn", "stcn", "stcn.pth",
                     "https://drive.google.com/uc?export=download&id=1mRrE0uCI2ktdWlUgapJI_KmgeIiF2eOm",
                     None, None, "STCN memory network (official release, Google Drive)"),
    )
}
ALIASES = {
    "mobile_sam": "vit_t", "mobilesam": "vit_t", "sam_vit_b": "vit_b", "sam_vit_l": "vit_l",
    "sam_vit_h": "vit_h",
    **{f"sam2.1_hiera_{v}": f"sam2.1_{v}" for v in ("tiny", "small", "base_plus", "large")},
    "sam2.1_hiera_b+": "sam2.1_base_plus",
}
# which SAM to use when several are present: a CPU wants the small one, a GPU the large one
SAM_PREFERENCE_CPU = ("vit_t", "vit_b", "vit_l", "vit_h")
SAM_PREFERENCE_GPU = ("vit_h", "vit_l", "vit_b", "vit_t")


def canonical_name(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in KNOWN:
        raise AnnotatorError(f"unknown weights {name!r}; known: {', '.join(KNOWN)}")
    return key


def weights_dir(folder: str | Path | None = None) -> Path:
    """The weights folder (not created here): `folder` when given, else $VOS_ANNOTATOR_WEIGHTS,
    else the user's cache folder."""
    override = folder or os.environ.get(ENV_FOLDER)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("vos-annotator")) / "weights"


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_registry(folder: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """name -> {'path', 'size', 'sha256'} of files added in place; {} when there is none."""
    path = weights_dir(folder) / REGISTRY_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: JSON and UTF-8 errors
        raise AnnotatorError(f"the weights registry cannot be read ({exc}); fix or delete it",
                             path) from exc
    if not isinstance(data, dict):
        raise AnnotatorError("the weights registry is not a JSON object; fix or delete it", path)
    for name, entry in data.items():
        if not _is_entry(entry):
            raise AnnotatorError(
                f"entry {name!r} of the weights registry is not "
                '{"path": text, "size": whole number, "sha256": text}; fix or delete the file',
                path,
            )
    return data


def _is_entry(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("path"), str)
        and type(entry.get("size")) is int
        and isinstance(entry.get("sha256"), str)
    )


def write_registry(entries: dict[str, dict[str, Any]], folder: str | Path | None = None) -> None:
    target = weights_dir(folder)
    target.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target / REGISTRY_FILE, json.dumps(entries, indent=2, sort_keys=True) + "\n")


def find_weights(name: str, folder: str | Path | None = None) -> Path | None:
    """The file of known weights `name` when present: registered in place, else in the weights
    folder (`folder`, default `weights_dir()`).

    A registered file whose size changed since it was added is ignored.
    """
    key = canonical_name(name)
    entry = read_registry(folder).get(key)
    if entry:
        path = Path(entry["path"])
        if path.is_file() and path.stat().st_size == entry.get("size"):
            return path
    candidate = weights_dir(folder) / KNOWN[key].filename
    return candidate if candidate.is_file() else None


@dataclass(frozen=True)
class WeightsStatus:
    known: KnownWeights
    path: Path | None

    @property
    def present(self) -> bool:
        return self.path is not None


def list_weights(folder: str | Path | None = None) -> list[WeightsStatus]:
    return [WeightsStatus(known, find_weights(name, folder)) for name, known in KNOWN.items()]


def partial_download(name: str, folder: str | Path | None = None) -> int:
    """Bytes of known weights `name` downloaded so far by an interrupted download (0: none)."""
    partial = weights_dir(folder) / (KNOWN[canonical_name(name)].filename + ".part")
    return partial.stat().st_size if partial.is_file() else 0
