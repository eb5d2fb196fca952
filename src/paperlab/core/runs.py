"""Run directories: config, metrics as they come, partial results, checkpoints, plots, resume.

Layout: runs/<paper>/<experiment>/<scale>-seed<N>-<timestamp>/
    config.json     resolved config, scale, seed, device, library versions, git commit, run identity
    metrics.jsonl   one JSON object per `run.log(...)`, appended and flushed at once
    partial.json    finished pieces (`run.save_partial`), restored on --resume
    checkpoints/    `run.save_checkpoint(...)`
    results.json    written when the experiment returns: its presence marks the run finished
    plots/*.png
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from paperlab.core.config import config_from_dict, config_hash, config_to_dict
from paperlab.core.seeding import resolve_device, seed_everything

RESULTS_FILE = "results.json"
_VERSIONED = ("numpy", "scipy", "torch", "scikit-learn", "scikit-image", "matplotlib", "kornia", "gymnasium", "mujoco")


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a crash never leaves a half-written JSON file."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default))
    os.replace(tmp, path)


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "paperlab": _version("paperlab")}
    for name in _VERSIONED:
        versions[name] = _version(name)
    return versions


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class Run:
    """The handle an experiment writes through. Created by `run_experiment`."""

    def __init__(self, directory: Path, paper: str, experiment: str, scale: str, seed: int, device: str,
                 config: Any, resumed: bool = False, show_progress: bool = True):
        self.dir = Path(directory)
        self.paper, self.experiment, self.scale = paper, experiment, scale
        self.seed, self.device, self.config = seed, device, config
        self.resumed = resumed
        self.show_progress = show_progress
        (self.dir / "plots").mkdir(parents=True, exist_ok=True)
        partial_path = self.dir / "partial.json"
        self.partial: dict[str, Any] = json.loads(partial_path.read_text()) if partial_path.exists() else {}

    # -- metrics and partial results --------------------------------------------------------------
    def log(self, **metrics: Any) -> None:
        """Append one record to metrics.jsonl immediately (never lost if the run dies later)."""
        record = {"time": time.time(), **metrics}
        with open(self.dir / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(record, default=_json_default) + "\n")

    def save_partial(self, key: str, value: Any) -> None:
        """Record a finished piece of the result (an arm, a dataset size...); restored on resume."""
        self.partial[key] = json.loads(json.dumps(value, default=_json_default))
        write_json(self.dir / "partial.json", self.partial)

    def metrics(self) -> list[dict]:
        path = self.dir / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    # -- checkpoints ------------------------------------------------------------------------------
    def checkpoint_path(self, name: str = "checkpoint") -> Path:
        (self.dir / "checkpoints").mkdir(exist_ok=True)
        return self.dir / "checkpoints" / f"{name}.pt"

    def save_checkpoint(self, state: dict[str, Any], name: str = "checkpoint") -> Path:
        import torch

        path = self.checkpoint_path(name)
        tmp = path.with_suffix(".pt.tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)
        return path

    def load_checkpoint(self, name: str = "checkpoint") -> dict[str, Any] | None:
        import torch

        path = self.dir / "checkpoints" / f"{name}.pt"
        if not path.exists():
            return None
        return torch.load(path, map_location=self.device, weights_only=False)

    # -- plots and progress -----------------------------------------------------------------------
    def plot_path(self, name: str) -> Path:
        return self.dir / "plots" / (name if name.endswith(".png") else f"{name}.png")

    def save_figure(self, fig: Any, name: str) -> Path:
        from paperlab.core.plots import save_figure

        return save_figure(fig, self.plot_path(name))

    def progress(self, iterable: Iterable | None = None, total: int | None = None, desc: str | None = None, **kw):
        from tqdm.auto import tqdm

        label = f"{self.paper}/{self.experiment}" + (f" {desc}" if desc else "")
        disable = not self.show_progress or os.environ.get("PAPERLAB_NO_PROGRESS") == "1"
        return tqdm(iterable, total=total, desc=label, disable=disable, leave=False, dynamic_ncols=True, **kw)


def code_fingerprint(paper: str) -> str:
    """A hash of the source a paper's runs depend on: core/, datasets/, the paper's own package and a
    sibling common/ package (rl/common for the RL papers). A run made by different code is never reused,
    while an edit to another paper leaves this paper's finished runs valid."""
    import hashlib
    import importlib

    from paperlab.core.registry import paper_modules

    root = Path(__file__).resolve().parent.parent
    package = Path(importlib.import_module(paper_modules()[paper]).__file__).resolve().parent
    folders = [root / "core", root / "datasets", package, package.parent / "common"]
    digest = hashlib.sha256()
    for folder in dict.fromkeys(folders):
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def artifact_key(paper: str, payload: dict[str, Any]) -> str:
    """Key for an artifact shared between a paper's experiments (a pre-trained encoder, a trained arm):
    the payload plus the paper's code fingerprint, so an artifact made by older code is never reused."""
    return config_hash({"payload": payload, "code": code_fingerprint(paper)})


