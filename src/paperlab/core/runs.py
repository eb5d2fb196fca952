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
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from paperlab.core.config import config_from_dict, config_hash, config_to_dict
from paperlab.core.constraints import validate_config
from paperlab.core.seeding import check_seed, from_safe, resolve_device, rng_state, seed_everything, set_rng_state, \
    to_safe

RESULTS_FILE = "results.json"
RESUME_FILE = "resume.json"      # metrics bytes and compute seconds at the last durable save
CHECKPOINT_FORMAT = "paperlab_checkpoint"
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


def temporary_path(path: Path) -> Path:
    """A temp name beside `path`, unique per process and call: concurrent writers never share one."""
    path = Path(path)
    return path.with_name(f".{path.name}.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a crash never leaves a half-written JSON file."""
    path = Path(path)
    tmp = temporary_path(path)
    try:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_json(path: Path, required: Iterable[str] = ()) -> Any:
    """Parse a JSON file; a corrupt file or a missing key is one ValueError naming the path."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); delete or restore it") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text JSON file; delete or restore it") from None
    missing = [key for key in required if not isinstance(data, dict) or key not in data]
    if missing:
        raise ValueError(f"{path} lacks the key(s) {', '.join(missing)}; it was not written by this version of paperlab")
    return data


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
                 config: Any, resumed: bool = False, show_progress: bool = True, fresh: bool = False):
        self.dir = Path(directory)
        self.paper, self.experiment, self.scale = paper, experiment, scale
        self.seed, self.device, self.config = seed, device, config
        self.resumed = resumed
        self.show_progress = show_progress
        self.fresh = fresh  # --fresh: recompute artifacts shared between runs (caches) instead of reusing them
        (self.dir / "plots").mkdir(parents=True, exist_ok=True)
        partial_path = self.dir / "partial.json"
        self.partial: dict[str, Any] = read_json(partial_path) if partial_path.exists() else {}
        self.started = time.time()
        self.seconds_before = 0.0  # compute time of earlier attempts up to the point this one continues from
        if resumed:
            self._rewind()

    # -- the point a resume continues from ---------------------------------------------------------
    def _rewind(self) -> None:
        """Drop what an interrupted attempt logged after its last durable save (a checkpoint or a
        partial result): the resumed attempt logs it again, so metrics.jsonl keeps every step once."""
        marker = self.dir / RESUME_FILE
        metrics = self.dir / "metrics.jsonl"
        if marker.exists():
            state = read_json(marker, required=("metrics_bytes", "seconds"))
            keep, self.seconds_before = int(state["metrics_bytes"]), float(state["seconds"])
        elif self.partial:  # a run made before resume.json existed: keep what it has
            return
        else:
            keep = 0
        if metrics.exists() and metrics.stat().st_size > keep:
            with open(metrics, "r+b") as fh:
                fh.truncate(keep)

    def _mark_durable(self) -> None:
        metrics = self.dir / "metrics.jsonl"
        write_json(self.dir / RESUME_FILE, {"metrics_bytes": metrics.stat().st_size if metrics.exists() else 0,
                                            "seconds": self.elapsed()})

    def elapsed(self) -> float:
        """Compute seconds of this run across attempts (work lost to an interruption is not counted)."""
        return self.seconds_before + time.time() - self.started

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
        self._mark_durable()

    def metrics(self) -> list[dict]:
        path = self.dir / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    # -- checkpoints ------------------------------------------------------------------------------
    def checkpoint_path(self, name: str = "checkpoint") -> Path:
        (self.dir / "checkpoints").mkdir(exist_ok=True)
        return self.dir / "checkpoints" / f"{name}.pt"

    def save_checkpoint(self, state: dict[str, Any], name: str = "checkpoint",
                        generators: dict[str, Any] | None = None) -> Path:
        """Save `state` (tensors, numbers, strings, lists, dicts, NumPy arrays) with every RNG state:
        torch / NumPy / Python global generators and the named `generators` (torch.Generator or
        numpy Generator objects, e.g. a batch sampler's), so a resumed run draws the same numbers."""
        import torch

        path = self.checkpoint_path(name)
        tmp = temporary_path(path)
        payload = {CHECKPOINT_FORMAT: 1, "state": to_safe(state), "rng": to_safe(rng_state(generators))}
        try:
            torch.save(payload, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self._mark_durable()
        return path

    def load_checkpoint(self, name: str = "checkpoint", generators: dict[str, Any] | None = None
                        ) -> dict[str, Any] | None:
        """The state saved under `name` (None if there is none); restores the RNG states saved with it.
        Loaded with `weights_only=True`: a checkpoint can hold data only, never code."""
        import pickle

        import torch

        path = self.dir / "checkpoints" / f"{name}.pt"
        if not path.exists():
            return None
        try:
            payload = torch.load(path, map_location=self.device, weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"checkpoint {path} cannot be loaded ({first}); delete it to restart that part") from None
        if not isinstance(payload, dict) or CHECKPOINT_FORMAT not in payload:
            raise ValueError(f"checkpoint {path} was not written by this version of paperlab; delete it to restart "
                             "that part")
        set_rng_state(from_safe(payload["rng"]), generators)
        return from_safe(payload["state"])

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


def check_out_dir(out: str | Path, what: str = "--out") -> Path:
    """A directory to write into (it may not exist yet): one clear error when it is a file or cannot be made."""
    out = Path(out)
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ValueError(f"{what} {out}: {folder} is a file, not a directory")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise ValueError(f"{what} {out}: {folder} is not writable")
            return out
    return out


class RunLock:
    """An O_EXCL lock file holding the owner's pid and host. A lock whose owner has died on this host is
    recovered; one held by a live process (or another host) is waited for, or refused with `wait=False`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.held = False

    def _owner(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text() or "null")
        except (OSError, json.JSONDecodeError):
            return None

    def _stale(self) -> bool:
        owner = self._owner()
        if owner is None:  # unreadable: the owner died between creating and writing it, or is writing now
            try:
                return time.time() - self.path.stat().st_mtime > 30
            except FileNotFoundError:
                return False
        if owner.get("host") != socket.gethostname():
            return False
        try:
            os.kill(int(owner["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, KeyError, ValueError, TypeError):
            return False
        return False

    def try_acquire(self) -> bool:
        """Take the lock if it is free or stale; False while a live owner holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)  # its owner died: take it over
                    continue
                return False
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}))
            self.held = True
            return True

    def acquire(self, wait: bool = True, poll: float = 0.5) -> "RunLock":
        while not self.try_acquire():
            if not wait:
                owner = self._owner() or {}
                raise ValueError(f"{self.path.parent} is being run by pid {owner.get('pid', '?')} on "
                                 f"{owner.get('host', '?')} (lock {self.path}); wait for it to finish")
            time.sleep(poll)
        return self

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def identity_lock(out: Path, paper: str, experiment: str, identity: str) -> RunLock:
    """One lock per run identity: two processes never compute the same run, or make two folders for it."""
    return RunLock(Path(out) / paper / experiment / f".{identity}.lock")


