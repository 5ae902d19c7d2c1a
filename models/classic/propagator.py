"""A weights-free propagator: optical-flow warping fused with colour models, edge-snapped."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import cv2
import numpy as np

from models.classic.appearance import ColourModel, colour_index
from models.classic.flow import FlowEstimator, rigid_motion, sampling_map
from models.classic.redetect import Search, colour_evidence, complete, redetect
from models.classic.refine import band_cut, upsample_labels
from models.classic.track import ObjectMemory, keep_connected
from models.protocols import VOID, FrameSequence, PropagatedFrame, ShouldStop


class ClassicPropagator:
    """Carries label maps frame to frame without learned weights.

    Per frame: DIS optical flow at reduced size (backward, checked against forward flow)
    carries the last full-size label map pixel by pixel. An object whose flow one affine map
    explains is instead moved as a whole from an anchor mask (a keyframe or the last
    non-rigid result), the chain of moves corrected by flow straight to the anchor frame, so
    that thin parts survive and errors do not build up. A graph cut (GrabCut) in a band along
    each object's carried boundary then re-decides the pixels there from local colours,
    nudged by colour histograms remembered from the keyframes and recent frames; a guided
    filter snaps the changed boundaries to the full-size frame.

    Occlusion: every object is checked against the colours of the keyframes (never the drifted
    recent ones). One that mostly vanishes, or whose mask no longer looks like it (left on an
    occluder or on background), is searched for in every later frame by back-projecting those
    colours over the whole frame: blobs scored by colour, size, shape and a motion prior, the
    winner re-cut by GrabCut. A half-hidden one takes back the pieces of it that come out.
    """

    name = "classic"

    def __init__(
        self,
        work_size: int = 480,
        reach: float = 0.1,
        cut_budget: int = 40_000,
        colour_hints: bool = True,
        hint_margin: float = 2.0,
        rigid_share: float = 0.9,
        rigid_keep: float = 0.75,
        steady_reach: float = 0.3,
        max_keyframes: int = 4,
    ) -> None:
        self.work_size = work_size  # longer side of the working resolution
        self.reach = reach  # band half-width around the warped boundary, share of object size
        self.cut_budget = cut_budget  # most pixels the graph cut of one object works on
        self.colour_hints = colour_hints
        self.hint_margin = hint_margin  # log-likelihood ratio that counts as clear colour
        self.rigid_share = rigid_share  # share of flow an affine map must explain to be used
        self.rigid_keep = rigid_keep  # the share that keeps an object moving rigidly rigid
        self.steady_reach = steady_reach  # band width factor for objects that move rigidly
        self.max_keyframes = max_keyframes

    def propagate(self, frames: FrameSequence, keyframes: Mapping[int, np.ndarray],
                  targets: Sequence[int], should_stop: ShouldStop | None = None,
                  ) -> Iterator[PropagatedFrame]:
        targets = list(targets)
        if not targets:
            return
        if not keyframes:
            raise ValueError("propagation needs at least one keyframe")
        step = _direction(targets, keyframes)
        start = _start_keyframe(targets[0], step, keyframes)
        ids = sorted({int(v) for k in keyframes.values() for v in np.unique(k) if 0 < v < VOID})
        state = _Pass(self, ids)
        nearest = sorted(keyframes, key=lambda k: abs(k - targets[0]))[: self.max_keyframes]
        for k in nearest:
            state.learn_keyframe(frames[k], keyframes[k])
        state.reset(frames[start], keyframes[start])
        # Bridge a gap between the keyframe and the first target without yielding it.
        for index in range(start + step, targets[0], step):
            state.advance(frames[index])
        for index in targets:
            if should_stop is not None and should_stop():
                return
            if index in keyframes:
                state.reset(frames[index], keyframes[index])
                labels = _without_void(keyframes[index], ids)
                yield PropagatedFrame(index, labels, {i: float((labels == i).any()) for i in ids})
            else:
                yield PropagatedFrame(index, *state.advance(frames[index]))


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
    """The state of one propagation pass: full-size labels, decisions at working size."""

    def __init__(self, settings: ClassicPropagator, ids: list[int]) -> None:
        self.settings = settings
        self.ids = ids
        self.n = len(ids) + 1  # classes, 0 background
        self.lookup = np.zeros(256, np.uint8)  # label value -> class
        for c, obj in enumerate(ids, start=1):
            self.lookup[obj] = c
        self.to_label = np.array([0, *ids], np.uint8)
        self.colours = ColourModel(self.n)
        self.flow = FlowEstimator()
        self.long_flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.memory = [ObjectMemory() for _ in ids]
        self.size: tuple[int, int] | None = None  # (h, w) working size
        self.prev_grey: np.ndarray | None = None
        self.classes: np.ndarray | None = None  # full-size class map of the last frame
        # object -> (anchor mask, anchor frame grey, current -> anchor affine map)
        self.anchors: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.rigid: set[int] = set()  # objects moved rigidly in this step
        self.steady: set[int] = set()  # ... and still matching their anchor frame as a whole
        self.doubted: set[int] = set()  # objects whose mask no longer looks like them

    def _small(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        scale = min(1.0, self.settings.work_size / max(h, w))
        self.size = (max(1, round(h * scale)), max(1, round(w * scale)))
        if scale == 1.0:
            return frame
        return cv2.resize(frame, self.size[::-1], interpolation=cv2.INTER_AREA)

    def _shrink(self, classes: np.ndarray) -> np.ndarray:
        """(C, h, w) share of each class in every working-size pixel."""
        onehot = _one_hot(classes, self.n)
        return np.stack([cv2.resize(p, self.size[::-1], interpolation=cv2.INTER_AREA)
                         for p in onehot])

    def learn_keyframe(self, frame: np.ndarray, labels: np.ndarray) -> None:
        small = self._small(frame)
        classes = self._shrink(self.lookup[labels]).argmax(axis=0).astype(np.int16)
        classes[~_near_objects(classes > 0)] = -1  # background near the objects only
        self.colours.add_keyframe(colour_index(small), classes)

    def reset(self, frame: np.ndarray, labels: np.ndarray) -> None:
        small = self._small(frame)
        self.classes = self.lookup[labels]
        self.prev_grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        for c in range(1, self.n):
            self._anchor(c)
        coarse = self._shrink(self.classes).argmax(axis=0)
        ratios = self.colours.keyframe_log_ratios(colour_index(small))
        for c, memory in enumerate(self.memory, start=1):
            memory.observe(coarse == c, keyframe=True)
            memory.key_evidence = colour_evidence(ratios[c], coarse == c)

    def advance(self, frame: np.ndarray) -> tuple[np.ndarray, dict[int, float]]:
        """Propagate to the next frame; return its full-size label map and the confidence
        in each object."""
        small = self._small(frame)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        back, reliability = self.flow.backward(grey, self.prev_grey)
        carried = self._carry(back, reliability, grey)
        warped = self._shrink(carried)
        prior = warped.argmax(axis=0).astype(np.uint8)
        index = colour_index(small)
        colour = self.colours.log_likelihood(index)
        classes = self._cut(small, warped, prior, colour, reliability)
        classes = self._recover(small, classes, index)
        self.colours.update(index, _confident(classes))
        for c, memory in enumerate(self.memory, start=1):
            memory.observe(classes == c, trusted=c not in self.doubted)
        changed = classes != prior
        if changed.any():
            h, w = frame.shape[:2]
            redo = cv2.resize(changed.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
            redo = cv2.dilate(redo, np.ones((3, 3), np.uint8)).astype(bool)
            carried[redo] = upsample_labels(_soften(classes, self.n), frame)[redo]
        self.classes = carried
        self.prev_grey = grey
        for c in range(1, self.n):
            if c not in self.rigid:
                self._anchor(c)
        return self.to_label[carried], flow_confidence(classes, reliability, self.ids)

    def _anchor(self, c: int) -> None:
        """Make the current mask of object c the one later rigid moves start from."""
        self.anchors[c] = ((self.classes == c).astype(np.uint8), self.prev_grey, _IDENTITY.copy())

    def _realign(
        self,
        grey: np.ndarray,
        anchor_grey: np.ndarray,
        to_anchor: np.ndarray,
        region: np.ndarray,
        scale: float,
    ) -> np.ndarray | None:
        """Correct a chained rigid move by flow straight to the anchor frame, started from the
        chained move (drift control); None when no affine map explains that flow."""
        small = to_anchor.astype(np.float32).copy()
        small[:, 2] /= scale
        h, w = grey.shape
        aligned = cv2.warpAffine(anchor_grey, small, (w, h),
                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        ys = np.flatnonzero(region.any(axis=1))
        xs = np.flatnonzero(region.any(axis=0))
        if ys.size == 0:
            return None
        margin = 16 + (ys[-1] - ys[0] + xs[-1] - xs[0]) // 8
        y0, y1 = max(ys[0] - margin, 0), min(ys[-1] + margin + 1, h)
        x0, x1 = max(xs[0] - margin, 0), min(xs[-1] + margin + 1, w)
        residual = self.long_flow.calc(np.ascontiguousarray(grey[y0:y1, x0:x1]),
                                       np.ascontiguousarray(aligned[y0:y1, x0:x1]), None)
        gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32),
                             np.arange(y0, y1, dtype=np.float32))
        px, py = gx + residual[..., 0], gy + residual[..., 1]
        flow = np.stack([small[0, 0] * px + small[0, 1] * py + small[0, 2] - gx,
                         small[1, 0] * px + small[1, 1] * py + small[1, 2] - gy], axis=2)
        crop = region[y0:y1, x0:x1]
        fit = rigid_motion(flow, crop, np.ones(crop.shape, np.float32), origin=(x0, y0))
        if fit is None or fit[1] < self.settings.rigid_share:
            return None
        matrix = fit[0].copy()
        matrix[:, 2] *= scale
        return matrix

    def _carry(self, back: np.ndarray, reliability: np.ndarray, grey: np.ndarray) -> np.ndarray:
        """The last full-size class map moved into this frame: rigid objects by one affine
        map (keeps thin parts), the others pixel by pixel along the flow."""
        h, w = self.classes.shape
        scale = w / back.shape[1]
        flow = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR) * scale
        was_steady, self.steady, self.rigid = self.steady, set(), set()
        carried = cv2.remap(self.classes, sampling_map(flow), None, cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_REPLICATE)
        coarse = cv2.resize(carried, self.size[::-1], interpolation=cv2.INTER_NEAREST)
        inner = cv2.erode(coarse, np.ones((3, 3), np.uint8))
        for c in range(1, self.n):
            fit = rigid_motion(back, inner == c, reliability)
            # Hysteresis: an object moving rigidly keeps doing so through a noisier frame.
            needed = self.settings.rigid_keep if c in was_steady else self.settings.rigid_share
            if fit is None or fit[1] < needed:
                continue
            step = fit[0].copy()
            step[:, 2] *= scale
            # Chain this frame's move onto the anchor's, so that the anchor mask is resampled
            # once (no blur or loss of thin parts building up over frames).
            anchor, anchor_grey, to_anchor = self.anchors[c]
            to_anchor = (_homogeneous(to_anchor) @ _homogeneous(step))[:2]
            realigned = self._realign(grey, anchor_grey, to_anchor, inner == c, scale)
            moved = cv2.warpAffine(anchor, realigned if realigned is not None else to_anchor,
                                   (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
            if realigned is None:
                # The anchor frame no longer matches as a whole: start a new chain here, and
                # ask the next frame for the full share again.
                self.anchors[c] = (moved, grey, _IDENTITY.copy())
            else:
                self.anchors[c] = (anchor, anchor_grey, realigned)
                self.steady.add(c)
            merged = _merge_parts(moved.astype(bool), carried == c)
            carried[carried == c] = 0
            carried[merged & (carried == 0)] = c
            self.rigid.add(c)
        return carried

    def _cut(
        self,
        small: np.ndarray,
        warped: np.ndarray,
        prior: np.ndarray,
        colour: np.ndarray,
        reliability: np.ndarray,
    ) -> np.ndarray:
        """Each object re-decided by a graph cut in a band along its carried boundary."""
        classes = np.zeros(prior.shape, np.uint8)
        for c in range(1, self.n):
            region = prior == c
            area = int(np.count_nonzero(region))
            if area == 0:
                continue
            reach = self.settings.reach
            if c in self.steady:  # a verified rigid move needs only a light touch
                reach *= self.settings.steady_reach
            # An object smaller than it used to be (coming out from behind something) gets a
            # wider band to grow back into.
            typical = self.memory[c - 1].area
            regrow = float(np.clip(np.sqrt(typical / area), 1.0, 3.0)) if typical else 1.0
            radius = max(1, round(reach * regrow * np.sqrt(area)))
            hint = self._hint(colour, c, reliability) if self.settings.colour_hints else None
            mask = band_cut(small, region, radius, hint, self.settings.cut_budget)
            mask = keep_connected(mask, region)
            held = np.take_along_axis(warped, classes[None].astype(np.intp), axis=0)[0]
            classes[mask & ((classes == 0) | (warped[c] > held))] = c
        return classes

    def _hint(self, colour: np.ndarray, c: int, reliability: np.ndarray) -> np.ndarray:
        """+1/-1 where the remembered colours clearly favour object c / the rest; where the
        flow is unreliable (newly revealed background), any lean towards the rest counts."""
        ratio = colour[c] - np.maximum(colour[0], _others(colour, c))
        margin = self.settings.hint_margin
        hint = np.zeros(ratio.shape, np.int8)
        hint[ratio > margin] = 1
        hint[(ratio < -margin) | ((reliability < 0.3) & (ratio < 0))] = -1
        return hint

    def _recover(self, small: np.ndarray, classes: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Check each object against its keyframe colours; look for vanished objects (or ones
        whose mask no longer looks like them: stuck on an occluder or on background) where
        their motion says, and complete half-hidden ones with the pieces of them that come
        out from hiding."""
        ratios = self.colours.keyframe_log_ratios(index)
        self.doubted = set()
        for c, memory in enumerate(self.memory, start=1):
            current = classes == c
            area = int(np.count_nonzero(current))
            doubtful = area > 0 and memory.doubts(colour_evidence(ratios[c], current))
            search = Search(small, ratios[c], (classes == 0) | current, memory,
                            budget=self.settings.cut_budget)
            if memory.lost(area) or doubtful:
                found = redetect(search)
            elif memory.partial(area):
                found = complete(search, current)
            else:
                continue
            if found is None:
                if doubtful:
                    self.doubted.add(c)
                continue
            if doubtful and not memory.partial(area) and _iou(found, current) > 0.2:
                continue  # found where the mask is: the colours changed, not the object
            classes[current] = 0
            classes[found] = c
            # The rigid chain followed what is left behind: start a new one.
            self.rigid.discard(c)
            self.steady.discard(c)
        return classes


