"""A weights-free propagator: optical flow carries the masks, local colour models re-decide
their boundaries, a motion memory keeps them from jumping."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import cv2
import numpy as np

from models.classic.appearance import ColourModel, colour_index
from models.classic.flow import FlowEstimator, sampling_map
from models.classic.local_colour import LocalColours, colour_bins
from models.classic.redetect import Search, colour_evidence, complete, redetect
from models.classic.refine import guided_filter, upsample_labels
from models.classic.track import ObjectMemory, keep_connected
from models.protocols import VOID, FrameSequence, PropagatedFrame, ShouldStop


class ClassicPropagator:
    """Carries label maps frame to frame without learned weights.

    Per frame, at a working size: DIS optical flow (checked forward against backward) moves
    the last frame's class probabilities into this one. Two spatially-varying colour models
    then re-decide each pixel in a band along the carried boundaries: one learnt from the last
    frame (windowed Gaussian colour statistics of each class, moved along the flow), one from
    the keyframe (the same statistics moved by the similarity that maps the keyframe's objects
    onto their carried place). The evidence is added in log space, smoothed along image edges
    by a guided filter, and only pieces of each object connected to its carried core are kept,
    so a mask cannot jump to look-alike background. The full-size map snaps to the frame's
    edges.
    """

    name = "classic"

    def __init__(
        self,
        work_size: int = 427,
        band: float = 0.3,
        prior_weight: float = 0.6,
        recent_weight: float = 0.7,
        key_weight: float = 0.3,
        cell: int = 8,
        window: int = 5,
        growth: float = 0.2,
    ) -> None:
        self.work_size = work_size  # longer side of the working resolution
        self.band = band  # half-width of the band re-decided, share of the object's size
        self.prior_weight = prior_weight
        self.recent_weight = recent_weight
        self.key_weight = key_weight
        self.cell = cell  # cell side of the colour models' grid (working pixels)
        self.growth = growth  # most an object may grow by colour per frame, share of its area
        self.window = window  # cells on a side of the window each cell's colours come from

    def propagate(
        self,
        frames: FrameSequence,
        keyframes: Mapping[int, np.ndarray],
        targets: Sequence[int],
        should_stop: ShouldStop | None = None,
    ) -> Iterator[PropagatedFrame]:
        for index, labels, confidence in self.track(frames, keyframes, targets, should_stop):
            yield PropagatedFrame(index, labels, confidence)

    def track(
        self,
        frames: FrameSequence,
        keyframes: Mapping[int, np.ndarray],
        targets: Sequence[int],
        should_stop: ShouldStop | None = None,
    ) -> Iterator[tuple[int, np.ndarray, dict[int, float]]]:
        """`propagate`, each frame with a confidence per object id: 0..1, how far this
        propagator trusts that object's mask there (1 on keyframes)."""
        targets = list(targets)
        if not targets:
            return
        if not keyframes:
            raise ValueError("propagation needs at least one keyframe")
        step = _direction(targets, keyframes)
        start = _start_keyframe(targets[0], step, keyframes)
        ids = sorted({int(v) for k in keyframes.values() for v in np.unique(k) if 0 < v < VOID})
        state = _Pass(self, ids)
        state.reset(frames[start], keyframes[start])
        # Bridge a gap between the keyframe and the first target without yielding it.
        for index in range(start + step, targets[0], step):
            state.advance(frames[index])
        for index in targets:
            if should_stop is not None and should_stop():
                return
            if index in keyframes:
                state.reset(frames[index], keyframes[index])
                yield index, _without_void(keyframes[index], ids), dict.fromkeys(ids, 1.0)
            else:
                labels = state.advance(frames[index])
                yield index, labels, state.confidence()


def _direction(targets: list[int], keyframes: Mapping[int, np.ndarray]) -> int:
    if len(targets) > 1:
        return 1 if targets[1] > targets[0] else -1
    before = [k for k in keyframes if k < targets[0]]
    after = [k for k in keyframes if k > targets[0]]
    if not after or (before and targets[0] - max(before) <= min(after) - targets[0]):
        return 1
    return -1


def _start_keyframe(first: int, step: int, keyframes: Mapping[int, np.ndarray]) -> int:
    behind = [k for k in keyframes if (first - k) * step > 0]
    if behind:
        return max(behind, key=lambda k: k * step)
    return min(keyframes, key=lambda k: abs(k - first))


def _without_void(labels: np.ndarray, ids: list[int]) -> np.ndarray:
    out = labels.copy()
    out[~np.isin(out, ids)] = 0
    return out


