"""Sweeps: a grid of configs x seeds, run by an executor, aggregated across seeds.

A job is a pure function (paper, experiment, scale, overrides, seed) -> run directory. It skips a
finished identical run and resumes an unfinished one, so any executor may retry it safely and the
results do not depend on the executor. Ray is imported only when `executor="ray"` is chosen.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from tqdm.auto import tqdm

from paperlab.core.claims import summarize
from paperlab.core.config import config_hash
from paperlab.core.seeding import check_seed, resolve_device
from paperlab.core.runner import THREADS_ENV, run_experiment
from paperlab.core.runs import check_out_dir, load_results, write_json

EXECUTORS = ("serial", "processes", "ray")
MAX_SEEDS = 10_000   # seeds one sweep may select: each is a run folder; more is a typo (0-99999999999), not a study


class JobError(RuntimeError):
    """A job failed inside an executor: names the job and the error (printed as one line by the CLI)."""


@dataclass(frozen=True)
class Job:
    paper: str
    experiment: str
    scale: str
    seed: int
    overrides: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    device: str = "cpu"
    out: str = "runs"
    reuse: bool = True  # skip an identical finished run, resume an identical unfinished one
    any_code: bool = False  # also reuse a finished run with the same config made by other code


def run_job(job: Job) -> str:
    """Execute one job (idempotent): returns its run directory as a string."""
    os.environ.setdefault("PAPERLAB_NO_PROGRESS", "1")
    path = run_experiment(job.paper, job.experiment, scale=job.scale, seed=job.seed, device=job.device,
                          out=job.out, overrides=dict(job.overrides), skip_finished=job.reuse, show_progress=False,
                          any_code=job.any_code, fresh=not job.reuse)
    return str(path)


def parse_seeds(text: str) -> list[int]:
    """'0-4' -> [0,1,2,3,4]; '0,2,5' -> [0,2,5]; '3' -> [3]."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = part.split("-", 1)
                lo, hi = int(lo), int(hi)
                if hi - lo + 1 > MAX_SEEDS - len(seeds):   # checked before the range is built, not after
                    raise OverflowError
                seeds.extend(range(lo, hi + 1))
            elif part:
                seeds.append(int(part))
    except ValueError:
        raise ValueError(f"--seeds expects e.g. '0-4' or '0,1,2', got {text!r}") from None
    except OverflowError:
        raise ValueError(f"--seeds {text!r} selects more than {MAX_SEEDS} seeds (one run each); give fewer") from None
    if len(seeds) > MAX_SEEDS:
        raise ValueError(f"--seeds {text!r} selects more than {MAX_SEEDS} seeds (one run each); give fewer")
    if not seeds:
        raise ValueError(f"--seeds selects no seeds: {text!r}")
    repeated = sorted({x for x in seeds if seeds.count(x) > 1})
    if repeated:
        raise ValueError(f"--seeds {text!r} repeats seed(s) {', '.join(map(str, repeated))}: each seed counts once")
    negative = [x for x in seeds if x < 0]
    if negative:
        raise ValueError(f"--seeds {text!r}: seeds are integers >= 0")
    return seeds


def expand_grid(grid: Iterable[str]) -> list[dict[str, str]]:
    """['lr=1e-3,1e-4', 'steps=10'] -> every combination as a dict of overrides."""
    axes: list[tuple[str, list[str]]] = []
    for item in grid:
        if "=" not in item:
            raise ValueError(f"--grid expects key=v1,v2,..., got {item!r}")
        key, values = item.split("=", 1)
        points = [v for v in values.split(",") if v.strip() != ""]
        if not key.strip() or not points:
            raise ValueError(f"--grid {item!r} gives no values; expected key=v1,v2,...")
        if any(k == key.strip() for k, _ in axes):
            raise ValueError(f"--grid names {key.strip()!r} twice; give all its values in one --grid")
        axes.append((key.strip(), points))
    if not axes:
        return [{}]
    keys = [k for k, _ in axes]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(v for _, v in axes))]