def flow_confidence(classes: np.ndarray, reliability: np.ndarray, ids: list[int],
                    ) -> dict[int, float]:
    """Per object: how far forward and backward flow agree over its mask (the mean of
    `reliability`, 1 consistent, towards 0 occluded or unreliable), 0 where it has no pixels.
    `classes` holds class c for object `ids[c - 1]`, at the size of `reliability`."""
    sums = np.bincount(classes.ravel(), reliability.ravel(), minlength=len(ids) + 1)
    counts = np.bincount(classes.ravel(), minlength=len(ids) + 1)
    return {obj: float(sums[c] / counts[c]) if counts[c] else 0.0
            for c, obj in enumerate(ids, start=1)}


_IDENTITY = np.array([[1, 0, 0], [0, 1, 0]], np.float32)


def _homogeneous(affine: np.ndarray) -> np.ndarray:
    return np.vstack([affine, [0, 0, 1]]).astype(np.float64)


def _merge_parts(rigid: np.ndarray, flowed: np.ndarray) -> np.ndarray:
    """An object moved as a whole, plus the pieces that the flow carried elsewhere (a detached
    part moving on its own), less the rigid pieces that the flow put nowhere near."""
    near = cv2.dilate(flowed.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    kept = keep_connected(rigid, near)
    return kept | (flowed & ~keep_connected(flowed, rigid))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


def _others(colour: np.ndarray, c: int) -> np.ndarray:
    rest = [k for k in range(1, colour.shape[0]) if k != c]
    if not rest:
        return np.full(colour.shape[1:], -np.inf, np.float32)
    return colour[rest].max(axis=0)


def _soften(classes: np.ndarray, n: int) -> np.ndarray:
    """Class probabilities for the next warp: the decision with slightly blurred edges."""
    return np.stack([cv2.GaussianBlur(p, (5, 5), 1.0) for p in _one_hot(classes, n)])


def _one_hot(classes: np.ndarray, n: int) -> np.ndarray:
    return (classes[None] == np.arange(n, dtype=classes.dtype)[:, None, None]).astype(np.float32)


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


def _confident(classes: np.ndarray) -> np.ndarray:
    """Class of pixels safe to learn colours from (-1 elsewhere): away from boundaries."""
    out = classes.astype(np.int16)
    eroded = cv2.erode(classes, np.ones((5, 5), np.uint8))
    dilated = cv2.dilate(classes, np.ones((5, 5), np.uint8))
    out[eroded != dilated] = -1
    out[(out == 0) & ~_near_objects(classes > 0)] = -1
    return out
