"""What a propagation pass remembers of each object: its size, place and motion, to find it
again after an occlusion."""

from __future__ import annotations

import cv2
import numpy as np


def keep_connected(mask: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """The connected pieces of `mask` that touch `seed`."""
    count, parts = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 2:
        return mask if (mask & seed).any() else np.zeros_like(mask)
    touching = np.unique(parts[mask & seed])
    keep = np.zeros(count, bool)
    keep[touching] = True
    keep[0] = False
    return keep[parts]


def elongation(mask: np.ndarray) -> float:
    """How stretched a region is: the ratio of the spreads of its pixels along its main axes
    (1 for a disc or a square, 4 for a 4:1 bar)."""
    m = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    return float(axis_ratio(m["mu20"], m["mu02"], m["mu11"]))


def axis_ratio(mu20: np.ndarray, mu02: np.ndarray, mu11: np.ndarray) -> np.ndarray:
    """Elongation from central second moments (any shape of arrays, or plain numbers)."""
    half_sum = (mu20 + mu02) / 2
    root = np.sqrt(((mu20 - mu02) / 2) ** 2 + mu11**2)
    return np.sqrt((half_sum + root) / np.maximum(half_sum - root, 1e-6 + 1e-3 * half_sum))


# An object moving this many working pixels per frame against the background or more has a
# motion of its own that a mask taken over by something else (`ObjectMemory.taken_over`) or a
# find of that something (`ObjectMemory.moves_unlike`) can be told from.
_MOVING = 4.0
_AT_REST = 0.2  # a mask moving less than this share of that against the background is at rest
_ITS_WAY = 0.25  # a find moving less than this share of it along it does not go the object's way
_RECENT = 10  # frames lost after which its motion is no guide to the object's


class ObjectMemory:
    """Typical area, last place and velocity of one object, and how long it has been missing.

    The typical area follows the object slowly and ignores sudden drops, so that an occluded
    object counts as missing instead of teaching the memory that it is small."""

    def __init__(
        self,
        lost_share: float = 0.3,
        partial_share: float = 0.6,
        rate: float = 0.1,
        motion_rate: float = 0.5,
    ) -> None:
        self.area = 0.0
        self.whole = 0.0  # typical area, not taught by masks below 0.6 of the usual one
        self.elongation = 1.0  # longest over shortest spread of its pixels, followed slowly
        self.centre: np.ndarray | None = None  # x, y of the last frame it was seen in
        self.velocity = np.zeros(2)  # pixels per frame, smoothed
        self.frames_lost = 0
        self.key_evidence = 0.0  # mean colour evidence for the object in its keyframe
        # its own motion against the background's at its centre, pixels per frame, smoothed
        self.drift: np.ndarray | None = None
        self._taken = False  # lost since its mask passed to another body (`let_go`)
        self._lost_share = lost_share
        self._partial_share = partial_share
        self._rate = rate
        self._motion_rate = motion_rate

    def observe(self, mask: np.ndarray, keyframe: bool = False, trusted: bool = True,
                leaving: bool = False, drift: np.ndarray | None = None) -> None:
        """Learn from this frame's mask; an untrusted one (it does not look like the object)
        counts as a frame with the object missing. While the object is `leaving` the view, a
        mask smaller than remembered does not teach the size (the frame's edge cuts it), so
        that a scrap of it left at the edge counts as the object lost. `drift`: the mask's
        motion against the background's, learnt while it is seen (forgotten after ten frames
        lost)."""
        area = int(np.count_nonzero(mask))
        if keyframe:
            self.area = float(area)
            self.whole = float(area)
            self.elongation = elongation(mask) if area else 1.0
            self.velocity = np.zeros(2)
            self.centre = None
            self.drift = None
            self._taken = False
        if area == 0 or self.lost(area) or not trusted:
            self.frames_lost += 1
            return
        ys, xs = np.nonzero(mask)
        centre = np.array([xs.mean(), ys.mean()])
        if self.centre is not None and self.frames_lost == 0:
            r = self._motion_rate
            self.velocity = (1 - r) * self.velocity + r * (centre - self.centre)
        self.centre = centre
        if self.frames_lost >= _RECENT:
            self.drift = None  # after so long it may move otherwise
        self.frames_lost = 0
        self._taken = False
        if drift is not None:
            r = self._motion_rate
            self.drift = drift if self.drift is None else (1 - r) * self.drift + r * drift
        if leaving and area < self.area:
            return
        self.area = (1 - self._rate) * self.area + self._rate * area
        if not self.partial(area):
            self.whole = (1 - self._rate) * self.whole + self._rate * area
        self.elongation = (1 - self._rate) * self.elongation + self._rate * elongation(mask)

    def lost(self, area: int) -> bool:
        """Whether an object that used to be there is mostly gone now."""
        return self.area > 0 and area < self._lost_share * self.area

    def doubts(self, evidence: float) -> bool:
        """Whether a mask whose colours give this evidence has lost the object (stuck on an
        occluder or on background): much less evidence than in the keyframe, where the
        keyframe's colours told the object apart at all."""
        return self.key_evidence > 1.0 and evidence < 0.5 * self.key_evidence

    def partial(self, area: int) -> bool:
        """Whether the object shows well below its usual size `area`, which follows every
        mask, half-hidden ones too (see `half_hidden` for the size they do not teach)."""
        return self.area > 0 and area < self._partial_share * self.area

    def half_hidden(self, area: int) -> bool:
        """Whether the object shows well below the size it had before it was last half
        hidden (the size half-hidden masks do not teach)."""
        return self.whole > 0 and area < self._partial_share * self.whole

    def taken_over(self, drift: np.ndarray | None, area: int) -> bool:
        """Whether a mask of `area` pixels that moves `drift` against the background has passed
        to another body: the object shows well below its usual size (going behind something)
        and its mask has come to rest on the background while the object was moving clearly
        against it."""
        if area == 0 or not self.partial(area) or drift is None or self.drift is None:
            return False
        speed = float(np.linalg.norm(self.drift))
        return speed >= _MOVING and float(np.linalg.norm(drift)) < _AT_REST * speed

    def let_go(self) -> None:
        """Its mask was taken over (`taken_over`) and cleared: until it is seen again, finds
        are checked against its motion (`moves_unlike`)."""
        self._taken = True

    def moves_unlike(self, drift: np.ndarray | None) -> bool:
        """Whether a find that moves `drift` against the background is not this object, soon
        after its mask was taken over (`let_go`): the object was moving clearly against the
        background, and the find does not move its way (at rest, or against it: what the
        mask was dragged onto)."""
        if not self._taken or self.frames_lost >= _RECENT or drift is None or self.drift is None:
            return False
        speed = float(np.linalg.norm(self.drift))
        return speed >= _MOVING and float(drift @ self.drift) < _ITS_WAY * speed**2

    def expected_centre(self) -> np.ndarray | None:
        """Where the object should be now if it kept moving as it did before it vanished (for
        ten frames at most: a hidden object seldom keeps its speed for longer)."""
        if self.centre is None:
            return None
        return self.centre + self.velocity * min(self.frames_lost + 1, 10)
