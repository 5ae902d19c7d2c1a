"""ClickSession bookkeeping: prompts, candidates, undo, reset, errors (classic engine)."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.engine.click_protocol import iou
from annotator.engine.click_session import ClickSession
from annotator.engine.embedding_cache import EmbeddingCache
from models.classic.segmenter import ClassicSegmenter


@pytest.fixture
def scene() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    frame = rng.integers(20, 70, (90, 120, 3), dtype=np.uint8)
    truth = np.zeros((90, 120), bool)
    truth[25:70, 30:95] = True
    frame[truth] = rng.integers(180, 230, (int(truth.sum()), 3), dtype=np.uint8)
    return frame, truth


def test_prompts_undo_and_reset(scene):
    frame, truth = scene
    session = ClickSession(ClassicSegmenter())
    with pytest.raises(RuntimeError):
        session.add_click(5, 5, True)
    session.set_frame(7, frame)
    assert session.frame_index == 7 and session.current is None and session.mask is None
    first = session.add_click(60, 45, True)
    assert iou(session.mask, truth) > 0.9
    second = session.add_click(10, 10, False)
    assert len(second.masks) == 1 and len(session.clicks) == 2
    assert [c.positive for c in session.clicks] == [True, False]
    assert session.undo_click() is first and len(session.clicks) == 1
    assert session.undo_click() is None and session.clicks == []
    assert session.undo_click() is None
    session.add_click(60, 45, True)
    with pytest.raises(IndexError):
        session.choose(5)
    with pytest.raises(ValueError, match="empty"):
        session.set_box(10, 10, 10.5, 40)
    session.reset()
    assert session.current is None and session.clicks == [] and session.box is None
    assert not session.prefetch(8, frame)  # no embeddings for the classic engine


def test_new_frame_clears_prompts(scene):
    frame, _ = scene
    session = ClickSession(ClassicSegmenter())
    session.set_frame(0, frame)
    session.add_click(60, 45, True)
    session.set_frame(1, frame[::-1].copy())
    assert session.clicks == [] and session.current is None and session.undo_click() is None


class _Blob:
    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes


def test_embedding_cache_evicts_least_recent_by_bytes():
    cache = EmbeddingCache(100)
    cache.put(1, _Blob(40))
    cache.put(2, _Blob(40))
    assert cache.get(1) is not None  # 1 is now the most recent
    cache.put(3, _Blob(40))
    assert cache.indices() == [1, 3] and cache.nbytes == 80
    cache.put(4, _Blob(500))  # larger than the budget: not kept, nothing evicted for it
    assert 4 not in cache and cache.indices() == [1, 3]
    cache.put(1, _Blob(10))  # replacing counts the new size only
    assert cache.nbytes == 50
