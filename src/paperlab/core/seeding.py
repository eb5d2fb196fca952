"""Seeding and device selection, in one place."""

from __future__ import annotations

import os
import random
from typing import Any

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


# -- RNG state in checkpoints ------------------------------------------------------------------------
def rng_state(generators: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every RNG a run draws from: torch (CPU and CUDA), NumPy and Python global generators, plus named
    torch.Generator / numpy Generator objects (a batch sampler's own stream)."""
    import torch

    state: dict[str, Any] = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
                             "python": random.getstate(), "generators": {}}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    for name, gen in (generators or {}).items():
        if isinstance(gen, torch.Generator):
            state["generators"][name] = {"torch": gen.get_state()}
        elif isinstance(gen, np.random.Generator):
            state["generators"][name] = {"numpy": gen.bit_generator.state}
        else:
            raise TypeError(f"generator {name!r} must be a torch.Generator or numpy Generator, got {type(gen).__name__}")
    return state


def set_rng_state(state: dict[str, Any], generators: dict[str, Any] | None = None) -> None:
    """Restore what `rng_state` saved (named generators are restored into the objects given)."""
    import torch

    torch.set_rng_state(state["torch"].cpu())
    np.random.set_state(tuple(state["numpy"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    saved = state.get("generators", {})
    for name, gen in (generators or {}).items():
        if name not in saved:
            raise ValueError(f"the checkpoint has no state for generator {name!r} (saved: {', '.join(saved) or 'none'})")
        if isinstance(gen, torch.Generator):
            gen.set_state(saved[name]["torch"].cpu())
        else:
            gen.bit_generator.state = saved[name]["numpy"]


_NDARRAY = "__ndarray__"


def to_safe(obj: Any) -> Any:
    """Containers of tensors, NumPy arrays and Python scalars -> what `torch.load(weights_only=True)`
    reads back: arrays become raw bytes plus dtype and shape (no pickled NumPy objects)."""
    import torch

    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError("a checkpoint cannot hold NumPy object arrays")
        data = np.ascontiguousarray(obj)
        return {_NDARRAY: torch.frombuffer(bytearray(data.tobytes()), dtype=torch.uint8) if data.nbytes
                else torch.empty(0, dtype=torch.uint8), "dtype": data.dtype.str, "shape": list(data.shape)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: to_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [to_safe(v) for v in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    return obj


def from_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        if _NDARRAY in obj:
            raw = obj[_NDARRAY].cpu().numpy().tobytes()
            return np.frombuffer(raw, dtype=np.dtype(obj["dtype"])).reshape(obj["shape"]).copy()
        return {k: from_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [from_safe(v) for v in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    return obj
