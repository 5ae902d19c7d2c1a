"""Fit the classic segmenter's predicted-IoU weights (models/classic/seg_score.py) on the first
frames of one DAVIS set: every candidate the segmenter offers during the standard click protocol
and during box + centre click, with its true IoU; a logistic regression on those IoUs. Prints the
weights to paste into seg_score.WEIGHTS and the Spearman correlation before and after the fit.

    .venv/bin/python benchmarks/fit_click_scores.py [--davis PATH] [--max-clicks 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from annotator.engine.click_protocol import iou, run_box_and_click, run_protocol  # noqa: E402
from annotator.engine.click_session import ClickSession  # noqa: E402
from benchmarks.clicks import SHARED, first_frames, spearman  # noqa: E402
from models.classic import seg_score  # noqa: E402
from models.classic.segmenter import ClassicSegmenter  # noqa: E402
from models.protocols import ClickPrediction  # noqa: E402


class Recorder:
    """A ClassicSegmenter that keeps the features of every candidate it hands out."""

    def __init__(self) -> None:
        self.inner = ClassicSegmenter()
        self.frame: np.ndarray | None = None
        self.rows: list[tuple[np.ndarray, np.ndarray]] = []  # (features, mask)

    def set_image(self, frame: np.ndarray) -> None:
        self.inner.set_image(frame)
        self.frame = frame

    def predict(self, points: np.ndarray, labels: np.ndarray, box: np.ndarray | None = None,
                prior: np.ndarray | None = None, multimask: bool = True) -> ClickPrediction:
        prediction = self.inner.predict(points, labels, box, prior, multimask)
        masks = list(prediction.masks)
        assert self.frame is not None
        for i, mask in enumerate(masks):
            features = seg_score.candidate_features(self.frame, mask, len(points), box,
                                                    masks[:i] + masks[i + 1:])
            self.rows.append((features, mask))
        return prediction


def collect(root: Path, max_clicks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, true IoU, the current score) of every candidate on `root`'s first frames."""
    recorder = Recorder()
    session = ClickSession(recorder)
    features, truths, scores = [], [], []
    for seq, frame, labels in first_frames(root):
        truth, valid = labels == 1, labels != 255
        recorder.rows.clear()
        run_protocol(session, frame, truth, valid, max_clicks, stop_at=0.90)
        run_box_and_click(session, frame, truth, valid)
        for row, mask in recorder.rows:
            features.append(row)
            truths.append(iou(mask, truth, valid))
            scores.append(seg_score.predicted_iou(row))
        print(f"  {seq}: {len(recorder.rows)} candidates", flush=True)
    return np.array(features), np.array(truths), np.array(scores)


def fit(features: np.ndarray, truths: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Logistic regression of the IoUs on the features (cross-entropy with soft targets)."""
    x = np.hstack([np.ones((len(features), 1)), features])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        eps = 1e-6
        value = -np.mean(truths * np.log(p + eps) + (1 - truths) * np.log(1 - p + eps))
        grad = x.T @ (p - truths) / len(x)
        return float(value + l2 * w[1:] @ w[1:]), grad + 2 * l2 * np.r_[0.0, w[1:]]

    return np.asarray(minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--davis", type=Path, default=SHARED / "data/davis16-tune")
    parser.add_argument("--max-clicks", type=int, default=10)
    args = parser.parse_args()
    print(f"collecting candidates on {args.davis.name}")
    features, truths, scores = collect(args.davis, args.max_clicks)
    weights = fit(features, truths)
    fitted = [seg_score.predicted_iou(row) if not np.any(row) else
              float(1 / (1 + np.exp(-(weights[0] + weights[1:] @ row)))) for row in features]
    print(f"Spearman with true IoU over {len(truths)} candidates: current weights "
          f"{spearman(list(zip(scores, truths, strict=True))):.3f}, fitted "
          f"{spearman(list(zip(fitted, truths, strict=True))):.3f}")
    print("WEIGHTS = np.array([" + ", ".join(f"{w:.3f}" for w in weights) + "])")
    return 0


if __name__ == "__main__":
    sys.exit(main())
