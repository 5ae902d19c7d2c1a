"""Soft aggregation of per-object probabilities into one distribution with a background channel."""

from __future__ import annotations

import torch

EPSILON = 1e-7


def soft_aggregate(probs: torch.Tensor) -> torch.Tensor:
    """(K, ...) object probabilities -> (K + 1, ...) softmax over background and objects.

    Background is the product of (1 - p); each channel becomes a logit log(p / (1 - p)) after
    clamping to [1e-7, 1 - 1e-7], and a softmax over channels makes them sum to one.
    """
    background = torch.prod(1 - probs, dim=0, keepdim=True)
    stacked = torch.cat([background, probs], dim=0).clamp(EPSILON, 1 - EPSILON)
    logits = torch.log(stacked / (1 - stacked))
    return torch.softmax(logits, dim=0)
