"""Finding a vanished or half-hidden object again: colour back-projection of its keyframe
appearance, the blobs it forms scored by colour, size and a motion prior, the chosen ones
re-cut by GrabCut."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from models.classic.refine import band_cut
from models.classic.track import ObjectMemory, axis_ratio, keep_connected


@dataclass
class Search:
    """What a search for one object sees in one frame (working size)."""

    image: np.ndarray  # RGB
    log_ratio: np.ndarray  # how much more likely each colour is under the object's keyframes
    free: np.ndarray  # where the object may be (not another object)
    memory: ObjectMemory
    min_ratio: float = 1.0  # log-likelihood ratio that counts as clearly object-coloured
    budget: int = 40_000  # most pixels of the re-cut


@dataclass(frozen=True)
class Find:
    """A vanished object found again: its mask, and whether it is where its motion put it
    and nearly as clearly of its keyframe colours as there (a find to take at once)."""

    mask: np.ndarray
    expected: bool


def redetect(search: Search, min_score: float = -1.0) -> Find | None:
    """The object that has vanished, found again, or None when nothing convincing is there.

    Candidates are the blobs of clearly object-coloured pixels, nearly as clearly as the
    object was in its keyframe, scored by mean colour evidence, by how far their area and
    elongation are from the remembered ones and by their distance from where the remembered
    motion puts the object (a spread that widens the longer it has been missing); the best
    one comes with the convincing pieces near it (an object cut in two by a thin occluder)
    and is re-cut by GrabCut."""
    memory = search.memory
    expected = memory.expected_centre()
    if expected is None or memory.area <= 0:
        return None
    # An object whose motion carried it out of view comes back in at that edge.
    h, w = search.log_ratio.shape
    expected = np.clip(expected, 0, [w - 1, h - 1])
    extent = float(np.sqrt(memory.area))
    parts, areas, evidence, centres, stretch = _blobs(search, extent)
    if areas.size == 0:
        return None
    # A blob shaped unlike the object (a bar where a ball was) is a look-alike background.
    shape_cost = np.abs(np.log(stretch / memory.elongation))
    # Smaller than remembered is what a partial occlusion looks like; larger is suspect.
    size = np.log(areas / memory.area)
    size_cost = np.maximum(-size, 0.0) + 2.0 * np.maximum(size, 0.0)
    spread = extent * (0.75 + 0.25 * min(memory.frames_lost, 12))
    distance = np.linalg.norm(centres - expected, axis=1) / spread
    score = evidence - size_cost - shape_cost - 0.5 * distance**2
    plausible = (areas >= 0.15 * memory.area) & (areas <= 2.5 * memory.area) & (distance < 2.0)
    # Nearly as clearly the object's colours as in its keyframe.
    plausible &= evidence >= 0.75 * memory.key_evidence
    score[~plausible] = -np.inf
    best = int(np.argmax(score))
    if score[best] < min_score:
        return None
    seed = _with_fragments(parts, parts == best + 1, areas, evidence > 1.5 * search.min_ratio,
                           max(3, round(0.5 * extent)), 1.5 * memory.area)
    expected_here = bool(distance[best] < 0.5 and evidence[best] >= 0.85 * memory.key_evidence)
    return Find(_recut(search, seed, extent, 2.5 * memory.area), expected_here)


def complete(search: Search, current: np.ndarray) -> np.ndarray | None:
    """The mask of a half-hidden object (`current`, well below its usual size) with the
    convincing object-coloured pieces near it added (what comes out from behind an occluder)
    up to its usual size, or None when that adds nothing much. The pieces are not re-cut:
    the next frame's boundary cut refines them, and a cut here could run into look-alike
    surroundings."""
    memory = search.memory
    extent = float(np.sqrt(memory.area))
    area = int(np.count_nonzero(current))
    parts, areas, evidence, _, _ = _blobs(search, extent)
    if areas.size == 0:
        return None
    grown = _with_fragments(parts, current, areas, evidence > 1.5 * search.min_ratio,
                            max(3, round(0.5 * extent)), memory.area)
    if np.count_nonzero(grown) < 1.2 * area:
        return None
    return grown


def _blobs(
    search: Search, extent: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labelled blobs of clearly object-coloured pixels (gaps closed at a scale set by the
    object's size) and each one's area, mean colour evidence, centre and elongation."""
    likely = ((search.log_ratio > search.min_ratio) & search.free).astype(np.uint8)
    gap = max(3, int(0.1 * extent) | 1)
    likely = cv2.morphologyEx(likely, cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (gap, gap)))
    likely = cv2.morphologyEx(likely, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, parts, stats, centres = cv2.connectedComponentsWithStats(likely, connectivity=8)
    labels = parts.ravel()
    areas = np.maximum(stats[1:, cv2.CC_STAT_AREA].astype(np.float64), 1)
    weights = np.clip(search.log_ratio, -4, 4).ravel()
    evidence = np.bincount(labels, weights=weights, minlength=count)[1:] / areas
    ys, xs = np.indices(parts.shape, dtype=np.float64)
    xs, ys = xs.ravel(), ys.ravel()
    centres = centres[1:]

    def spread(a: np.ndarray, b: np.ndarray, ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
        return np.bincount(labels, weights=a * b, minlength=count)[1:] - areas * ca * cb

    cx, cy = centres[:, 0], centres[:, 1]
    stretch = axis_ratio(spread(xs, xs, cx, cx), spread(ys, ys, cy, cy), spread(xs, ys, cx, cy))
    return parts, areas, evidence, centres, stretch


def _with_fragments(
    parts: np.ndarray,
    seed: np.ndarray,
    areas: np.ndarray,
    convincing: np.ndarray,
    reach: int,
    most: float,
) -> np.ndarray:
    """`seed` and the convincing blobs of the labelled `parts` within `reach` pixels of it,
    largest first while the total stays below `most` pixels."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    near = cv2.dilate(seed.astype(np.uint8), kernel).astype(bool)
    out = seed.copy()
    total = float(np.count_nonzero(out))
    for label in sorted(set(np.unique(parts[near]).tolist()) - {0}, key=lambda k: -areas[k - 1]):
        piece = (parts == label) & ~out
        added = float(np.count_nonzero(piece))
        if convincing[label - 1] and total + added <= most:
            out |= piece
            total += added
    return out


def _recut(search: Search, seed: np.ndarray, extent: float, most: float) -> np.ndarray:
    """A graph cut around `seed`, free to grow into the rest of the object but not into
    clearly other colours; the seed itself when the cut gives an implausible size (below a
    fifth of the usual size or above `most` pixels)."""
    hint = np.zeros(search.log_ratio.shape, np.int8)
    hint[search.log_ratio > 2 * search.min_ratio] = 1
    hint[search.log_ratio < -search.min_ratio] = -1
    radius = max(2, round(0.2 * extent))
    allowed = search.free & ((search.log_ratio > 0) | seed)
    mask = band_cut(search.image, seed, radius, hint, search.budget) & allowed
    mask = keep_connected(mask, seed)
    if not 0.2 * search.memory.area <= np.count_nonzero(mask) <= most:
        return seed
    return mask
