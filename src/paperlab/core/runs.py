"""Run directories: config, metrics as they come, partial results, checkpoints, plots, resume.

Layout: runs/<paper>/<experiment>/<scale>-seed<N>-<timestamp>/
    config.json     resolved config, scale, seed, device, library versions, git commit, run identity
    metrics.jsonl   one JSON object per `run.log(...)`, appended and flushed at once
    partial.json    finished pieces (`run.piece`), restored on --resume
    checkpoints/    `run.save_checkpoint(...)`
    <name>          `run.save_file(name, ...)`: outputs a run keeps beside its results (fitted fields, models)
    results.json    written when the experiment returns: its presence marks the run finished
    plots/*.png

A leaf module: the handle (`Run`), atomic JSON files and locks. Making and finding runs is
`paperlab.core.runner`.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, TypeVar

from paperlab.core.seeding import from_safe, rng_state, set_rng_state, to_safe

RESULTS_FILE = "results.json"
RESUME_FILE = "resume.json"      # metrics bytes and compute seconds at the last durable save
CHECKPOINT_FORMAT = "paperlab_checkpoint"
# partial.json and every checkpoint carry the metrics position they were saved at (one atomic record of
# progress): a kill between saving one and updating resume.json can no longer drop metrics
PROGRESS_KEY = "_progress"
# strict JSON: a non-finite number is written as null and its place listed under this key of the top-level
# object (read_json puts the number back), so every file is standard JSON and loses nothing
NONFINITE_KEY = "_nonfinite"
T = TypeVar("T")


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


def write_atomic(path: Path, write: Callable[[BinaryIO], Any]) -> Path:
    """`write(fh)` into a temporary file beside `path`, then rename it over `path`: a reader never sees a
    half-written file, and a crash leaves the old file (or none)."""
    path = Path(path)
    tmp = temporary_path(path)
    try:
        with open(tmp, "w+b") as fh:
            write(fh)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _plain(obj: Any) -> Any:
    """`obj` with NumPy values, paths and tuples as JSON types (so non-finite numbers can be found)."""
    if isinstance(obj, dict):
        return {k if isinstance(k, str) else _json_key(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    return _plain(_json_default(obj))


def _json_key(key: Any) -> str:
    """The string json.dumps makes of a non-string key (1 -> "1", True -> "true")."""
    if isinstance(key, Path):
        return str(key)
    return next(iter(json.loads(json.dumps({_plain(key) if not isinstance(key, (int, float, bool)) else key: 0}))))


def _mark_nonfinite(obj: Any, path: list, found: list) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        found.append([list(path), "nan" if obj != obj else ("inf" if obj > 0 else "-inf")])
        return None
    if isinstance(obj, dict):
        return {k: _mark_nonfinite(v, [*path, k], found) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mark_nonfinite(v, [*path, i], found) for i, v in enumerate(obj)]
    return obj


def strict_json(data: Any) -> Any:
    """`data` as standard JSON values: a NaN or infinity becomes null, and a top-level object lists where each
    was under `NONFINITE_KEY` (`restore_nonfinite` puts them back). Non-finite numbers inside a top-level list
    are refused: there is no place to flag them."""
    found: list = []
    plain = _mark_nonfinite(_plain(data), [], found)
    if found:
        if not isinstance(plain, dict):
            raise ValueError(f"cannot write non-finite numbers ({found[0][1]} at {found[0][0]}) in a JSON list")
        plain[NONFINITE_KEY] = found
    return plain


def restore_nonfinite(data: Any) -> Any:
    """Undo `strict_json`'s flagging: the listed nulls become NaN / inf again (in place; returns `data`)."""
    if not isinstance(data, dict) or NONFINITE_KEY not in data:
        return data
    marks = data.pop(NONFINITE_KEY)
    for mark in marks if isinstance(marks, list) else [marks]:
        try:
            path, value = mark
            *parents, last = path
            node = data
            for key in parents:
                node = node[key]
            node[last] = float(value)
        except (KeyError, IndexError, TypeError, ValueError):
            raise ValueError(f"its {NONFINITE_KEY} entry {mark!r} names no value") from None
    return data


def json_bytes(data: Any) -> bytes:
    """The JSON every paperlab file is written as: indented, strict (non-finite numbers as null, flagged;
    never the non-standard tokens NaN/Infinity), NumPy values and paths converted."""
    return json.dumps(strict_json(data), indent=2, allow_nan=False).encode()