def run_identity(paper: str, experiment: str, scale: str, seed: int, config: dict[str, Any],
                 with_code: bool = True) -> str:
    """Same paper, experiment, scale, seed, config (and code) -> same identity (a finished run is reused)."""
    payload = {"paper": paper, "experiment": experiment, "scale": scale, "seed": seed, "config": config}
    return config_hash({**payload, "code": code_fingerprint(paper)} if with_code else payload)


def find_run(out: Path, paper: str, experiment: str, identity: str, finished: bool,
             key: str = "identity") -> Path | None:
    """The newest run whose config.json[key] is `identity` and that has (finished=True) or lacks results.json.

    Re-runs skip a finished identical run and resume an unfinished one.
    """
    base = Path(out) / paper / experiment
    if not base.exists():
        return None
    for cfg_path in sorted(base.glob("*/config.json"), reverse=True):
        try:
            meta = json.loads(cfg_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if key == "config_identity" and key not in meta and "config" in meta:  # runs made before it was stored
            meta[key] = run_identity(meta["paper"], meta["experiment"], meta["scale"], meta["seed"], meta["config"],
                                     with_code=False)
        if meta.get(key) == identity and (cfg_path.parent / RESULTS_FILE).exists() == finished:
            return cfg_path.parent
    return None


def run_experiment(paper: str, experiment: str, scale: str = "quick", seed: int = 0, device: str = "cpu",
                   out: str | Path = "runs", overrides: dict[str, Any] | None = None,
                   resume: str | Path | None = None, skip_finished: bool = False,
                   show_progress: bool = True, any_code: bool = False) -> Path:
    """Run one experiment for one seed and return its run directory.

    With `resume`, the run continues in that directory with its saved config. With `skip_finished`,
    an identical finished run (same paper, experiment, scale, seed and config) is returned as is, and
    an identical unfinished one is resumed: this makes sweep jobs idempotent and safe to retry.
    With `any_code` too, a finished run with the same config made by other code is also reused
    (re-judging claims after editing a judge, without re-running).
    """
    from paperlab.core.registry import get_paper

    if resume is not None:
        directory = Path(resume)
        cfg_file = directory / "config.json"
        if not cfg_file.exists():
            raise FileNotFoundError(f"cannot resume: {cfg_file} does not exist")
        meta = json.loads(cfg_file.read_text())
        paper, experiment, scale, seed = meta["paper"], meta["experiment"], meta["scale"], meta["seed"]
        device = meta.get("device", device)
        exp = get_paper(paper).experiment(experiment)
        cfg = config_from_dict(exp.config, meta["config"])
        resumed = True
    else:
        exp = get_paper(paper).experiment(experiment)
        cfg = exp.make_config(scale, overrides)
        identity = run_identity(paper, experiment, scale, seed, config_to_dict(cfg))
        config_identity = run_identity(paper, experiment, scale, seed, config_to_dict(cfg), with_code=False)
        directory = None
        if skip_finished and any_code:
            finished = find_run(Path(out), paper, experiment, config_identity, finished=True, key="config_identity")
            if finished is not None:
                return finished
        if skip_finished:
            finished = find_run(Path(out), paper, experiment, identity, finished=True)
            if finished is not None:
                return finished
            directory = find_run(Path(out), paper, experiment, identity, finished=False)
        resumed = directory is not None
        if directory is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
            directory = Path(out) / paper / experiment / f"{scale}-seed{seed}-{stamp}"
            directory.mkdir(parents=True, exist_ok=False)
            meta = {
                "paper": paper, "experiment": experiment, "scale": scale, "seed": seed, "device": device,
                "identity": identity, "config_identity": config_identity,
                "code": code_fingerprint(paper), "config": config_to_dict(cfg), "config_class": type(cfg).__name__,
                "versions": library_versions(), "git_commit": git_commit(),
                "started": datetime.now(timezone.utc).isoformat(), "command": sys.argv,
            }
            write_json(directory / "config.json", meta)
    device = resolve_device(device)
    seed_everything(seed)
    run = Run(directory, paper, experiment, scale, seed, device, cfg, resumed=resumed, show_progress=show_progress)
    started = time.time()
    results = exp.run(run, cfg)
    if not isinstance(results, dict):
        raise TypeError(f"experiment {paper}/{experiment} must return a dict of results, got {type(results).__name__}")
    results = {**results, "_meta": {"seconds": time.time() - started, "seed": seed, "scale": scale}}
    write_json(directory / RESULTS_FILE, results)
    return directory


def load_results(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / RESULTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} has no {RESULTS_FILE}: the run did not finish (resume it with --resume)")
    return json.loads(path.read_text())
