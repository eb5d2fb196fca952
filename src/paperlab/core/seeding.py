"""Seeding and device selection, in one place."""

from __future__ import annotations

import os
import random

import numpy as np


def check_seed(seed) -> int:
    """A seed is an integer in [0, 2**32 - 1] (what NumPy accepts)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1], got {seed!r}")
    return seed


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so that the same seed gives identical CPU results."""
    check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)
    import torch

    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def resolve_device(name: str) -> str:
    """Return a valid torch device string; a clear error when CUDA is asked for but absent."""
    import torch

    if name == "cpu":
        return "cpu"
    index = name[5:] if name.startswith("cuda:") else ""
    if name == "cuda" or index.isdigit():
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but CUDA is not available on this machine; use --device cpu")
        if index and int(index) >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return name
    raise ValueError(f"unknown device {name!r}; valid: cpu, cuda, cuda:N")
