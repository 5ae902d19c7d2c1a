"""Shared test fixtures: the real DAVIS 2016 dev sequences and the STCN fixture from ../shared."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from weights_server import RangeHandler

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # GUI tests never need a display

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VOS_SHARED", REPO.parent / "shared"))
DAVIS_ROOT = SHARED / "data" / "davis16-dev"
TUNE_ROOT = SHARED / "data" / "davis16-tune"
STCN_FIXTURE = SHARED / "fixtures" / "stcn"
DEV_SEQUENCES = (
    "bear", "boat", "flamingo", "hike", "lucia",
    "mallard-water", "paragliding", "rhino", "soccerball", "swing",
)


def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: tests need ../shared (or set VOS_SHARED)")
    return path


@pytest.fixture(scope="session")
def davis_root() -> Path:
    """DAVIS layout root: JPEGImages/480p/<seq>/*.jpg, Annotations/480p/<seq>/*.png."""
    return _require(DAVIS_ROOT)


@pytest.fixture(scope="session")
def davis_tune_root() -> Path:
    """The harder DAVIS-layout set the weights-free propagator is tuned on (issue 12)."""
    return _require(TUNE_ROOT)


@pytest.fixture(scope="session")
def stcn_fixture_dir() -> Path:
    return _require(STCN_FIXTURE)


@pytest.fixture
def lvos_copy(tmp_path: Path, davis_root: Path) -> Path:
    """An LVOS-layout copy of DAVIS 'soccerball' (frames hard-linked or copied)."""
    root = tmp_path / "train"
    for kind in ("JPEGImages", "Annotations"):
        source = davis_root / kind / "480p" / "soccerball"
        target = root / kind / "soccerball"
        target.mkdir(parents=True)
        for file in source.iterdir():
            try:
                os.link(file, target / file.name)
            except OSError:
                (target / file.name).write_bytes(file.read_bytes())
    return root


@pytest.fixture
def server() -> Iterator[str]:
    """A local HTTP server of `weights_server.PAYLOAD` (Range requests honoured); its URL."""
    RangeHandler.ranges = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/mobile_sam.pt"
    httpd.shutdown()
    httpd.server_close()
