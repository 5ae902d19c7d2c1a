"""Render the bundled demo clip: a synthetic outdoor scene with three textured moving objects.

    python tools/make_demo_clip.py [OUT]        (default: resources/demo)

Writes OUT/00000.jpg ... (640x360, JPEG quality 90) and the exact masks the scene was drawn
with as palette PNGs in OUT/ground_truth/ (1 ball, 2 crate, 3 leaf). The camera pans slowly;
the ball bounces and grows as it nears the camera, the crate slides behind the leaf, the leaf
turns and shrinks. Everything is generated here from a fixed seed: no third-party footage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from annotator.formats.masks import write_label_map  # noqa: E402

WIDTH, HEIGHT, FRAMES = 640, 360, 48
PAN = 120  # pixels the camera pans over the clip
SEED = 20240611


def smooth_noise(
    rng: np.random.Generator, height: int, width: int, scales: list[int]
) -> np.ndarray:
    """Sum of upsampled random grids (value noise), normalised to 0..1."""
    total = np.zeros((height, width), np.float32)
    for weight, cell in enumerate(scales, 1):
        grid = rng.random((height // cell + 2, width // cell + 2)).astype(np.float32)
        layer = cv2.resize(
            grid, (width + 2 * cell, height + 2 * cell), interpolation=cv2.INTER_CUBIC
        )
        total += layer[cell : cell + height, cell : cell + width] / weight
    total -= total.min()
    return total / max(float(total.max()), 1e-6)


def background(rng: np.random.Generator) -> np.ndarray:
    """A wide landscape (sky, hills, meadow) that the camera pans across; float RGB 0..1."""
    width = WIDTH + PAN
    rows = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None]
    sky = np.stack([0.55 + 0.25 * rows, 0.72 + 0.18 * rows, 0.95 - 0.05 * rows], -1)
    image = np.broadcast_to(sky, (HEIGHT, width, 3)).copy()
    clouds = smooth_noise(rng, HEIGHT, width, [64, 24])
    image += (np.clip(clouds - 0.55, 0, 1) * 0.9)[..., None] * (1 - rows[..., None]) ** 2
    xs = np.arange(width, dtype=np.float32)
    horizon = 150 + 18 * np.sin(xs / 95.0) + 9 * np.sin(xs / 37.0 + 1.3)
    hill_texture = smooth_noise(rng, HEIGHT, width, [32, 12])
    hills = np.arange(HEIGHT)[:, None] > horizon[None, :]
    hill_colour = np.stack(
        [0.30 + 0.12 * hill_texture, 0.42 + 0.15 * hill_texture, 0.30 + 0.08 * hill_texture], -1
    )
    image[hills] = hill_colour[hills]
    meadow_line = 205 + 6 * np.sin(xs / 60.0)
    meadow = np.arange(HEIGHT)[:, None] > meadow_line[None, :]
    grass = smooth_noise(rng, HEIGHT, width, [20, 6, 3])
    depth = np.clip((np.arange(HEIGHT, dtype=np.float32)[:, None] - 200) / 160, 0, 1)
    meadow_colour = np.stack(
        [0.32 + 0.25 * grass * (0.6 + depth), 0.50 + 0.22 * grass, 0.18 + 0.10 * grass], -1
    )
    image[meadow] = np.broadcast_to(meadow_colour, image.shape)[meadow]
    return np.clip(image, 0, 1)


def ball_sprite(radius: int, spin: float) -> tuple[np.ndarray, np.ndarray]:
    """A shaded, striped ball: (RGB float, bool mask) of size 2r+1."""
    ys, xs = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float32)
    inside = xs**2 + ys**2 <= radius**2
    z = np.sqrt(np.clip(radius**2 - xs**2 - ys**2, 0, None)) / radius
    shade = 0.35 + 0.65 * np.clip(0.2 * -xs / radius + 0.5 * -ys / radius + 0.7 * z, 0, 1)
    stripes = np.sin((xs * np.cos(spin) + ys * np.sin(spin)) / radius * 6.0) > 0
    base = np.where(stripes[..., None], [0.92, 0.25, 0.18], [0.97, 0.93, 0.85])
    highlight = np.clip((shade - 0.9) * 4, 0, 1)[..., None]
    return base * shade[..., None] * (1 - highlight) + highlight, inside


def crate_sprite(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Wooden planks with grain and dark edges (RGB float)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    grain = smooth_noise(rng, height, width, [8, 3])
    rings = 0.5 + 0.5 * np.sin(ys / 2.3 + 6 * grain)
    plank = (ys // max(height // 4, 1)) % 2
    wood = np.stack([0.55 + 0.18 * rings, 0.36 + 0.12 * rings, 0.18 + 0.06 * rings], -1)
    wood *= (0.9 + 0.1 * plank)[..., None]
    edge = np.minimum.reduce([xs, ys, width - 1 - xs, height - 1 - ys])
    wood *= np.clip(0.55 + edge / 8, 0.55, 1)[..., None]
    cross = (np.abs(xs / width - ys / height) < 0.06) | (
        np.abs(xs / width + ys / height - 1) < 0.06
    )
    wood[cross] *= 0.8
    return np.clip(wood, 0, 1)


def leaf_polygon(centre: tuple[float, float], size: float, angle: float) -> np.ndarray:
    """Outline of a leaf shape (with a notch) rotated by `angle`."""
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    r = (
        size
        * (0.55 + 0.45 * np.abs(np.sin(t)))
        * (1 - 0.25 * np.exp(-((t - 1.5 * np.pi) ** 2) * 8))
    )
    x, y = r * np.cos(t) * 0.6, r * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    points = np.stack([centre[0] + c * x - s * y, centre[1] + s * x + c * y], -1)
    return np.round(points).astype(np.int32)


def paste(
    frame: np.ndarray,
    labels: np.ndarray,
    sprite: np.ndarray,
    mask: np.ndarray,
    top: int,
    left: int,
    object_id: int,
) -> None:
    """Draw `sprite` where `mask` is set, clipped to the frame, and record its pixels."""
    h, w = mask.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, HEIGHT), min(left + w, WIDTH)
    if y0 >= y1 or x0 >= x1:
        return
    part = mask[y0 - top : y1 - top, x0 - left : x1 - left]
    frame[y0:y1, x0:x1][part] = sprite[y0 - top : y1 - top, x0 - left : x1 - left][part]
    labels[y0:y1, x0:x1][part] = object_id


def shadow(frame: np.ndarray, centre_x: float, ground_y: float, width: float) -> None:
    """Soft elliptical shadow on the ground."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    d = ((xs - centre_x) / width) ** 2 + ((ys - ground_y) / (width * 0.22)) ** 2
    frame *= (1 - 0.45 * np.exp(-d * 2.5))[..., None]


