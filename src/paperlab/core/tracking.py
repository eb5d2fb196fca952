"""Metrics trackers: where `run.log(...)` records go besides metrics.jsonl.

metrics.jsonl is always written (resume and the plots read it). A tracker chosen with ``--tracker NAME`` or
$PAPERLAB_TRACKER gets every record as well; TensorBoard (``pip install paperlab[tensorboard]``) writes event
files into ``<run>/tensorboard/`` for ``tensorboard --logdir runs``. A tracker's library is imported only when
it is chosen.
"""

from __future__ import annotations

import importlib.util
import math
import os
from numbers import Real
from pathlib import Path
from typing import Any, Protocol

TRACKER_ENV = "PAPERLAB_TRACKER"
TRACKERS = ("jsonl", "tensorboard")


class Tracker(Protocol):
    """What a tracker does: receive each logged record, then close."""

    def log(self, **metrics: Any) -> None: ...

    def close(self) -> None: ...


class NoTracker:
    """The default: metrics.jsonl only (written by the run itself)."""

    def log(self, **metrics: Any) -> None:
        pass

    def close(self) -> None:
        pass


class TensorBoardTracker:
    """Each record's numbers as scalars. The step is the record's index in metrics.jsonl (records carry no common
    step field); its text fields (phase, arm, method...) name the scalars, e.g. ``pretrain/fashion-20/loss``."""

    def __init__(self, log_dir: Path, first_step: int = 0):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ValueError("--tracker tensorboard needs the tensorboard package: pip install 'paperlab[tensorboard]'"
                             ) from None
        self.writer = SummaryWriter(log_dir=str(log_dir))
        self.step = first_step

    def log(self, **metrics: Any) -> None:
        prefix = "/".join(str(v) for v in metrics.values() if isinstance(v, str))
        for key, value in metrics.items():
            if isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value):
                self.writer.add_scalar(f"{prefix}/{key}" if prefix else key, float(value), self.step)
        self.step += 1

    def close(self) -> None:
        self.writer.close()


def resolve_tracker(name: str | None = None) -> str:
    """The tracker's name: `name` if given, else $PAPERLAB_TRACKER, else jsonl; one of TRACKERS."""
    name = name if name is not None else (os.environ.get(TRACKER_ENV, "").strip() or "jsonl")
    if name not in TRACKERS:
        raise ValueError(f"unknown tracker {name!r}; valid: {', '.join(TRACKERS)}")
    if name == "tensorboard" and importlib.util.find_spec("tensorboard") is None:  # refused before a run starts
        raise ValueError("--tracker tensorboard needs the tensorboard package: pip install 'paperlab[tensorboard]'")
    return name


def open_tracker(name: str, run_dir: Path, first_step: int = 0) -> Tracker:
    if name == "tensorboard":
        return TensorBoardTracker(Path(run_dir) / "tensorboard", first_step)
    return NoTracker()
