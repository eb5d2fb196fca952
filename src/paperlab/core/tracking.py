"""Metrics trackers: where `run.log(...)` records go besides metrics.jsonl.

metrics.jsonl is always written (resume and the plots read it). A tracker chosen with ``--tracker NAME`` or
$PAPERLAB_TRACKER gets every record as well:

- ``tensorboard`` (``pip install 'paperlab[tensorboard]'``) writes event files into ``<run>/tensorboard/`` for
  ``tensorboard --logdir runs``;
- ``mlflow`` (``pip install 'paperlab[mlflow]'``) logs the run's config as parameters and its records as metrics
  into ``$MLFLOW_TRACKING_URI`` if set, else the file store ``<out>/mlruns`` (``mlflow ui --backend-store-uri
  runs/mlruns``): one MLflow experiment per paper/experiment, one MLflow run per run folder (a resumed run
  continues its MLflow run).

A tracker's library is imported only when it is chosen.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import time
from numbers import Real
from pathlib import Path
from typing import Any, Iterator, Protocol

TRACKER_ENV = "PAPERLAB_TRACKER"
TRACKERS = ("jsonl", "tensorboard", "mlflow")
_PACKAGES = {"tensorboard": "tensorboard", "mlflow": "mlflow"}
# the fields that say where a record sits on its curve, most specific first: a record's x-axis value
STEP_KEYS = ("step", "env_steps", "iteration", "epoch")


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


class Scalars:
    """Turns records into (name, value, step) points. A record's text fields (phase, arm, method...) name its
    series, e.g. ``pretrain/fashion-20/loss``; its step is its first field of STEP_KEYS (``step`` of a SIREN fit,
    ``env_steps`` of a PEARL iteration), else the record's position within its own series (0, 1, 2...), so two
    methods logged in turn each get their own x-axis from 0."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def points(self, record: dict[str, Any]) -> Iterator[tuple[str, float, int]]:
        prefix = "/".join(str(v) for v in record.values() if isinstance(v, str))
        step = next((int(record[k]) for k in STEP_KEYS if _is_number(record.get(k))), None)
        if step is None:
            step = self.counts.get(prefix, 0)
            self.counts[prefix] = step + 1
        for key, value in record.items():
            if key not in STEP_KEYS and _is_number(value) and math.isfinite(value):
                yield f"{prefix}/{key}" if prefix else key, float(value), step


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _replay(run_dir: Path, first_step: int) -> Scalars:
    """The series counters after the first `first_step` records of metrics.jsonl (those a resumed run keeps)."""
    scalars = Scalars()
    path = Path(run_dir) / "metrics.jsonl"
    if first_step and path.exists():
        for line in path.read_text().splitlines()[:first_step]:
            if line.strip():
                record = json.loads(line)
                record.pop("time", None)
                for _ in scalars.points(record):
                    pass
    return scalars


class TensorBoardTracker:
    """Each record's numbers as TensorBoard scalars, at the record's step (see `Scalars`)."""

    def __init__(self, run_dir: Path, first_step: int = 0):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ValueError(_missing("tensorboard")) from None
        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"))
        self.scalars = _replay(run_dir, first_step)

    def log(self, **metrics: Any) -> None:
        for name, value, step in self.scalars.points(metrics):
            self.writer.add_scalar(name, value, step)

    def close(self) -> None:
        self.writer.close()


class MLflowTracker:
    """The run's config as MLflow parameters and each record's numbers as metrics at the record's step."""

    RUN_ID_FILE = "mlflow_run.json"

    def __init__(self, run_dir: Path, first_step: int = 0):
        try:
            mlflow = importlib.import_module("mlflow")
        except ImportError:
            raise ValueError(_missing("mlflow")) from None
        self.entities = importlib.import_module("mlflow.entities")
        run_dir = Path(run_dir)
        meta = json.loads((run_dir / "config.json").read_text()) if (run_dir / "config.json").exists() else {}
        uri = os.environ.get("MLFLOW_TRACKING_URI") or (run_dir.resolve().parents[2] / "mlruns").as_uri()
        self.client = mlflow.MlflowClient(tracking_uri=uri)
        self.scalars = _replay(run_dir, first_step)
        id_file = run_dir / self.RUN_ID_FILE
        if id_file.exists():  # a resumed run continues its MLflow run
            self.run_id = json.loads(id_file.read_text())["run_id"]
            return
        name = f"{meta.get('paper', run_dir.parents[1].name)}/{meta.get('experiment', run_dir.parent.name)}"
        experiment = self.client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(name)
        self.run_id = self.client.create_run(experiment_id, run_name=run_dir.name).info.run_id
        id_file.write_text(json.dumps({"run_id": self.run_id, "tracking_uri": uri}))
        params = {k: meta[k] for k in ("scale", "seed", "device") if k in meta}
        params.update({f"config.{k}": v for k, v in meta.get("config", {}).items()})
        # MLflow keeps a parameter's value as text of at most 500 characters
        self.client.log_batch(self.run_id, params=[self.entities.Param(k, str(v)[:500]) for k, v in params.items()])

    def log(self, **metrics: Any) -> None:
        now = int(time.time() * 1000)
        points = [self.entities.Metric(name, value, now, step) for name, value, step in self.scalars.points(metrics)]
        if points:
            self.client.log_batch(self.run_id, metrics=points)

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


def _missing(name: str) -> str:
    return f"--tracker {name} needs the {_PACKAGES[name]} package: pip install 'paperlab[{name}]'"


def resolve_tracker(name: str | None = None) -> str:
    """The tracker's name: `name` if given, else $PAPERLAB_TRACKER, else jsonl; one of TRACKERS."""
    name = name if name is not None else (os.environ.get(TRACKER_ENV, "").strip() or "jsonl")
    if name not in TRACKERS:
        raise ValueError(f"unknown tracker {name!r}; valid: {', '.join(TRACKERS)}")
    if name in _PACKAGES and importlib.util.find_spec(_PACKAGES[name]) is None:  # refused before a run starts
        raise ValueError(_missing(name))
    return name


def open_tracker(name: str, run_dir: Path, first_step: int = 0) -> Tracker:
    """The tracker `name` for the run in `run_dir`; `first_step` is the number of records metrics.jsonl already
    holds (a resumed run), whose steps the tracker counts on from."""
    if name == "tensorboard":
        return TensorBoardTracker(run_dir, first_step)
    if name == "mlflow":
        return MLflowTracker(run_dir, first_step)
    return NoTracker()
