"""A later click changes the previous mask only near itself.

Around the newest click, a zone whose size follows how far the click is from the mask's other
side (a click deep in a missed part asks for a large change, one near the outline a small
one); outside the zone the previous mask is a hard label. Inside it GrabCut decides, starting
from the click's geodesic cell: the pixels nearer (along paths that pay for crossing colour
edges) to the click than to the other side's evidence on the zone's border and to the clicks
of the other side. The zone is worked on at up to full resolution, so thin parts get detail.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from models.classic.seg_geodesic import coarse_geodesic, edge_strength
from models.classic.seg_regions import box_mask, click_region


@dataclass(frozen=True)
class LocalParams:
    factor: float = 2.5  # the zone's radius, in distances from the click to the other side
    edge_factor: float = 4.0  # a missed part reaches this many times the nearest edge's distance
    least: float = 24.0  # the zone's radius at least (pixels)
    most: float = 240.0  # and at most
    context: float = 1.5  # the crop worked on, in zone radii around the click
    work_side: int = 224  # the crop's long side at most (working pixels)
    iterations: int = 3  # GrabCut iterations
    core: float = 0.5  # pixels this much nearer to the click than to the other side are certain
    geo_reach: float = 12.0  # geodesic length of a click's hard region (working pixels)
    edge_weight: float = 1.0  # how much colour edges lengthen geodesic paths


def refine_near_click(frame: np.ndarray, previous: np.ndarray, click: tuple[float, float, bool],
                      positive: np.ndarray, negative: np.ndarray, box: np.ndarray | None,
                      p: LocalParams) -> tuple[np.ndarray, np.ndarray]:
    """`previous` changed near the newest `click` (x, y, positive), all clicks honoured, and
    where that change is certain (int8: +1 object, -1 background, 0 unsure)."""
    h, w = previous.shape
    x, y, is_positive = click
    cx, cy = int(np.clip(round(x), 0, w - 1)), int(np.clip(round(y), 0, h - 1))
    other = previous if is_positive else ~previous  # the side the click is not on
    if not other.any():
        return previous, np.zeros(previous.shape, np.int8)
    dist = cv2.distanceTransform(np.pad((~other).astype(np.uint8), 1, constant_values=1),
                                 cv2.DIST_L2, 5)[1:-1, 1:-1]
    reach = float(dist[cy, cx])
    if is_positive:  # a part apart from the mask (a pilot below his canopy) may be small
        reach = min(reach, p.edge_factor * _edge_distance(frame, cx, cy, p.most))
    radius = float(np.clip(p.factor * reach, p.least, p.most))
    half = int(np.ceil(p.context * radius))
    x0, y0 = max(0, cx - half), max(0, cy - half)
    x1, y1 = min(w, cx + half + 1), min(h, cy + half + 1)
    crop = frame[y0:y1, x0:x1]
    scale = min(1.0, p.work_side / max(crop.shape[:2]))
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if scale < 1 else crop
    prev = cv2.resize(previous[y0:y1, x0:x1].astype(np.uint8), size,
                      interpolation=cv2.INTER_NEAREST).astype(bool)
    offset = np.array([x0, y0], np.float32)
    here = (np.array([x, y], np.float32) - offset) * scale
    yy, xx = np.mgrid[: size[1], : size[0]]
    zone = np.hypot(xx - here[0], yy - here[1]) <= radius * scale
    cost = p.edge_weight * edge_strength(cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32))
    same = (positive if is_positive else negative)
    opposite = (negative if is_positive else positive)
    prev_side = prev if is_positive else ~prev
    border = zone & ~cv2.erode(zone.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    # a positive click's cell stops at the background on the zone's border; a negative
    # click takes the mask's pixels nearer to it than to any positive click (the mask
    # around it may well be the spill it is meant to remove)
    seeds_other = border & ~prev_side if is_positive else np.zeros_like(zone)
    _paint_points(seeds_other, (opposite - offset) * scale)
    seeds_same = np.zeros_like(zone)
    _paint_points(seeds_same, (same - offset) * scale)
    d_same = _geodesic(cost, seeds_same)
    d_other = _geodesic(cost, seeds_other)
    cell = zone & (d_same < d_other)
    trimap = np.where(prev, cv2.GC_FGD, cv2.GC_BGD).astype(np.uint8)
    trimap[zone] = np.where(prev[zone], cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    trimap[cell] = cv2.GC_PR_FGD if is_positive else cv2.GC_PR_BGD
    # its core is certain: the colour models would otherwise undo the change where the
    # wrong side's colours are the same (a spill into background of the object's colours)
    core = zone & (d_same < p.core * d_other)
    trimap[core] = cv2.GC_FGD if is_positive else cv2.GC_BGD
    for points, value in ((positive, cv2.GC_FGD), (negative, cv2.GC_BGD)):
        for point in (points - offset) * scale:
            trimap[_click_region(cost, point, p.geo_reach)] = value
    if box is not None:
        trimap[~box_mask(zone.shape, (box - np.tile(offset, 2)) * scale, grow=1)] = cv2.GC_BGD
    fg = grabcut(small, trimap, p.iterations)
    up = cv2.resize(fg.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR) > 0.5
    out = previous.copy()
    out[y0:y1, x0:x1] = up
    certain = np.zeros(previous.shape, np.int8)
    certain[y0:y1, x0:x1] = cv2.resize(core.astype(np.int8), (x1 - x0, y1 - y0),
                                       interpolation=cv2.INTER_NEAREST) * (1 if is_positive else -1)
    return out, certain


def _edge_distance(frame: np.ndarray, cx: int, cy: int, limit: float) -> float:
    """Distance from (cx, cy) to the nearest strong edge of the frame (at most `limit`)."""
    h, w = frame.shape[:2]
    r = int(limit)
    x0, y0, x1, y1 = max(0, cx - r), max(0, cy - r), min(w, cx + r + 1), min(h, cy + r + 1)
    grey = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(grey, (5, 5), 0), 40, 120)
    if not edges.any():
        return limit
    dist = cv2.distanceTransform((edges == 0).astype(np.uint8), cv2.DIST_L2, 5)
    return min(limit, float(dist[cy - y0, cx - x0]))


def grabcut(image: np.ndarray, trimap: np.ndarray, iterations: int) -> np.ndarray:
    """Foreground of GrabCut from a trimap; the trimap itself when a side has no pixels."""
    fg_side = (trimap == cv2.GC_FGD) | (trimap == cv2.GC_PR_FGD)
    if fg_side.all() or not fg_side.any():
        return fg_side
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    work = trimap.copy()
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    cv2.setRNGSeed(0)  # its colour models start from k-means: the same answer every time
    try:
        cv2.grabCut(bgr, work, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return fg_side  # too few pixels on one side for the colour models
    return (work == cv2.GC_FGD) | (work == cv2.GC_PR_FGD)


def _click_region(cost: np.ndarray, point: np.ndarray, reach: float) -> np.ndarray:
    """A click's hard region (`click_region`); empty when the click lies outside the crop."""
    h, w = cost.shape
    cx, cy = round(float(point[0])), round(float(point[1]))
    if not (0 <= cx < w and 0 <= cy < h):
        return np.zeros((h, w), bool)
    return click_region(cost, cx, cy, reach, int(np.ceil(reach)), 2)


def _paint_points(mask: np.ndarray, points: np.ndarray) -> None:
    """Set the pixels of the points that fall inside `mask`, in place."""
    h, w = mask.shape
    for x, y in np.round(points).astype(int):
        if 0 <= x < w and 0 <= y < h:
            mask[y, x] = True


def _geodesic(cost: np.ndarray, seeds: np.ndarray, scale: float = 0.5) -> np.ndarray:
    """Geodesic distance to the nearest seed, on a grid `scale` as fine (inf without seeds)."""
    h, w = cost.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(seeds.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    return coarse_geodesic(cost, small, scale)