def _new_run_dir(out: Path, paper: str, experiment: str, scale: str, seed: int) -> Path:
    for _ in range(100):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
        directory = Path(out) / paper / experiment / f"{scale}-seed{seed}-{stamp}"
        try:
            directory.mkdir(parents=True, exist_ok=False)
            return directory
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot make a new run folder under {Path(out) / paper / experiment}")


def run_experiment(paper: str, experiment: str, scale: str = "quick", seed: int = 0, device: str = "cpu",
                   out: str | Path = "runs", overrides: dict[str, Any] | None = None,
                   resume: str | Path | None = None, skip_finished: bool = False,
                   show_progress: bool = True, any_code: bool = False, fresh: bool = False) -> Path:
    """Run one experiment for one seed and return its run directory.

    Everything (config, seed, device, --out) is validated before any folder is made. With `resume`,
    the run continues in that directory with its saved config (a finished run is returned as is, never
    recomputed). With `skip_finished`, an identical finished run (same paper, experiment, scale, seed and
    config) is returned as is, and an identical unfinished one is resumed: this makes sweep jobs
    idempotent and safe to retry. With `any_code` too, a finished run with the same config made by other
    code is also reused (re-judging claims after editing a judge, without re-running). A lock per run
    identity makes concurrent callers wait for each other instead of computing the same run twice.
    With `fresh`, the experiment also recomputes artifacts it would reuse from a shared cache.
    """
    from paperlab.core.registry import get_paper

    if resume is not None:
        directory = Path(resume)
        cfg_file = directory / "config.json"
        if not cfg_file.is_file():
            raise FileNotFoundError(f"cannot resume: {cfg_file} does not exist (is {directory} a run directory?)")
        meta = read_json(cfg_file, required=("paper", "experiment", "scale", "seed", "config"))
        paper, experiment, scale, seed = meta["paper"], meta["experiment"], meta["scale"], meta["seed"]
        device = resolve_device(meta.get("device", device))
        exp = get_paper(paper).experiment(experiment)
        cfg = validate_config(config_from_dict(exp.config, meta["config"]))
        check_seed(seed)
        identity = meta.get("identity") or run_identity(paper, experiment, scale, seed, config_to_dict(cfg))
        lock = identity_lock(directory.parent.parent.parent, paper, experiment, identity).acquire(wait=False)
        resumed = True
    else:
        exp = get_paper(paper).experiment(experiment)
        cfg = exp.make_config(scale, overrides)
        check_seed(seed)
        device = resolve_device(device)
        check_out_dir(out)
        identity = run_identity(paper, experiment, scale, seed, config_to_dict(cfg))
        config_identity = run_identity(paper, experiment, scale, seed, config_to_dict(cfg), with_code=False)
        lock = identity_lock(Path(out), paper, experiment, identity).acquire(wait=True)
        directory = None
        try:
            if skip_finished and any_code:
                finished = find_run(Path(out), paper, experiment, config_identity, finished=True, key="config_identity")
                if finished is not None:
                    lock.release()
                    return finished
            if skip_finished:
                finished = find_run(Path(out), paper, experiment, identity, finished=True)
                if finished is not None:
                    lock.release()
                    return finished
                directory = find_run(Path(out), paper, experiment, identity, finished=False)
                if directory is not None and read_json(directory / "config.json").get("device", device) != device:
                    directory = None  # an unfinished run on another device is left alone, not adopted
            resumed = directory is not None
            if directory is None:
                directory = _new_run_dir(Path(out), paper, experiment, scale, seed)
                meta = {
                    "paper": paper, "experiment": experiment, "scale": scale, "seed": seed, "device": device,
                    "identity": identity, "config_identity": config_identity,
                    "code": code_fingerprint(paper), "config": config_to_dict(cfg), "config_class": type(cfg).__name__,
                    "versions": library_versions(), "git_commit": git_commit(),
                    "started": datetime.now(timezone.utc).isoformat(), "command": sys.argv,
                    "paths": exp.paths(cfg) if exp.paths else {},
                }
                write_json(directory / "config.json", meta)
        except BaseException:
            lock.release()
            raise
    try:
        if (directory / RESULTS_FILE).exists():  # finished: never recomputed, never overwritten
            return directory
        seed_everything(seed)
        run = Run(directory, paper, experiment, scale, seed, device, cfg, resumed=resumed, show_progress=show_progress,
                  fresh=fresh)
        results = exp.run(run, cfg)
        if not isinstance(results, dict):
            raise TypeError(f"experiment {paper}/{experiment} must return a dict of results, got {type(results).__name__}")
        results = {**results, "_meta": {"seconds": run.elapsed(), "seed": seed, "scale": scale, "resumed": resumed,
                                        "finished": datetime.now(timezone.utc).isoformat()}}
        write_json(directory / RESULTS_FILE, results)
    finally:
        lock.release()
    return directory


def load_results(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / RESULTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} has no {RESULTS_FILE}: the run did not finish (resume it with --resume)")
    return read_json(path)