def execute(jobs: list[Job], executor: str = "serial", workers: int = 2, address: str | None = None) -> list[str]:
    """Run jobs with the chosen executor; returns run directories in job order."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if executor == "serial" or len(jobs) <= 1 and executor != "ray":
        quiet = len(jobs) <= 1 or os.environ.get("PAPERLAB_NO_PROGRESS") == "1"
        return [run_job(job) for job in tqdm(jobs, desc="jobs", disable=quiet)]
    if executor == "processes":
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(run_parallel_job, job) for job in jobs]
            dirs = []
            for job, future in zip(jobs, futures):
                try:
                    dirs.append(future.result())
                except Exception as err:
                    for other in futures:
                        other.cancel()
                    raise JobError(f"job {_describe(job)} failed under the processes executor: "
                                   f"{type(err).__name__}: {err}") from err
            return dirs
    return _execute_ray(jobs, address)


def run_parallel_job(job: Job) -> str:
    """`run_job` in a worker beside others (processes, ray): one thread each unless $PAPERLAB_THREADS says
    otherwise (a run alone defaults to every core: runner.default_threads)."""
    os.environ.setdefault(THREADS_ENV, "1")
    return run_job(job)


def _describe(job: Job) -> str:
    sets = " ".join(f"--set {k}={v}" for k, v in job.overrides)
    return f"{job.paper} {job.experiment} --scale {job.scale} --seed {job.seed}" + (f" {sets}" if sets else "")


def check_ray_address(address: str, timeout: float = 3.0) -> None:
    """A HOST:PORT address must accept a connection within seconds (Ray itself waits far longer to fail)."""
    import socket

    if address == "auto" or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise JobError(f"--address {address!r}: expected HOST:PORT of a Ray head node, 'auto' or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise JobError(f"--address {address}: no Ray head node answers there ({err})") from None


def _execute_ray(jobs: list[Job], address: str | None) -> list[str]:
    if address:
        check_ray_address(address)
    try:
        import ray
    except ImportError:
        raise RuntimeError("executor 'ray' needs the ray extra: pip install 'paperlab[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(include_dashboard=False, log_to_driver=False, num_cpus=None)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise JobError(f"cannot start or reach Ray{f' at --address {address}' if address else ''}: "
                           f"{str(err).splitlines()[0] if str(err) else type(err).__name__}") from None
    try:
        remote = ray.remote(num_cpus=1, max_retries=2)(run_parallel_job)
        try:
            return ray.get([remote.remote(job) for job in jobs])
        except ray.exceptions.RayTaskError as err:
            raise JobError(f"a job failed under the ray executor: {str(err).strip().splitlines()[-1]}") from err
    finally:
        if started_here:
            ray.shutdown()


def _scalars(results: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Flatten nested numeric results into 'a.b.c' -> float (lists and _meta are skipped)."""
    flat: dict[str, float] = {}
    for key, value in results.items():
        if key == "_meta":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            flat[name] = float(value)
        elif isinstance(value, (int, float)) and np.isfinite(value):
            flat[name] = float(value)
        elif isinstance(value, dict):
            flat.update(_scalars(value, prefix=name + "."))
    return flat


def aggregate(run_dirs: list[str | Path]) -> dict[str, dict[str, float]]:
    """Mean and 95% interval across runs of every scalar in their results."""
    per_key: dict[str, list[float]] = {}
    for directory in run_dirs:
        for key, value in _scalars(load_results(Path(directory))).items():
            per_key.setdefault(key, []).append(value)
    return {key: summarize(values) for key, values in sorted(per_key.items())}


def sweep(paper: str, experiment: str, grid: list[str], seeds: list[int], scale: str = "quick",
          executor: str = "serial", workers: int = 2, address: str | None = None, device: str = "cpu",
          out: str | Path = "runs", fixed: dict[str, str] | None = None, fresh: bool = False) -> dict[str, Any]:
    """Run the grid x seeds and write runs/<paper>/<experiment>/sweep-<scale>-<grid hash>.json with aggregates."""
    from paperlab.core.registry import get_paper

    exp = get_paper(paper).experiment(experiment)
    points = expand_grid(grid)
    both = sorted(set(points[0]) & set(fixed or {}))
    if both:
        raise ValueError(f"{', '.join(both)} is given by both --grid and --set; give each key once (--grid for the "
                         "values to sweep, --set for a fixed value)")
    check_out_dir(out)
    for seed in seeds:
        check_seed(seed)
    resolve_device(device)
    for point in points:  # validate every override before launching anything
        exp.make_config(scale, {**(fixed or {}), **point})
    jobs = [Job(paper, experiment, scale, seed, tuple(sorted({**(fixed or {}), **point}.items())), device, str(out),
                reuse=not fresh) for point in points for seed in seeds]
    dirs = execute(jobs, executor=executor, workers=workers, address=address)
    summary = {"paper": paper, "experiment": experiment, "scale": scale, "executor": executor, "grid": list(grid),
               "fixed": fixed or {}, "points": []}
    for i, point in enumerate(points):
        point_dirs = dirs[i * len(seeds):(i + 1) * len(seeds)]
        summary["points"].append({"overrides": point, "seeds": seeds, "runs": point_dirs,
                                  "aggregate": aggregate(point_dirs)})
    # one summary per grid: a sweep of another grid never overwrites this one
    grid_id = config_hash({"grid": points, "fixed": fixed or {}, "seeds": seeds})[:8]
    path = Path(out) / paper / experiment / f"sweep-{scale}-{grid_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, summary)
    summary["path"] = str(path)
    return summary
