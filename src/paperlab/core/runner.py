"""Running an experiment: run identity, code fingerprint, finding a finished run, the thread setting, and
`run_experiment`, which makes (or resumes) a run folder and calls the experiment with a `Run` handle.

The handle, JSON files and locks live in the leaf module `paperlab.core.runs`; this module is the only
part of the run machinery that looks papers up in the registry.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

from paperlab.core.config import config_from_dict, config_hash, config_to_dict
from paperlab.core.constraints import validate_config
from paperlab.core.experiment import Experiment
from paperlab.core.precision import PRECISION_ENV, PRECISIONS, resolve_precision, use_precision
from paperlab.core.registry import get_paper, paper_modules
from paperlab.core.runs import RESULTS_FILE, Run, RunLock, check_out_dir, read_json, write_json
from paperlab.core.seeding import check_seed, resolve_device, seed_everything
from paperlab.core.tracking import resolve_tracker

_VERSIONED = ("numpy", "scipy", "torch", "scikit-learn", "scikit-image", "matplotlib", "kornia", "gymnasium", "mujoco")

THREADS_ENV = "PAPERLAB_THREADS"


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


# -- threads ----------------------------------------------------------------------------------------
def resolve_threads(threads: int | None = None) -> int:
    """The thread setting: `threads` if given, else $PAPERLAB_THREADS, else `default_threads()` (0: the
    libraries' own default, usually one per core)."""
    if threads is None:
        text = os.environ.get(THREADS_ENV, "").strip()
        if not text:
            return default_threads()
        try:
            threads = int(text)
        except ValueError:
            raise ValueError(f"${THREADS_ENV}={text!r} is not a whole number; use 0 (the libraries' default) "
                             "or a positive thread count") from None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be 0 (the libraries' default) or a positive whole number, got {threads!r}")
    return threads


def default_threads() -> int:
    """A run alone uses every core this process may run on; runs side by side (the processes and ray executors)
    get one thread each (core.sweep sets $PAPERLAB_THREADS=1 in their workers). Where other programs share the
    cores, --threads 1 is faster (OpenBLAS threads spin-wait: docs/ssl.md measured ~10x per step on 2 shared
    cores)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # no CPU affinity outside Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    """torch's intra-op threads and the BLAS / OpenMP pools (NumPy, SciPy) limited to `threads` while the block
    runs, then restored; 0 leaves them as they are."""
    if threads == 0:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            yield
    finally:
        torch.set_num_threads(previous)


# -- identities -------------------------------------------------------------------------------------
def code_fingerprint(paper: str) -> str:
    """A hash of the source a paper's runs depend on: core/, datasets/, the paper's own package and the
    folders its `Paper.code` names (rl/common for the RL papers). A run made by different code is never
    reused, while an edit to another paper leaves this paper's finished runs valid."""
    root = Path(__file__).resolve().parent.parent
    package = Path(importlib.import_module(paper_modules()[paper]).__file__).resolve().parent
    folders = [root / "core", root / "datasets", package, *(root / folder for folder in get_paper(paper).code)]
    digest = hashlib.sha256()
    for folder in dict.fromkeys(folders):
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def artifact_key(paper: str, payload: dict[str, Any]) -> str:
    """Key for an artifact shared between a paper's experiments (a pre-trained encoder, a trained arm):
    the payload plus the paper's code fingerprint, so an artifact made by older code is never reused; and the
    running precision when it is not fp32, so a bf16-mixed run never reuses an fp32 artifact or the reverse."""
    from paperlab.core.precision import current_precision

    extra = {} if current_precision() == "fp32" else {"precision": current_precision()}
    return config_hash({"payload": payload, "code": code_fingerprint(paper), **extra})


def run_identity(paper: str, experiment: str, scale: str, seed: int, config: dict[str, Any],
                 with_code: bool = True, precision: str = "fp32") -> str:
    """Same paper, experiment, scale, seed, config, precision (and code) -> same identity (a finished run is
    reused). fp32 is left out of the payload, so fp32 runs keep the identities they had before the setting."""
    payload = {"paper": paper, "experiment": experiment, "scale": scale, "seed": seed, "config": config}
    if precision != "fp32":
        payload["precision"] = precision
    return config_hash({**payload, "code": code_fingerprint(paper)} if with_code else payload)


def field_digests(config: dict[str, Any]) -> dict[str, str]:
    """A short hash of every config field's value: recorded in config.json so that an edit is named by field."""
    return {name: config_hash({"v": value})[:8] for name, value in config.items()}


def check_run_identity(directory: Path, meta: dict[str, Any]) -> None:
    """config.json must still describe the run it was written for: its config and identity hashes must match
    its config as saved (an edit after the run started is refused, naming the field)."""
    config = meta.get("config")
    expected = []
    payload = {"paper": meta.get("paper"), "experiment": meta.get("experiment"), "scale": meta.get("scale"),
               "seed": meta.get("seed"), "config": config}
    if meta.get("precision", "fp32") != "fp32":   # as run_identity: fp32 is left out of the payload
        payload["precision"] = meta["precision"]
    if meta.get("config_identity") is not None:
        expected.append(("config_identity", config_hash(payload)))
    if meta.get("identity") is not None and meta.get("code") is not None:
        expected.append(("identity", config_hash({**payload, "code": meta["code"]})))
    if all(meta[key] == value for key, value in expected):
        return
    recorded = meta.get("config_fields")
    changed = []
    if isinstance(recorded, dict):
        now = field_digests(config)
        changed = sorted(k for k in set(now) | set(recorded) if now.get(k) != recorded.get(k))
    what = f"field(s) {', '.join(changed)} changed" if changed else "its paper, experiment, scale, seed or config changed"
    raise ValueError(f"{directory / 'config.json'} no longer matches the run's recorded identity ({what} after the run "
                     "started); restore the file or start a new run")


def find_run(out: Path, paper: str, experiment: str, identity: str, finished: bool,
             key: str = "identity") -> Path | None:
    """The newest run whose config.json[key] is `identity` and that has (finished=True) or lacks results.json.

    Re-runs skip a finished identical run and resume an unfinished one. A run whose config.json was edited
    after it started (it no longer hashes to its identity) is refused, naming the field.
    """
    base = Path(out) / paper / experiment
    if not base.exists():
        return None
    for cfg_path in sorted(base.glob("*/config.json"), reverse=True):
        try:
            meta = read_json(cfg_path)
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get(key) == identity and (cfg_path.parent / RESULTS_FILE).exists() == finished:
            check_run_identity(cfg_path.parent, meta)
            return cfg_path.parent
    return None


def identity_lock(out: Path, paper: str, experiment: str, identity: str) -> RunLock:
    """One lock per run identity: two processes never compute the same run, or make two folders for it. The
    folder is resolved first (symlinks, `.`, `..`), so every path to one run takes the same lock."""
    return RunLock(Path(out).resolve() / paper / experiment / f".{identity}.lock")


def read_run_meta(directory: Path) -> dict[str, Any]:
    """A run's config.json, checked: every key a resume needs, with the type it must have."""
    cfg_file = Path(directory) / "config.json"
    if not cfg_file.is_file():
        raise FileNotFoundError(f"cannot resume: {cfg_file} does not exist (is {directory} a run directory?)")
    meta = read_json(cfg_file, required=("paper", "experiment", "scale", "seed", "config"))
    kinds = {"paper": str, "experiment": str, "scale": str, "seed": int, "config": dict, "device": str, "precision": str,
             "identity": str, "config_identity": str, "code": str, "config_fields": dict}
    for key, kind in kinds.items():
        value = meta.get(key)
        if (value is not None or key in ("paper", "experiment", "scale", "seed", "config")) and (
                not isinstance(value, kind) or isinstance(value, bool)):
            raise ValueError(f"{cfg_file}: {key!r} is {value!r}, expected a JSON {_json_kind(kind)}; the file was "
                             "edited or damaged: restore it or start a new run")
    return meta


def _json_kind(kind: type) -> str:
    return {str: "string", int: "integer", dict: "object"}[kind]


@contextlib.contextmanager
def user_errors(directory: Path, what: str, overrides: dict[str, Any] | None) -> Iterator[None]:
    """Out of memory, a full disk and numeric overflow inside a run become one ValueError naming the values that
    caused them (a run folder stays, resumable once the cause is fixed)."""
    values = ", ".join(f"{k}={v}" for k, v in (overrides or {}).items())
    given = f" with {values}" if values else ""
    try:
        yield
    except MemoryError:
        raise ValueError(f"{what} ran out of memory{given}; use smaller sizes (widths, batches, points), or free "
                         f"memory and resume with --resume {directory}") from None
    except OverflowError as err:
        raise ValueError(f"{what} overflowed a number ({err}){given}; use smaller values") from None
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise ValueError(f"no space left on the device writing {err.filename or directory} ({what}{given}); free "
                         f"space, then resume with --resume {directory}") from None


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
                   show_progress: bool = True, any_code: bool = False, fresh: bool = False,
                   threads: int | None = None, tracker: str | None = None, precision: str | None = None) -> Path:
    """Run one experiment for one seed and return its run directory.

    Everything (config, seed, device, --out, threads, tracker) is validated before any folder is made. With
    `resume`, the run continues in that directory with its saved config (a finished run is returned as is,
    never recomputed). With `skip_finished`, an identical finished run (same paper, experiment, scale, seed
    and config) is returned as is, and an identical unfinished one is resumed: this makes sweep jobs
    idempotent and safe to retry. With `any_code` too, a finished run with the same config made by other
    code is also reused (re-judging claims after editing a judge, without re-running). A lock per run
    identity makes concurrent callers wait for each other instead of computing the same run twice.
    With `fresh`, the experiment also recomputes artifacts it would reuse from a shared cache.
    `threads` (default $PAPERLAB_THREADS, else `default_threads()`) sets torch and BLAS threads while it runs;
    `tracker` (default $PAPERLAB_TRACKER, else "jsonl") adds a metrics tracker beside metrics.jsonl.
    `precision` (default $PAPERLAB_PRECISION, else fp32; "auto" resolved here) is recorded and part of the identity.
    """
    threads = resolve_threads(threads)
    tracker = resolve_tracker(tracker)
    if resume is not None:
        plan = resumed_run(Path(resume).resolve(), device)  # one run, one lock, however the folder is named
    else:
        plan = new_run(paper, experiment, scale, seed, device, out, overrides, precision, skip_finished, any_code)
    return execute_run(plan, threads, tracker, show_progress, fresh, overrides if resume is None else None)


@dataclass
class RunPlan:
    """A run ready to execute: its folder (new, to resume, or finished), its checked settings, and the lock on
    its identity, held until `execute_run` ends."""

    directory: Path
    exp: Experiment
    cfg: Any
    paper: str
    experiment: str
    scale: str
    seed: int
    device: str
    precision: str
    identity: str
    lock: RunLock
    resumed: bool


def resumed_run(directory: Path, device: str = "cpu") -> RunPlan:
    """The run saved in `directory` with its saved settings, each checked (config, seed, run files and identity),
    and its lock (refused while another process runs it)."""
    meta = read_run_meta(directory)
    paper, experiment, scale, seed = meta["paper"], meta["experiment"], meta["scale"], meta["seed"]
    device = resolve_device(meta.get("device", device))
    exp = get_paper(paper).experiment(experiment)
    try:
        cfg = validate_config(config_from_dict(exp.config, meta["config"]))
    except ValueError as err:
        raise ValueError(f"{directory / 'config.json'}: {err}") from None
    check_seed(seed)
    check_run_identity(directory, meta)
    precision = meta.get("precision", "fp32")  # a run keeps the precision it was started with
    identity = meta.get("identity") or run_identity(paper, experiment, scale, seed, config_to_dict(cfg),
                                                    precision=precision)
    lock = identity_lock(directory.parent.parent.parent, paper, experiment, identity).acquire(wait=False)
    return RunPlan(directory, exp, cfg, paper, experiment, scale, seed, device, precision, identity, lock,
                   resumed=True)


def new_run(paper: str, experiment: str, scale: str, seed: int, device: str, out: str | Path,
            overrides: dict[str, Any] | None, precision: str | None, skip_finished: bool, any_code: bool) -> RunPlan:
    """A run of the validated config under `out`: its identity's lock (waiting while another process runs the same
    run), then with `skip_finished` an identical run to reuse (`identical_run`), else a new folder with its
    config.json. Nothing is written before every setting is checked."""
    exp = get_paper(paper).experiment(experiment)
    cfg = exp.make_config(scale, overrides)
    check_seed(seed)
    device = resolve_device(device)
    precision = resolve_precision(precision, device)
    check_out_dir(out)
    identity = run_identity(paper, experiment, scale, seed, config_to_dict(cfg), precision=precision)
    config_identity = run_identity(paper, experiment, scale, seed, config_to_dict(cfg), with_code=False,
                                   precision=precision)
    lock = identity_lock(Path(out), paper, experiment, identity).acquire(wait=True)
    try:
        directory = identical_run(Path(out), paper, experiment, identity, config_identity, device, any_code) \
            if skip_finished else None
        resumed = directory is not None
        if directory is None:
            directory = _new_run_dir(Path(out), paper, experiment, scale, seed)
            meta = {
                "paper": paper, "experiment": experiment, "scale": scale, "seed": seed, "device": device,
                "precision": precision, "identity": identity, "config_identity": config_identity,
                "code": code_fingerprint(paper), "config": config_to_dict(cfg), "config_class": type(cfg).__name__,
                "config_fields": field_digests(config_to_dict(cfg)),
                "versions": library_versions(), "git_commit": git_commit(),
                "started": datetime.now(timezone.utc).isoformat(), "command": sys.argv,
                "paths": exp.paths(cfg) if exp.paths else {},
            }
            write_json(directory / "config.json", meta)
    except BaseException:
        lock.release()
        raise
    return RunPlan(directory, exp, cfg, paper, experiment, scale, seed, device, precision, identity, lock, resumed)


def identical_run(out: Path, paper: str, experiment: str, identity: str, config_identity: str, device: str,
                  any_code: bool) -> Path | None:
    """An identical run under `out` to reuse: a finished one (with `any_code`, one with the same config made by
    other code counts), else an unfinished one on the same device to resume; None if there is neither."""
    if any_code:
        finished = find_run(out, paper, experiment, config_identity, finished=True, key="config_identity")
        if finished is not None:
            return finished
    finished = find_run(out, paper, experiment, identity, finished=True)
    if finished is not None:
        return finished
    unfinished = find_run(out, paper, experiment, identity, finished=False)
    if unfinished is not None and read_json(unfinished / "config.json").get("device", device) != device:
        return None  # an unfinished run on another device is left alone, not adopted
    return unfinished


def finished_run_to_rejudge(paper: str, experiment: str, scale: str, seed: int, out: str | Path,
                            overrides: dict[str, Any] | None = None, precision: str | None = None,
                            device: str = "cpu") -> Path:
    """For re-judging: the newest finished run under `out` with this config, made by any code. Never trains and
    writes nothing. Without a precision (argument or $PAPERLAB_PRECISION) a run of either precision counts: the
    run records the one it used. A missing run raises ValueError naming it and how the finished runs of that
    seed differ, so a mistyped --set or --precision reads as such instead of starting hours of training."""
    exp = get_paper(paper).experiment(experiment)
    cfg = exp.make_config(scale, overrides)
    check_seed(seed)
    check_out_dir(out)
    chosen = precision or os.environ.get(PRECISION_ENV, "").strip()
    candidates = [resolve_precision(chosen, resolve_device(device))] if chosen else \
        [p for p in PRECISIONS if p != "auto"]
    found = [find_run(Path(out), paper, experiment, key="config_identity", finished=True,
                      identity=run_identity(paper, experiment, scale, seed, config_to_dict(cfg), with_code=False,
                                            precision=p)) for p in candidates]
    found = [d for d in found if d is not None]
    if found:
        return max(found, key=lambda d: d.name)   # folder names end in their start time
    others, fields = [], field_digests(config_to_dict(cfg))
    for cfg_path in sorted((Path(out) / paper / experiment).glob("*/config.json")):
        meta = read_json(cfg_path)
        if meta.get("seed") == seed and meta.get("scale") == scale and (cfg_path.parent / RESULTS_FILE).exists():
            differ = sorted(k for k, v in (meta.get("config_fields") or {}).items() if fields.get(k) != v)
            others.append(f"{cfg_path.parent.name} (precision {meta.get('precision', 'fp32')}"
                          + (f"; other {', '.join(differ)}" if differ else "") + ")")
    seen = f"; finished runs of that seed: {'; '.join(others)}" if others else ""
    raise ValueError(f"--rejudge: no finished run of {paper} {experiment} seed {seed} at scale {scale} with this "
                     f"config{' and precision ' + chosen if chosen else ''} under {Path(out) / paper / experiment}"
                     f"{seen}; run without --rejudge to train it")


def execute_run(plan: RunPlan, threads: int, tracker: str, show_progress: bool = True, fresh: bool = False,
                overrides: dict[str, Any] | None = None) -> Path:
    """Call the experiment in the plan's folder and write results.json; a finished run is returned as is (never
    recomputed, never overwritten). The identity's lock is released however it ends."""
    directory = plan.directory
    what = f"{plan.paper} {plan.experiment}"
    try:
        if (directory / RESULTS_FILE).exists():
            return directory
        seed_everything(plan.seed)
        with user_errors(directory, what, overrides):
            run = Run(directory, plan.paper, plan.experiment, plan.scale, plan.seed, plan.device, plan.cfg,
                      resumed=plan.resumed, show_progress=show_progress, fresh=fresh, tracker=tracker,
                      identity=plan.identity)
            try:
                with limit_threads(threads), use_precision(plan.precision):
                    results = plan.exp.run(run, plan.cfg)
            finally:
                run.close()
        if not isinstance(results, dict):
            raise TypeError(f"experiment {plan.paper}/{plan.experiment} must return a dict of results, got "
                            f"{type(results).__name__}")
        results = {**results, "_meta": {"seconds": run.elapsed(), "seed": plan.seed, "scale": plan.scale,
                                        "resumed": plan.resumed, "finished": datetime.now(timezone.utc).isoformat()}}
        with user_errors(directory, what, None):
            write_json(directory / RESULTS_FILE, results)
    finally:
        plan.lock.release()
    return directory
