"""Soft aggregation of per-object probabilities into one distribution with a background channel."""

from __future__ import annotations

import torch

EPSILON = 1e-7


def soft_aggregate(probs: torch.Tensor) -> torch.Tensor:
    """(K, ...) object probabilities -> (K + 1, ...) softmax over background and objects.

    Background is the product of (1 - p); each channel becomes a logit log(p / (1 - p)) after
    clamping to [1e-7, 1 - 1e-7], and a softmax over channels makes them sum to one. That
    softmax is computed as each channel's odds p / (1 - p) over their sum: the same function
    without a log and an exp per value (and without a reduction over the outer dimension, which
    torch does slowly on the CPU).
    """
    background = torch.prod(1 - probs, dim=0, keepdim=True)
    stacked = torch.cat([background, probs], dim=0).clamp_(EPSILON, 1 - EPSILON)
    odds = stacked / (1 - stacked)
    return odds.div_(odds.sum(dim=0, keepdim=True))


def winning_channel(probs: torch.Tensor) -> torch.Tensor:
    """`probs.argmax(dim=0)` of a (K + 1, H, W) map (the first channel on ties), one pass per
    channel: torch's reduction over the outer dimension is several times slower."""
    best = probs[0].clone()
    winners = torch.zeros(probs.shape[1:], dtype=torch.int64, device=probs.device)
    for channel in range(1, probs.shape[0]):
        better = probs[channel] > best
        winners.masked_fill_(better, channel)
        torch.maximum(best, probs[channel], out=best)
    return winners
