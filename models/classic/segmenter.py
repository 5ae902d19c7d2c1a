"""Weights-free interactive segmentation: GrabCut colour models, geodesic seeds, hard clicks.

A first prompt (a click or a box): in a region of interest around the prompts, at a reduced
working resolution:
- starting labels: the region geodesically nearest to the clicks, grown until its outline
  meets the strongest colour edges within a band of sizes (three bands: the object, a part,
  the object and more; one candidate each), or a box's inside, as 'probably foreground';
- hard labels: each click's short geodesic neighbourhood (it follows thin parts, stops at
  edges), and outside a box;
- GrabCut (colour mixture models and a contrast-sensitive smoothness term), after which only
  the components holding a positive click survive.
A later click changes the previous mask near itself only (`seg_local`), in the part of the
change that the click lands in; then GrabCut over the whole mask, with what every click made
certain held fixed, may spread that change to the same colours elsewhere (only adding after a
positive click, only taking away after a negative one), so no click undoes an earlier one; a
large piece it would add or take away must be of the colours of the click's own change.
Masks are upsampled smoothly into the frame. Positive clicks always end inside the mask,
negative ones always outside.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

import cv2
import numpy as np

from models.classic.seg_geodesic import coarse_geodesic, edge_strength
from models.classic.seg_levels import edge_stopped_level
from models.classic.seg_local import LocalParams, grabcut, refine_near_click
from models.classic.seg_regions import box_mask, click_region
from models.classic.seg_score import candidate_features, colour_bins, predicted_iou
from models.protocols import ClickPrediction, prompt_points

LOGIT_SIZE = 256


@dataclass(frozen=True)
class ClassicParams:
    work_side: int = 288  # long side of the working image (pixels)
    iterations: int = 3  # GrabCut iterations at the working resolution
    alt_iterations: int = 2  # for the two other candidates of a first click
    # bands of shares of the ROI in which a first click's three seed regions grow until their
    # outline meets the strongest edges (the object, a part, the object and more)
    seed_bands: tuple[tuple[float, float], ...] = ((0.02, 0.1), (0.004, 0.02), (0.1, 0.3))
    min_disk: int = 2  # every click pins at least this disk (working pixels)
    max_disk: int = 25  # and at most this far around it
    geo_reach: float = 15.0  # geodesic length of a click's hard region (working pixels)
    edge_weight: float = 1.0  # how much colour edges lengthen geodesic paths
    init_reach: float = 80.0  # geodesic reach of a click's side in GrabCut's starting labels
    roi_margin: float = 0.35  # ROI margin as a share of the prompts' extent
    box_margins: tuple[float, float, float] = (0.1, 0.35, 0.03)  # a box's three candidates
    geo_scale: float = 0.5  # geodesic distances are computed on a grid this much coarser
    remove_ratio: float = 0.5  # a negative click takes the old mask's pixels this much nearer
    most: float = 0.5  # largest share of the frame a candidate may cover (unless the box does)
    local: LocalParams = field(default_factory=LocalParams)  # how a later click acts near itself
    settle_iterations: int = 2  # GrabCut over the whole mask after a later click's change
    # a piece over `spread_small` pixels that pass adds or takes away must be of the colours
    # of the click's own change: mean log likelihood ratio against the other side's at least
    spread_llr: float = -1.0
    spread_small: int = 1500


@dataclass(frozen=True)
class _Prompt:
    positive: np.ndarray  # (P, 2) x, y full-res
    negative: np.ndarray  # (Q, 2)
    box: np.ndarray | None  # (4,)


class ClassicSegmenter:
    """Click segmenter without learned weights (see the module docstring)."""

    name = "classic (GrabCut + geodesic)"

    def __init__(self, params: ClassicParams | None = None) -> None:
        self.params = params or ClassicParams()
        self._frame: np.ndarray | None = None
        # the masks handed out, keyed by their logits, with the prompt that made each
        self._masks: OrderedDict[bytes, tuple[np.ndarray, _Prompt, np.ndarray | None]] = \
            OrderedDict()

    def set_image(self, frame: np.ndarray) -> None:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {frame.shape} "
                             f"{frame.dtype}")
        self._frame = np.ascontiguousarray(frame)
        self._masks.clear()

    def predict(
        self,
        points: np.ndarray,
        labels: np.ndarray,
        box: np.ndarray | None = None,
        prior: np.ndarray | None = None,
        multimask: bool = True,
    ) -> ClickPrediction:
        if self._frame is None:
            raise RuntimeError("set_image must come before predict")
        points, labels = prompt_points(points, labels, box)
        prompt = _Prompt(points[labels == 1], points[labels != 1],
                         None if box is None else np.asarray(box, np.float32).reshape(4))
        previous, before, certain = self._recall(prior)
        newest = _newest_click(before, prompt)
        p = self.params
        # (seed band, ROI margin) of each candidate: a first click's differ in how much
        # the click's surroundings start as foreground, a lone box's in how much background
        # around the box the colour models see
        variants = [(p.seed_bands[0], p.roi_margin)]
        if multimask and previous is None and len(prompt.positive):
            variants += [(b, p.roi_margin) for b in p.seed_bands[1:]]
        elif multimask and previous is None:
            variants = [(p.seed_bands[0], m) for m in p.box_margins]
        if newest is not None and previous is not None:
            near, core = refine_near_click(self._frame, previous, newest, prompt.positive,
                                           prompt.negative, prompt.box, p.local)
            near = _local_change(previous, near, newest)
            certain = core if certain is None else np.where(core != 0, core, certain)
            masks = [near]
            if p.settle_iterations and _on_the_other_side(previous, newest):
                # GrabCut over the whole mask spreads what the click said to the same colours
                # elsewhere: after a positive click it may only add, after a negative one only
                # take away
                settled = self._segment(prompt, near, p.seed_bands[0], p.roi_margin,
                                        p.settle_iterations, certain)
                spread = near | settled if newest[2] else near & settled
                # but not a large piece of other colours than the click's change (a dog's
                # head taken away with the grass beside its legs)
                masks = [_click_coloured(self._frame, previous, near, spread, p.spread_llr,
                                         p.spread_small)]
        else:
            masks = [self._segment(prompt, previous, f, m,
                                   p.iterations if i == 0 else p.alt_iterations)
                     for i, (f, m) in enumerate(variants)]
        masks = _unique([self._plausible(m, prompt, previous) for m in masks])
        scores = np.array([
            predicted_iou(candidate_features(self._frame, m, len(points), prompt.box,
                                             masks[:i] + masks[i + 1:]))
            for i, m in enumerate(masks)], np.float32)
        if prompt.box is not None:  # an object fills a fair share of the box drawn round it
            box_area = max(1, np.count_nonzero(box_mask(masks[0].shape, prompt.box)))
            fill = np.array([np.count_nonzero(m) / box_area for m in masks], np.float32)
            scores *= np.minimum(1.0, fill / 0.25)
        order = np.argsort(-scores, kind="stable")
        masks = [masks[i] for i in order]
        logits = np.stack([self._remember(m, prompt, certain) for m in masks])
        return ClickPrediction(np.stack(masks), scores[order], logits)

    def _plausible(self, mask: np.ndarray, prompt: _Prompt,
                   previous: np.ndarray | None) -> np.ndarray:
        """Never an empty candidate, nor one covering most of the frame unless the box does:
        those fall back to the previous mask, else the positive clicks' own regions (or the
        box), with the clicks honoured."""
        h, w = mask.shape
        limit = self.params.most * h * w
        box = None if prompt.box is None else box_mask((h, w), prompt.box)
        if box is not None:
            limit = max(limit, float(np.count_nonzero(box)))
        area = np.count_nonzero(mask)
        if 0 < area <= limit:
            return mask
        if previous is not None and 0 < np.count_nonzero(previous) <= limit:
            out = previous.copy() if box is None else previous & box
        elif len(prompt.positive):
            out = np.zeros((h, w), bool)
            _force_clicks(out, prompt.positive, np.zeros((0, 2)), radius=max(3, min(h, w) // 60))
        else:
            out = np.zeros((h, w), bool) if box is None else box
        _force_clicks(out, prompt.positive, prompt.negative)
        return out if out.any() else mask

    # previous masks: the logits handed out are their keys

    def _remember(self, mask: np.ndarray, prompt: _Prompt,
                  certain: np.ndarray | None) -> np.ndarray:
        logits = cv2.resize(mask.astype(np.float32), (LOGIT_SIZE, LOGIT_SIZE),
                            interpolation=cv2.INTER_AREA) * 20.0 - 10.0
        self._masks[hashlib.blake2b(logits.tobytes(), digest_size=16).digest()] = (mask, prompt,
                                                                            certain)
        while len(self._masks) > 8:
            self._masks.popitem(last=False)
        return logits

    def _recall(self, prior: np.ndarray | None
                ) -> tuple[np.ndarray | None, _Prompt | None, np.ndarray | None]:
        """The previous mask behind `prior` logits, the prompt that made it and where the
        clicks so far made it certain (the last two when known)."""
        if prior is None:
            return None, None, None
        logits = np.asarray(prior, np.float32).reshape(LOGIT_SIZE, LOGIT_SIZE)
        key = hashlib.blake2b(logits.tobytes(), digest_size=16).digest()
        if key in self._masks:
            return self._masks[key]
        h, w = self._frame.shape[:2]
        return cv2.resize(logits, (w, h), interpolation=cv2.INTER_LINEAR) > 0, None, None

    # one segmentation

    def _segment(self, prompt: _Prompt, previous: np.ndarray | None,
                 seed: tuple[float, float],
                 margin: float, iterations: int,
                 certain: np.ndarray | None = None) -> np.ndarray:
        """GrabCut in the region of interest; with `certain` (after a later click), from the
        previous mask with the pixels the clicks made certain held fixed."""
        frame = self._frame
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = self._roi(prompt, previous, (h, w), margin)
        crop = frame[y0:y1, x0:x1]
        scale = min(1.0, self.params.work_side / max(crop.shape[:2]))
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if scale < 1 else crop
        offset = np.array([x0, y0], np.float32)
        pos = (prompt.positive - offset) * scale
        neg = (prompt.negative - offset) * scale
        prev_small = None
        if previous is not None:
            prev_small = cv2.resize(previous[y0:y1, x0:x1].astype(np.uint8), size,
                                    interpolation=cv2.INTER_NEAREST).astype(bool)
        box_small = None
        if prompt.box is not None:
            box_small = (prompt.box - np.tile(offset, 2)) * scale
        cost = edge_strength(cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32))
        pos_regions = self._click_regions(cost, pos)
        neg_regions = self._click_regions(cost, neg)
        if certain is not None and prev_small is not None:
            trimap = np.where(prev_small, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
            held = cv2.resize(certain[y0:y1, x0:x1], size, interpolation=cv2.INTER_NEAREST)
            trimap[held > 0] = cv2.GC_FGD
            trimap[held < 0] = cv2.GC_BGD
            if box_small is not None:
                trimap[~box_mask(size[::-1], box_small, grow=2)] = cv2.GC_BGD
        else:
            trimap = self._trimap(cost, pos, neg, box_small, prev_small, seed)
        for regions, value in ((pos_regions, cv2.GC_FGD), (neg_regions, cv2.GC_BGD)):
            for region in regions:
                trimap[region] = value
        fg = grabcut(small, trimap, iterations)
        fg = _keep_clicked(fg, pos, pos_regions, neg_regions)
        soft = cv2.GaussianBlur(fg.astype(np.float32), (3, 3), 0) if scale < 1 else fg
        up = cv2.resize(np.float32(soft), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        fresh = np.zeros((h, w), bool)
        fresh[y0:y1, x0:x1] = up > 0.5
        if prompt.box is not None:
            fresh &= box_mask((h, w), prompt.box)
        _force_clicks(fresh, prompt.positive, prompt.negative)
        return fresh

    def _roi(self, prompt: _Prompt, previous: np.ndarray | None, shape: tuple[int, int],
             share: float) -> tuple[int, int, int, int]:
        """The region worked on: the prompts' extent and a margin of `share` of it."""
        h, w = shape
        if prompt.box is not None:
            bx0, by0, bx1, by1 = prompt.box
            pts = np.concatenate([prompt.positive, [[bx0, by0], [bx1, by1]]])
        elif previous is not None and previous.any():
            ys, xs = np.nonzero(previous)
            pts = np.concatenate([prompt.positive, [[xs.min(), ys.min()], [xs.max(), ys.max()]]])
        else:
            return 0, 0, w, h  # a lone click: the object may be anywhere around it
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        margin = share * max(hi - lo) + 16
        x0, y0 = np.floor(lo - margin).astype(int)
        x1, y1 = np.ceil(hi + margin).astype(int)
        return max(0, x0), max(0, y0), min(w, x1 + 1), min(h, y1 + 1)

    def _trimap(self, cost: np.ndarray, pos: np.ndarray, neg: np.ndarray,
                box: np.ndarray | None, previous: np.ndarray | None,
                seed: tuple[float, float]) -> np.ndarray:
        """GrabCut's starting labels, before the clicks' own regions are painted in."""
        h, w = cost.shape
        trimap = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
        if previous is not None and previous.any():
            trimap[previous] = cv2.GC_PR_FGD
            # around each click, the side of the geodesically nearest click, so that the
            # colour models learn what the clicks say before they learn the old mask
            reach = self.params.init_reach
            # without a positive click, a box's centre stands for one
            anchors = pos if len(pos) or box is None else [(box[:2] + box[2:]) / 2]
            d_pos = self._geodesic(cost, np.reshape(anchors, (-1, 2)))
            d_neg = self._geodesic(cost, neg)
            trimap[(d_pos <= reach) & (d_pos < d_neg)] = cv2.GC_PR_FGD
            trimap[(d_neg <= reach) & (d_neg <= d_pos)] = cv2.GC_PR_BGD
            # A negative click takes out the part of the old mask it landed in: the pixels
            # of the mask geodesically much nearer to it than to any positive click (or the
            # box's centre).
            trimap[previous & (d_neg < self.params.remove_ratio * d_pos)] = cv2.GC_BGD
        elif len(pos):
            dist = self._geodesic(cost, pos)
            inside = np.ones((h, w), bool) if box is None else box_mask((h, w), box)
            trimap[edge_stopped_level(cost, dist, inside, seed)] = cv2.GC_PR_FGD
        elif box is not None:
            trimap[box_mask((h, w), box)] = cv2.GC_PR_FGD
        if box is not None:
            trimap[~box_mask((h, w), box, grow=2)] = cv2.GC_BGD
        return trimap

    def _geodesic(self, cost: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Geodesic distance to the nearest of `points` (infinite when there are none)."""
        h, w = cost.shape
        f = self.params.geo_scale  # on a coarser grid: distances need no fine detail
        size = (max(1, round(w * f)), max(1, round(h * f)))
        seeds = np.zeros((size[1], size[0]), bool)
        for x, y in np.round(np.asarray(points).reshape(-1, 2) * f).astype(int):
            seeds[np.clip(y, 0, size[1] - 1), np.clip(x, 0, size[0] - 1)] = True
        return coarse_geodesic(self.params.edge_weight * cost, seeds, f)

    def _click_regions(self, cost: np.ndarray, points: np.ndarray) -> list[np.ndarray]:
        """Each click's hard region (`click_region`)."""
        p = self.params
        h, w = cost.shape
        weighted = p.edge_weight * cost
        return [click_region(weighted, int(np.clip(round(x), 0, w - 1)),
                             int(np.clip(round(y), 0, h - 1)), p.geo_reach, p.max_disk,
                             p.min_disk)
                for x, y in points]


def _keep_clicked(fg: np.ndarray, pos: np.ndarray, pos_regions: list[np.ndarray],
                  neg_regions: list[np.ndarray]) -> np.ndarray:
    """Paint the click regions in and out; drop components without a positive click."""
    out = fg.copy()
    for region in pos_regions:
        out |= region
    for region in neg_regions:
        out &= ~region
    _, comp = cv2.connectedComponents(out.astype(np.uint8), connectivity=8)
    h, w = out.shape
    keep = {int(comp[int(np.clip(round(y), 0, h - 1)), int(np.clip(round(x), 0, w - 1))])
            for x, y in pos}
    keep.discard(0)
    if not keep:
        return out if len(pos) == 0 else np.zeros_like(fg)
    return np.isin(comp, list(keep))


def _newest_click(before: _Prompt | None, now: _Prompt) -> tuple[float, float, bool] | None:
    """The click `now` adds to the prompt `before` (same box, one click more), else None."""
    if before is None:
        return None
    same_box = (before.box is None and now.box is None) or (
        before.box is not None and now.box is not None and np.array_equal(before.box, now.box))
    if not same_box:
        return None
    for side, other, positive in ((now.positive, now.negative, True),
                                  (now.negative, now.positive, False)):
        old = before.positive if positive else before.negative
        old_other = before.negative if positive else before.positive
        if (len(side) == len(old) + 1 and np.array_equal(side[:-1], old)
                and np.array_equal(other, old_other)):
            x, y = side[-1]
            return float(x), float(y), positive
    return None


def _on_the_other_side(previous: np.ndarray, click: tuple[float, float, bool]) -> bool:
    """Whether the click says the mask is wrong where it lands (not merely confirms it)."""
    x, y, positive = click
    h, w = previous.shape
    return bool(previous[int(np.clip(round(y), 0, h - 1)), int(np.clip(round(x), 0, w - 1))]
                != positive)


def _local_change(previous: np.ndarray, fresh: np.ndarray,
                  click: tuple[float, float, bool]) -> np.ndarray:
    """The previous mask with only the change of `fresh` that the newest click lands in: the
    part it adds (a positive click) or takes away (a negative one); changes elsewhere are
    dropped, so that a click never undoes what earlier clicks fixed."""
    x, y, positive = click
    change = (fresh & ~previous) if positive else (previous & ~fresh)
    h, w = change.shape
    cy, cx = int(np.clip(round(y), 0, h - 1)), int(np.clip(round(x), 0, w - 1))
    out = previous.copy()
    if change[cy, cx]:
        _, comp = cv2.connectedComponents(change.astype(np.uint8), connectivity=8)
        out[comp == comp[cy, cx]] = positive
    _force_clicks(out, np.array([[x, y]]) if positive else np.zeros((0, 2)),
                  np.zeros((0, 2)) if positive else np.array([[x, y]]))
    return out


def _click_coloured(frame: np.ndarray, previous: np.ndarray, near: np.ndarray,
                    spread: np.ndarray, least: float, small: int) -> np.ndarray:
    """`spread` without the pieces (over `small` pixels) of its change from `near` whose colours
    are not those of the click's own change from `previous`: their mean log likelihood ratio of
    the change's colour histogram against the other side's near the mask is under `least`."""
    change = near != spread
    own = near != previous
    if not change.any() or not own.any():
        return spread
    bins = colour_bins(frame)
    ys, xs = np.nonzero(previous | spread)
    window = np.zeros_like(change)  # the mask's surroundings: its box and 32 px round it
    window[max(0, ys.min() - 32): ys.max() + 33, max(0, xs.min() - 32): xs.max() + 33] = True
    added = bool((spread & ~near).any())
    other = window & (~near if added else near) & ~own
    side = np.bincount(bins[own], minlength=512) + 1.0
    rest = np.bincount(bins[other], minlength=512) + 1.0
    ratio = np.log(side / side.sum()) - np.log(rest / rest.sum())
    count, comp = cv2.connectedComponents(change.astype(np.uint8), connectivity=8)
    sums = np.bincount(comp[change], weights=ratio[bins[change]], minlength=count)
    sizes = np.bincount(comp[change], minlength=count)
    bad = np.flatnonzero((sums[1:] < least * sizes[1:]) & (sizes[1:] > small)) + 1
    out = spread.copy()
    undo = np.isin(comp, bad)
    out[undo] = near[undo]
    return out


def _force_clicks(mask: np.ndarray, pos: np.ndarray, neg: np.ndarray, radius: int = 2) -> None:
    """Set a small square around every click to the click's side, in place."""
    h, w = mask.shape
    for points, value in ((pos, True), (neg, False)):
        for x, y in points:
            cy, cx = int(np.clip(round(y), 0, h - 1)), int(np.clip(round(x), 0, w - 1))
            mask[max(0, cy - radius): cy + radius + 1, max(0, cx - radius): cx + radius + 1] = value


def _unique(masks: list[np.ndarray]) -> list[np.ndarray]:
    """Drop candidates identical to an earlier one (keeping at least one)."""
    out: list[np.ndarray] = []
    for mask in masks:
        if not any(np.array_equal(mask, kept) for kept in out):
            out.append(mask)
    return out
