"""Boundary refinement: graph cut (GrabCut) in a narrow band, and edge-aware upsampling."""

from __future__ import annotations

import cv2
import numpy as np


def band_cut(
    image: np.ndarray,
    prior: np.ndarray,
    radius: int,
    hint: np.ndarray | None = None,
    budget: int = 40_000,
) -> np.ndarray:
    """Re-decide the pixels within `radius` of the boundary of the boolean `prior` by a graph
    cut with colour models learnt from the crop around it (local foreground and background).

    `hint` (optional, int8): +1 where other evidence says object, -1 background, 0 unsure; it
    tips the band's starting labels. The crop is shrunk to at most `budget` pixels."""
    if not prior.any():
        return prior
    h, w = prior.shape
    ys = np.flatnonzero(prior.any(axis=1))
    xs = np.flatnonzero(prior.any(axis=0))
    pad = 3 * radius + 2
    y0, y1 = max(ys[0] - pad, 0), min(ys[-1] + pad + 1, h)
    x0, x1 = max(xs[0] - pad, 0), min(xs[-1] + pad + 1, w)
    crop_prior = prior[y0:y1, x0:x1].astype(np.uint8)
    crop_image = image[y0:y1, x0:x1]
    crop_hint = None if hint is None else hint[y0:y1, x0:x1]
    ch, cw = crop_prior.shape
    scale = min(1.0, float(np.sqrt(budget / (ch * cw))))
    if scale < 1.0:
        size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
        crop_image = cv2.resize(crop_image, size, interpolation=cv2.INTER_AREA)
        crop_prior = cv2.resize(crop_prior, size, interpolation=cv2.INTER_NEAREST)
        if crop_hint is not None:
            crop_hint = cv2.resize(crop_hint, size, interpolation=cv2.INTER_NEAREST)
        radius = max(1, round(radius * scale))
    trimap = _trimap(crop_prior, radius, crop_hint)
    if not (trimap == cv2.GC_FGD).any() or not (trimap == cv2.GC_BGD).any():
        return prior
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(crop_image[..., ::-1])
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models by k-means: same input, same answer
    cv2.grabCut(bgr, trimap, None, models[0], models[1], 1, cv2.GC_INIT_WITH_MASK)
    result = ((trimap == cv2.GC_FGD) | (trimap == cv2.GC_PR_FGD)).astype(np.uint8)
    if scale < 1.0:
        soft = cv2.resize(result.astype(np.float32), (x1 - x0, y1 - y0),
                          interpolation=cv2.INTER_LINEAR)
        result = (soft > 0.5).astype(np.uint8)
    out = prior.copy()
    out[y0:y1, x0:x1] = result.astype(bool)
    return out


def _trimap(prior: np.ndarray, radius: int, hint: np.ndarray | None) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    inner = cv2.erode(prior, kernel).astype(bool)
    outer = cv2.dilate(prior, kernel).astype(bool)
    trimap = np.full(prior.shape, cv2.GC_BGD, np.uint8)
    trimap[outer] = cv2.GC_PR_BGD
    trimap[prior.astype(bool)] = cv2.GC_PR_FGD
    if hint is not None:
        band = outer & ~inner
        trimap[band & (hint > 0)] = cv2.GC_PR_FGD
        trimap[band & (hint < 0)] = cv2.GC_PR_BGD
    trimap[inner] = cv2.GC_FGD
    return trimap


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a grey guide in [0, 1]; `source` is H x W x C float32."""
    mean_i = _box(guide, radius)
    var_i = _box(guide * guide, radius) - mean_i * mean_i
    channels = source.shape[2] if source.ndim == 3 else 1
    src = source.reshape(*source.shape[:2], channels)
    mean_p = _box(src, radius).reshape(src.shape)
    mean_ip = _box(src * guide[..., None], radius).reshape(src.shape)
    a = (mean_ip - mean_i[..., None] * mean_p) / (var_i[..., None] + eps)
    b = mean_p - a * mean_i[..., None]
    out = _box(a, radius).reshape(src.shape) * guide[..., None] + _box(b, radius).reshape(src.shape)
    return out.reshape(source.shape)


def upsample_labels(
    probs: np.ndarray, frame: np.ndarray, band_pixels: int = 4, eps: float = 1e-3
) -> np.ndarray:
    """Full-size label indices (0..C-1) from (C, h, w) class probabilities at a lower size,
    boundaries snapped to the frame's edges by a guided filter."""
    h, w = frame.shape[:2]
    stacked = np.ascontiguousarray(probs.transpose(1, 2, 0))
    big = cv2.resize(stacked, (w, h), interpolation=cv2.INTER_LINEAR)
    big = big.reshape(h, w, probs.shape[0])
    rough = big.argmax(axis=2)
    # Filter only around the rough boundaries: elsewhere the answer is already clear.
    edges = cv2.morphologyEx(rough.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    if not edges.any():
        return rough.astype(np.uint8)
    ys = np.flatnonzero(edges.any(axis=1))
    xs = np.flatnonzero(edges.any(axis=0))
    pad = band_pixels * 2
    y0, y1 = max(ys[0] - pad, 0), min(ys[-1] + pad + 1, h)
    x0, x1 = max(xs[0] - pad, 0), min(xs[-1] + pad + 1, w)
    guide = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    crop = guided_filter(guide, big[y0:y1, x0:x1], band_pixels, eps)
    rough[y0:y1, x0:x1] = crop.reshape(y1 - y0, x1 - x0, -1).argmax(axis=2)
    return rough.astype(np.uint8)
