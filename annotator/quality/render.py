"""Pictures for reports, drawn with numpy and OpenCV: masks over a frame, the differences with
the ground truth, a caption bar, scaled copies and PNG bytes."""

from __future__ import annotations

import cv2
import numpy as np

from annotator.quality.differences import DIFFERENCE_COLOURS


def overlay(frame: np.ndarray, labels: np.ndarray, colours: np.ndarray,
            alpha: float = 0.5) -> np.ndarray:
    """The frame with each object's mask blended in its colour (`colours`: 256 x 3 RGB by id)
    and outlined at full strength; background and void stay as they are."""
    shown = (labels != 0) & (labels != 255)
    out = frame.copy()
    tint = colours[labels]
    out[shown] = (frame[shown] * (1 - alpha) + tint[shown] * alpha).astype(np.uint8)
    edges = shown & boundary(labels)
    out[edges] = tint[edges]
    return out


def differences(frame: np.ndarray, codes: np.ndarray, alpha: float = 0.75) -> np.ndarray:
    """The frame with the difference codes (see `annotator.quality.differences`) painted in
    their colours."""
    out = frame.copy()
    for code, colour in DIFFERENCE_COLOURS.items():
        where = codes == code
        out[where] = (frame[where] * (1 - alpha) + np.array(colour) * alpha).astype(np.uint8)
    return out


def captioned(image: np.ndarray, text: str) -> np.ndarray:
    """`image` with `text` on a dark bar along its top."""
    out = image.copy()
    scale = max(0.4, image.shape[1] / 1400)
    height = int(28 * scale / 0.6)
    out[:height] = (out[:height] * 0.35).astype(np.uint8)
    cv2.putText(out, text, (8, int(height * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), 1, cv2.LINE_AA)
    return out


def scaled(image: np.ndarray, width: int) -> np.ndarray:
    """`image` scaled to `width` pixels wide (never up)."""
    if image.shape[1] <= width:
        return image
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def png_bytes(image: np.ndarray) -> bytes:
    """An RGB image as PNG file bytes."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return bytes(data.tobytes())


def jpeg_bytes(image: np.ndarray, quality: int = 85) -> bytes:
    """An RGB image as JPEG file bytes (thumbnails of photographs: a tenth of a PNG's size)."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data.tobytes())


def boundary(labels: np.ndarray) -> np.ndarray:
    """Pixels whose right or lower neighbour holds another label, and those neighbours (a
    1-2 px outline of every region; the app's outline view and the reports alike)."""
    edge = np.zeros(labels.shape, dtype=bool)
    horizontal = labels[:, 1:] != labels[:, :-1]
    vertical = labels[1:, :] != labels[:-1, :]
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    edge[1:, :] |= vertical
    edge[:-1, :] |= vertical
    return edge