class _Pass:
    """The state of one propagation pass, at working size."""

    def __init__(self, settings: ClassicPropagator, ids: list[int]):
        self.settings = settings
        self.ids = ids
        self.n = len(ids) + 1  # classes, 0 background
        self.lookup = np.zeros(256, np.uint8)  # label value -> class
        for c, obj in enumerate(ids, start=1):
            self.lookup[obj] = c
        self.to_label = np.array([0, *ids], np.uint8)
        self.flow = FlowEstimator()
        self.size: tuple[int, int] = (0, 0)  # (h, w) working size
        self.grey: np.ndarray | None = None
        self.classes: np.ndarray | None = None  # full-size class map of the last frame
        self.recent: LocalColours | None = None
        self.key: LocalColours | None = None
        self.key_shape: tuple[np.ndarray, float] | None = None  # keyframe objects' centre, size
        self.colours = ColourModel(self.n)  # the keyframe's colours, for finding lost objects
        self.memory = [ObjectMemory() for _ in ids]
        # object -> (centre, frames in a row) of a lost object found again, not yet trusted
        self.sightings: dict[int, tuple[np.ndarray, int]] = {}
        self.features: dict[int, np.ndarray] = {}  # object -> what its confidence comes from
        self.trend: dict[int, np.ndarray] = {}  # object -> running mean of those features
        self.age = 0  # frames since the keyframe

    def _small(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        scale = min(1.0, self.settings.work_size / max(h, w))
        self.size = (max(1, round(h * scale)), max(1, round(w * scale)))
        if scale == 1.0:
            return frame
        return cv2.resize(frame, self.size[::-1], interpolation=cv2.INTER_AREA)

    def _shrink(self, classes: np.ndarray) -> np.ndarray:
        """(C, h, w) share of each class in every working-size pixel."""
        return np.stack([cv2.resize(p, self.size[::-1], interpolation=cv2.INTER_AREA)
                         for p in _one_hot(classes, self.n)])

    def reset(self, frame: np.ndarray, labels: np.ndarray) -> None:
        small = self._small(frame)
        self.classes = self.lookup[labels]
        classes = self._shrink(self.classes).argmax(axis=0).astype(np.uint8)
        self.grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        self.recent = self._learn(small, classes)
        self.key = self.recent
        self.key_shape = _placement(classes > 0)
        index = colour_index(small)
        near = classes.astype(np.int16)
        near[~_near_objects(classes > 0)] = -1
        self.colours.add_keyframe(index, near)
        ratios = self.colours.keyframe_log_ratios(index)
        for c, memory in enumerate(self.memory, start=1):
            memory.observe(classes == c, keyframe=True)
            memory.key_evidence = colour_evidence(ratios[c], classes == c)
        self.sightings.clear()
        self.trend.clear()
        self.age = 0

    def advance(self, frame: np.ndarray) -> np.ndarray:
        """Propagate to the next frame; return its full-size label map."""
        s = self.settings
        small = self._small(frame)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        bins = colour_bins(small)
        back, _ = self.flow.backward(grey, self.grey)
        sampling = sampling_map(back)
        h, w = self.classes.shape
        big = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR) * (w / back.shape[1])
        carried_full = cv2.remap(self.classes, sampling_map(big), None, cv2.INTER_NEAREST,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        prior = self._whole(self._shrink(carried_full), self._shrink(self.classes), back)
        carried = prior.argmax(axis=0).astype(np.uint8)
        score = s.prior_weight * np.log(prior + 0.02)
        score += s.recent_weight * self.recent.log_posterior(bins, sampling[..., 0],
                                                             sampling[..., 1])
        to_key = self._to_keyframe(carried)
        key = None
        if to_key is not None:
            key = self.key.log_posterior(bins, *to_key)
            score += s.key_weight * key
        far = self._outside_band(carried)
        probs = _softmax(score)
        probs = np.clip(guided_filter(grey.astype(np.float32) / 255.0,
                                      np.ascontiguousarray(probs.transpose(1, 2, 0)), 3, 1e-3),
                        0, 1).transpose(2, 0, 1)
        probs[:, far & (carried == 0)] = prior[:, far & (carried == 0)]
        classes = probs.argmax(axis=0).astype(np.uint8)
        classes = self._connected(classes, prior)
        classes = self._limit_growth(classes, carried, probs)
        classes = self._recover(small, classes)
        self.age += 1
        self._describe(classes, carried, probs, key)
        for c, memory in enumerate(self.memory, start=1):
            memory.observe(classes == c, trusted=c not in self.sightings)
        changed = classes != carried
        if changed.any():
            redo = cv2.resize(changed.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
            redo = cv2.dilate(redo, np.ones((3, 3), np.uint8)).astype(bool)
            carried_full[redo] = upsample_labels(_soften(classes, self.n), frame)[redo]
        self.classes = carried_full
        self.grey = grey
        classes = self._shrink(carried_full).argmax(axis=0).astype(np.uint8)
        self.recent = self._learn(small, classes)
        return self.to_label[carried_full]

    def _whole(self, prior: np.ndarray, before: np.ndarray, back: np.ndarray) -> np.ndarray:
        """The carried class shares, with each object also half-expected where its last mask
        lands when moved as a whole by its median flow: a part that an occluder ate on the
        way may be taken back when it comes out (the colours decide)."""
        h, w = self.size
        out = prior.copy()
        for c in range(1, self.n):
            inside = prior[c] > 0.5
            if not inside.any():
                continue
            dx, dy = np.median(back[inside], axis=0)
            shift = np.array([[1, 0, -dx], [0, 1, -dy]], np.float32)
            moved = cv2.warpAffine(before[c], shift, (w, h), flags=cv2.INTER_LINEAR)
            out[c] = np.maximum(out[c], _HALF * moved)
        return out / np.maximum(out.sum(axis=0, keepdims=True), 1e-6)

    def _limit_growth(self, classes: np.ndarray, carried: np.ndarray,
                      probs: np.ndarray) -> np.ndarray:
        """Colour alone may grow an object by a fifth per frame at most (the flow already
        carried its own growth): beyond that, only its surest additions stay, and if those
        are still too many, none."""
        out = classes.copy()
        for c in range(1, self.n):
            added = (classes == c) & (carried != c)
            most = self.settings.growth * max(np.count_nonzero(carried == c), 1)
            if np.count_nonzero(added) <= most:
                continue
            doubtful = added & (probs[c] < 0.9)
            out[doubtful] = carried[doubtful]
            if np.count_nonzero(added & ~doubtful) > most:
                out[added] = carried[added]
        return out

    def _recover(self, small: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Look for each object that has mostly vanished, or whose mask no longer has its
        keyframe colours (left on background), by those colours where its motion says; take
        a find only when the frame before found it in about the same place. A half-hidden
        object takes back the pieces of it that come out."""
        ratios = self.colours.keyframe_log_ratios(colour_index(small))
        for c, memory in enumerate(self.memory, start=1):
            current = classes == c
            area = int(np.count_nonzero(current))
            doubtful = area > 0 and memory.doubts(colour_evidence(ratios[c], current))
            search = Search(small, ratios[c], (classes == 0) | current, memory)
            if not (memory.lost(area) or doubtful):
                self.sightings.pop(c, None)
                if memory.partial(area):  # half hidden: take back the pieces that come out
                    grown = complete(search, current)
                    if grown is not None:
                        classes[grown] = c
                continue
            found = redetect(search)
            if found is None or (doubtful and _iou(found, current) > 0.2):
                self.sightings.pop(c, None)
                continue
            centre = _placement(found)[0]
            seen = self.sightings.get(c)
            near = seen is not None and (
                np.linalg.norm(centre - seen[0]) < 0.5 * np.sqrt(memory.area))
            count = seen[1] + 1 if near else 1
            self.sightings[c] = (centre, count)
            if count >= 2:
                classes[current] = 0
                classes[found] = c
                del self.sightings[c]
        return classes

    def _describe(self, classes: np.ndarray, carried: np.ndarray, probs: np.ndarray,
                  key: np.ndarray | None) -> None:
        """What each object's confidence on this frame is computed from."""
        self.features = {}
        for c, memory in enumerate(self.memory, start=1):
            mask = classes == c
            area = int(np.count_nonzero(mask))
            was = carried == c
            union = np.count_nonzero(mask | was)
            agree = np.count_nonzero(mask & was) / union if union else 1.0
            size = area / memory.area if memory.area > 0 else 0.0
            ring = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
            edge = ring & ~cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
            sure = float(np.abs(2 * probs[c][edge] - 1).mean()) if edge.any() else 0.0
            fit = float(np.exp(key[c][mask]).mean()) if key is not None and area else 0.0
            self.features[c] = np.array([agree, min(size, 1 / max(size, 1e-3)), sure, fit])

    def confidence(self) -> dict[int, float]:
        """Object id -> 0..1 trust in its mask on the last frame: a logistic function of the
        running means (quick to fall, slow to rise) of the agreement of flow and colour, the
        steadiness of the object's size, how decided the pixels along its boundary are and
        how well its colours match the keyframe's, and of the frames since the keyframe
        (fitted to predict J >= 0.5 on the davis16-tune sequences)."""
        out = {}
        for c, obj in enumerate(self.ids, start=1):
            f = self.features[c]
            trend = self.trend.get(c)
            if trend is None:
                trend = f
            else:  # trust is lost fast and won back slowly
                rate = np.where(f < trend, _TREND_FALL, _TREND_RISE)
                trend = (1 - rate) * trend + rate * f
            self.trend[c] = trend
            z = float(_CONFIDENCE_WEIGHTS @ trend) + _AGE_WEIGHT * np.log1p(self.age)
            out[obj] = 1.0 / (1.0 + np.exp(-(z + _CONFIDENCE_BIAS)))
        return out

    def _learn(self, small: np.ndarray, classes: np.ndarray) -> LocalColours:
        return LocalColours.learn(colour_bins(small), _confident(classes), self.n,
                                  self.settings.cell, self.settings.window)

    def _to_keyframe(self, carried: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Where each pixel of this frame falls in the keyframe when the objects' carried
        place is mapped onto theirs there (x, y arrays), None without objects."""
        now = _placement(carried > 0)
        if now is None or self.key_shape is None:
            return None
        (kc, ks), (nc, ns) = self.key_shape, now
        ys, xs = np.indices(carried.shape, dtype=np.float32)
        scale = ks / ns
        return (xs - nc[0]) * scale + kc[0], (ys - nc[1]) * scale + kc[1]

    def _outside_band(self, carried: np.ndarray) -> np.ndarray:
        """Pixels far enough from every carried boundary to keep their carried class."""
        area = max(1, int(np.count_nonzero(carried)))
        width = max(3, round(self.settings.band * np.sqrt(area)))
        edges = cv2.morphologyEx(carried, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
        dist = cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, 3)
        return dist > width

    def _connected(self, classes: np.ndarray, prior: np.ndarray) -> np.ndarray:
        """Each object only where it connects to its carried core."""
        out = classes.copy()
        for c in range(1, self.n):
            mask = classes == c
            core = prior[c] > 0.5
            kept = keep_connected(mask, core)
            out[mask & ~kept] = 0
        return out


# The confidence's logistic model (see `_Pass.confidence`).
_TREND_FALL, _TREND_RISE = 0.5, 0.05
_CONFIDENCE_WEIGHTS = np.array([5.93, 4.46, 4.06, 3.67])
_AGE_WEIGHT = -2.35
_CONFIDENCE_BIAS = -6.18


_HALF = 0.5  # how far an object is expected where its whole-object move puts it


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


def _placement(mask: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Centre (x, y) and size (square root of the area) of a mask, None when empty."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    return np.array([xs.mean(), ys.mean()]), float(np.sqrt(ys.size))


def _softmax(score: np.ndarray) -> np.ndarray:
    e = np.exp(score - score.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _soften(classes: np.ndarray, n: int) -> np.ndarray:
    """Class probabilities for the next warp: the decision with slightly blurred edges."""
    return np.stack([cv2.GaussianBlur(p, (5, 5), 1.0) for p in _one_hot(classes, n)])


def _one_hot(classes: np.ndarray, n: int) -> np.ndarray:
    return (classes[None] == np.arange(n, dtype=classes.dtype)[:, None, None]).astype(np.float32)


def _confident(classes: np.ndarray) -> np.ndarray:
    """Class of pixels safe to learn colours from (-1 elsewhere): away from boundaries."""
    out = classes.astype(np.int16)
    eroded = cv2.erode(classes, np.ones((3, 3), np.uint8))
    dilated = cv2.dilate(classes, np.ones((3, 3), np.uint8))
    out[eroded != dilated] = -1
    return out


def _near_objects(objects: np.ndarray) -> np.ndarray:
    """The objects' bounding box grown by half their size: where background colour matters."""
    if not objects.any():
        return np.ones(objects.shape, bool)
    h, w = objects.shape
    ys = np.flatnonzero(objects.any(axis=1))
    xs = np.flatnonzero(objects.any(axis=0))
    margin = max(5, int(0.5 * np.sqrt(np.count_nonzero(objects))))
    near = np.zeros(objects.shape, bool)
    near[max(ys[0] - margin, 0) : min(ys[-1] + margin + 1, h),
         max(xs[0] - margin, 0) : min(xs[-1] + margin + 1, w)] = True
    return near