def render(out: Path) -> None:
    rng = np.random.default_rng(SEED)
    scenery = background(rng)
    crate = crate_sprite(rng, 96, 78)
    leaf_texture = smooth_noise(rng, HEIGHT, WIDTH, [10, 4])
    truth = out / "ground_truth"
    for index in range(FRAMES):
        t = index / (FRAMES - 1)
        offset = round(PAN * t)
        frame = scenery[:, offset : offset + WIDTH].copy()
        labels = np.zeros((HEIGHT, WIDTH), np.uint8)
        # crate: slides right along the ground, behind the leaf
        crate_left, crate_top = int(60 + 330 * t) - offset // 2, 228
        shadow(frame, crate_left + 48, crate_top + 80, 60)
        paste(frame, labels, crate, np.ones(crate.shape[:2], bool), crate_top, crate_left, 2)
        # ball: bounces from the right towards the camera, growing
        radius = round(22 + 26 * t)
        ball_x = 560 - 300 * t - offset * 0.3
        ball_ground = 300 + 30 * t
        ball_y = ball_ground - radius - 90 * abs(np.sin(t * 3 * np.pi))
        shadow(frame, ball_x, ball_ground + 4, radius * 1.1)
        sprite, inside = ball_sprite(radius, spin=-t * 9)
        paste(frame, labels, sprite, inside, int(ball_y) - radius, int(ball_x) - radius, 1)
        # leaf: drifts down in front of the crate, turning and shrinking
        leaf_mask = np.zeros((HEIGHT, WIDTH), np.uint8)
        polygon = leaf_polygon((330 - 60 * t, 190 + 70 * t), 70 - 25 * t, 0.4 + 1.6 * t)
        cv2.fillPoly(leaf_mask, [polygon], 1)
        veins = np.abs(np.sin(np.arange(WIDTH)[None, :] / 6.0 + np.arange(HEIGHT)[:, None] / 9.0))
        green = np.stack(
            [
                0.25 + 0.2 * leaf_texture,
                0.55 + 0.25 * leaf_texture * veins,
                0.12 + 0.1 * leaf_texture,
            ],
            -1,
        )
        paste(frame, labels, green, leaf_mask.astype(bool), 0, 0, 3)
        grain = rng.normal(0, 0.005, frame.shape).astype(np.float32)  # a little sensor noise
        pixels = (np.clip(frame + grain, 0, 1) * 255).round().astype(np.uint8)
        out.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(out / f"{index:05d}.jpg", quality=90)
        write_label_map(truth / f"{index:05d}.png", labels)


if __name__ == "__main__":
    render(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "resources" / "demo")