def json_line(data: Any) -> str:
    """One strict JSON line (metrics.jsonl records)."""
    return json.dumps(strict_json(data), allow_nan=False)


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a crash never leaves a half-written JSON file."""
    text = json_bytes(data)
    write_atomic(path, lambda fh: fh.write(text))


def read_json(path: Path, required: Iterable[str] = ()) -> Any:
    """Parse a JSON file; a corrupt file or a missing key is one ValueError naming the path."""
    path = Path(path)
    try:
        data = restore_nonfinite(json.loads(path.read_text()))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); delete or restore it") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text JSON file; delete or restore it") from None
    except ValueError as err:
        raise ValueError(f"{path}: {err}; delete or restore it") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not a JSON file; delete or restore it") from None
    missing = [key for key in required if not isinstance(data, dict) or key not in data]
    if missing:
        raise ValueError(f"{path} lacks the key(s) {', '.join(missing)}; it was not written by this version of paperlab")
    return data


class Run:
    """The handle an experiment writes through. Created by `run_experiment`."""

    def __init__(self, directory: Path, paper: str, experiment: str, scale: str, seed: int, device: str,
                 config: Any, resumed: bool = False, show_progress: bool = True, fresh: bool = False,
                 tracker: str = "jsonl", identity: str | None = None):
        self.dir = Path(directory)
        self.paper, self.experiment, self.scale = paper, experiment, scale
        self.seed, self.device, self.config = seed, device, config
        self.resumed = resumed
        self.show_progress = show_progress
        self.fresh = fresh  # --fresh: recompute artifacts shared between runs (caches) instead of reusing them
        self.identity = identity  # the run's config hash: every checkpoint records it (a foreign one is refused)
        plots = self.dir / "plots"
        if plots.exists() and not plots.is_dir():
            raise ValueError(f"{plots} is a file, not the run's plots folder; delete it to continue the run")
        plots.mkdir(parents=True, exist_ok=True)
        self.partial: dict[str, Any] = read_partial(self.dir / "partial.json")
        self.started = time.time()
        self.seconds_before = 0.0  # compute time of earlier attempts up to the point this one continues from
        if resumed:
            self._rewind()
        from paperlab.core.tracking import open_tracker

        self._tracker = open_tracker(tracker, self.dir, first_step=len(self.metrics()) if tracker != "jsonl" else 0)

    # -- the point a resume continues from ---------------------------------------------------------
    def _rewind(self) -> None:
        """Drop what an interrupted attempt logged after its last durable save (a checkpoint or a
        partial result): the resumed attempt logs it again, so metrics.jsonl keeps every step once.

        Each durable file carries the metrics position it was saved at, in the same atomic write, so the
        newest of them (the largest position: metrics only grow between saves) is exactly where the run
        continues from; resume.json is the same mark written once more (and all that older runs have)."""
        marks = []
        marker = self.dir / RESUME_FILE
        if marker.exists():
            marks.append((_check_progress(read_json(marker, required=("metrics_bytes", "seconds")), marker), marker))
        partial = self.dir / "partial.json"
        if partial.exists() and isinstance(read_json(partial).get(PROGRESS_KEY), dict):
            marks.append((_check_progress(read_json(partial)[PROGRESS_KEY], partial), partial))
        for path in sorted((self.dir / "checkpoints").glob("*.pt")) if (self.dir / "checkpoints").is_dir() else []:
            progress = self._read_checkpoint(path).get("progress")
            if progress is not None:
                marks.append((_check_progress(progress, path), path))
        keep, self.seconds_before = max((m for m, _ in marks), default=(0, 0.0))
        metrics = self.dir / "metrics.jsonl"
        size = metrics.stat().st_size if metrics.exists() else 0
        if size < keep:
            source = max(marks)[1]
            raise ValueError(f"{metrics} has {size} bytes but {source} was saved after {keep}: metrics were lost "
                             "or the file was replaced; restore it or start a new run")
        if size > keep:
            with open(metrics, "r+b") as fh:
                fh.truncate(keep)

    def _progress(self) -> dict[str, Any]:
        metrics = self.dir / "metrics.jsonl"
        return {"metrics_bytes": metrics.stat().st_size if metrics.exists() else 0, "seconds": self.elapsed()}

    def _mark_durable(self, progress: dict[str, Any]) -> None:
        write_json(self.dir / RESUME_FILE, progress)

    def elapsed(self) -> float:
        """Compute seconds of this run across attempts (work lost to an interruption is not counted)."""
        return self.seconds_before + time.time() - self.started

    # -- metrics and partial results --------------------------------------------------------------
    def log(self, **metrics: Any) -> None:
        """Append one record to metrics.jsonl immediately (never lost if the run dies later); a tracker
        chosen with --tracker gets it too."""
        record = {"time": time.time(), **metrics}
        with open(self.dir / "metrics.jsonl", "a") as fh:
            fh.write(json_line(record) + "\n")
        self._tracker.log(**metrics)

    def close(self) -> None:
        """Flush and close the tracker (metrics.jsonl needs nothing: every record is written at once)."""
        self._tracker.close()

    def piece(self, key: str, compute: Callable[[], T]) -> T:
        """A finished piece of the result (an arm, a dataset size...): the value an earlier attempt saved
        under `key` (--resume), else `compute()`, saved at once. Returned as saved (JSON: tuples become
        lists, dict keys strings), so a fresh and a resumed run continue from the same value."""
        if key not in self.partial:
            self.save_partial(key, compute())
        return self.partial[key]

    def save_partial(self, key: str, value: Any) -> None:
        """Record a finished piece under `key`, replacing one saved before (`piece` computes only missing ones)."""
        if key == PROGRESS_KEY:
            raise ValueError(f"{PROGRESS_KEY!r} is reserved for the run's progress; name the piece otherwise")
        # saved as it reads back (strict JSON, non-finite numbers restored), so fresh and resumed runs agree
        self.partial[key] = restore_nonfinite(json.loads(json_line({"v": value})))["v"]
        progress = self._progress()
        write_json(self.dir / "partial.json", {**self.partial, PROGRESS_KEY: progress})
        self._mark_durable(progress)

    # -- files ------------------------------------------------------------------------------------
    def file(self, name: str) -> Path:
        """Where the run keeps the output file `name` (see `save_file`)."""
        return self.dir / name

    def save_file(self, name: str, write: Callable[[BinaryIO], Any]) -> Path:
        """Write an output file of this run (a fitted field, a model's weights) atomically: `write(fh)` gets an
        open binary file, e.g. ``run.save_file("field.npy", lambda fh: np.save(fh, field))``."""
        return write_atomic(self.file(name), write)

    def shared_dir(self, name: str) -> Path:
        """A folder this paper's runs under the same --out share (``<out>/<paper>/<name>``): caches of
        artifacts that several experiments use."""
        return self.dir.parents[1] / name

    def metrics(self) -> list[dict]:
        path = self.dir / "metrics.jsonl"
        if not path.exists():
            return []
        return [restore_nonfinite(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]

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
        progress = self._progress()
        payload = {CHECKPOINT_FORMAT: 2, "state": to_safe(state), "rng": to_safe(rng_state(generators)),
                   "run": self.identity, "progress": progress}
        write_atomic(path, lambda fh: torch.save(payload, fh))
        self._mark_durable(progress)
        return path

    def _read_checkpoint(self, path: Path) -> dict[str, Any]:
        """A checkpoint's payload, checked: written by paperlab, for this run (its config hash)."""
        import pickle

        import torch

        try:
            payload = torch.load(path, map_location=self.device, weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f"checkpoint {path} cannot be loaded ({first}); delete it to restart that part") from None
        if not isinstance(payload, dict) or CHECKPOINT_FORMAT not in payload:
            raise ValueError(f"checkpoint {path} was not written by this version of paperlab; delete it to restart "
                             "that part")
        owner = payload.get("run")
        if owner is not None and self.identity is not None and owner != self.identity:
            raise ValueError(f"checkpoint {path} belongs to another run (config hash {owner}, this run's is "
                             f"{self.identity}); delete it to restart that part")
        return payload

    def load_checkpoint(self, name: str = "checkpoint", generators: dict[str, Any] | None = None
                        ) -> dict[str, Any] | None:
        """The state saved under `name` (None if there is none); restores the RNG states saved with it.
        Loaded with `weights_only=True`: a checkpoint can hold data only, never code; one saved by another run
        (another config) is refused."""
        path = self.dir / "checkpoints" / f"{name}.pt"
        if not path.exists():
            return None
        payload = self._read_checkpoint(path)
        try:
            set_rng_state(from_safe(payload["rng"]), generators)
            return from_safe(payload["state"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:
            raise ValueError(f"checkpoint {path} is damaged ({type(err).__name__}: {err}); delete it to restart "
                             "that part") from None

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
        # bars stay once finished: a long run's log shows each part's time (the CLI prints the expected total)
        return tqdm(iterable, total=total, desc=label, disable=disable, leave=True, dynamic_ncols=True, **kw)


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


def load_results(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / RESULTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} has no {RESULTS_FILE}: the run did not finish (resume it with --resume)")
    data = read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds a JSON {type(data).__name__}, not the object of results a run writes; "
                         "restore it or delete the run")
    return data


def read_partial(path: Path) -> dict[str, Any]:
    """The finished pieces saved in a partial.json (without its progress record); {} when there is none."""
    path = Path(path)
    if not path.exists():
        return {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds a JSON {type(data).__name__}, not the object of finished pieces a run "
                         "writes; restore it or delete it to recompute them")
    return {k: v for k, v in data.items() if k != PROGRESS_KEY}


def _check_progress(progress: Any, path: Path) -> tuple[int, float]:
    """(metrics bytes, seconds) of a progress record, or one ValueError naming the file."""
    ok = isinstance(progress, dict)
    position, seconds = (progress.get("metrics_bytes"), progress.get("seconds")) if ok else (None, None)
    if not (isinstance(position, int) and not isinstance(position, bool) and position >= 0
            and isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and math.isfinite(seconds)
            and seconds >= 0):
        raise ValueError(f"{path}: its progress record {progress!r} is not a metrics position (an integer >= 0) "
                         "and compute seconds (a finite number >= 0); restore it or delete the run")
    return position, float(seconds)
