"""Choice of the torch device: CUDA when present, then Apple MPS, else the CPU."""

from __future__ import annotations

from typing import TYPE_CHECKING

from annotator.errors import AnnotatorError

if TYPE_CHECKING:  # torch is imported when a device is chosen: learned engines only
    import torch


def pick_device(preference: str | None = None) -> torch.device:
    """`preference` is None/'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."""
    import torch

    if preference in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(preference)
    except RuntimeError as exc:
        raise AnnotatorError(
            f"unknown device {preference!r}: use auto, cpu, cuda, cuda:N or mps"
        ) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AnnotatorError(f"device {preference!r} was asked for but CUDA is not available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise AnnotatorError(f"device {preference!r} was asked for but MPS is not available")
    return device


def describe_device(device: torch.device) -> str:
    import torch

    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"
