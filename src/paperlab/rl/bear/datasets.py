"""Offline datasets in the D4RL layout: writer, loader (D4RL/Minari-style HDF5 or NPZ), normalized scores,
and the local builder behind ``paperlab run bear make-datasets``.

Layout (D4RL): ``observations (N, obs)``, ``actions (N, act)``, ``rewards (N,)``, ``next_observations (N, obs)``,
``terminals (N,)``, ``timeouts (N,)``. Metadata is a JSON string in the HDF5 attribute / NPZ entry ``metadata``.
Minari-style files (``episode_*/observations`` with one more observation than actions) are flattened.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperlab.core.runs import write_atomic

REQUIRED_KEYS = ("observations", "actions", "rewards", "terminals")
# "random" is D4RL's (rollouts of a randomly initialised policy); "random-uniform" (uniform actions) is kept as a
# stress case: on it the behaviour VAE collapses to a ~ 0 and MMD holds BEAR's actor there (issue 30).
D4RL_KINDS = ("random", "medium", "medium-replay", "expert")
DATASET_KINDS = (*D4RL_KINDS, "random-uniform")

# D4RL's reference returns (d4rl/infos.py REF_MIN_SCORE / REF_MAX_SCORE), keyed by environment family.
D4RL_REFERENCE_RETURNS: dict[str, tuple[float, float]] = {
    "hopper": (-20.272305, 3234.3),
    "halfcheetah": (-280.178953, 12135.0),
    "walker2d": (1.629008, 4592.3),
    "ant": (-325.6, 3879.7),
}


def env_family(env_id: str) -> str:
    return env_id.split("-")[0].lower()


def normalized_score(env_id: str, episode_return: float, reference: tuple[float, float] | None = None) -> float:
    """D4RL normalized score ``100 * (R - R_random) / (R_expert - R_random)``.

    Uses D4RL's reference returns for Hopper/HalfCheetah/Walker2d/Ant; other envs need ``reference``
    (datasets built here store the behaviour run's random and expert returns in their metadata).
    """
    family = env_family(env_id)
    if reference is None:
        if family not in D4RL_REFERENCE_RETURNS:
            raise ValueError(f"no D4RL reference returns for {env_id!r} (known: {', '.join(D4RL_REFERENCE_RETURNS)}); "
                             "pass reference=(random_return, expert_return)")
        reference = D4RL_REFERENCE_RETURNS[family]
    low, high = reference
    if high == low:
        raise ValueError(f"reference returns must differ, got random={low}, expert={high}")
    return 100.0 * (float(episode_return) - low) / (high - low)


@dataclass
class OfflineDataset:
    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_observations: np.ndarray
    terminals: np.ndarray
    timeouts: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.observations)

    @property
    def episode_ends(self) -> np.ndarray:
        """True at the last transition of every episode (terminal, timeout, or the file's last row)."""
        ends = np.logical_or(self.terminals > 0, self.timeouts > 0)
        if len(ends):
            ends[-1] = True
        return ends

    def episode_returns(self) -> np.ndarray:
        ends = np.flatnonzero(self.episode_ends)
        sums = np.add.reduceat(self.rewards.astype(np.float64), np.r_[0, ends[:-1] + 1]) if len(ends) else []
        return np.asarray(sums, dtype=np.float64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"observations": self.observations, "actions": self.actions, "rewards": self.rewards,
                "next_observations": self.next_observations, "terminals": self.terminals, "timeouts": self.timeouts}

    def reference_returns(self) -> tuple[float, float] | None:
        ref = self.metadata.get("reference_returns")
        return (float(ref[0]), float(ref[1])) if ref is not None else None

    def normalized_score(self, episode_return: float) -> float:
        env_id = self.metadata.get("env")
        if env_id is None:
            raise ValueError("dataset metadata has no 'env'; call normalized_score(env_id, ret) directly")
        ref = None if env_family(env_id) in D4RL_REFERENCE_RETURNS else self.reference_returns()
        return normalized_score(env_id, episode_return, ref)


def save_dataset(path: str | Path, data: OfflineDataset) -> Path:
    """Write ``data`` as D4RL-layout HDF5 (``.hdf5``/``.h5``) or NPZ (``.npz``); atomic (tmp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    validate(data.arrays(), str(path))
    meta = json.dumps(data.metadata)
    if path.suffix in (".hdf5", ".h5"):
        import h5py

        def write(fh):
            with h5py.File(fh, "w") as f:
                for key, value in data.arrays().items():
                    f.create_dataset(key, data=value, compression="gzip", compression_opts=1)
                f.attrs["metadata"] = meta
    elif path.suffix == ".npz":
        def write(fh):
            np.savez_compressed(fh, metadata=np.asarray(meta), **data.arrays())
    else:
        raise ValueError(f"dataset path must end in .hdf5, .h5 or .npz, got {path.name!r}")
    return write_atomic(path, write)


def validate(arrays: dict[str, np.ndarray], source: str) -> None:
    missing = [k for k in REQUIRED_KEYS if k not in arrays]
    if missing:
        raise ValueError(f"{source}: missing required key(s) {', '.join(missing)}; found {', '.join(sorted(arrays))}")
    n = len(arrays["observations"])
    if n == 0:
        raise ValueError(f"{source}: dataset is empty")
    for key, value in arrays.items():
        if len(value) != n:
            raise ValueError(f"{source}: '{key}' has {len(value)} rows but 'observations' has {n}")
        if np.issubdtype(np.asarray(value).dtype, np.floating) and not np.all(np.isfinite(value)):
            raise ValueError(f"{source}: '{key}' contains NaN or inf")
    if np.asarray(arrays["actions"]).ndim != 2 or np.asarray(arrays["observations"]).ndim != 2:
        raise ValueError(f"{source}: 'observations' and 'actions' must be 2-D (N, dim)")


def _from_arrays(arrays: dict[str, np.ndarray], metadata: dict, source: str) -> OfflineDataset:
    validate(arrays, source)
    obs = np.asarray(arrays["observations"], dtype=np.float32)
    terminals = np.asarray(arrays["terminals"]).astype(np.float32).reshape(-1)
    timeouts = np.asarray(arrays.get("timeouts", np.zeros(len(obs)))).astype(np.float32).reshape(-1)
    if "next_observations" in arrays:
        next_obs = np.asarray(arrays["next_observations"], dtype=np.float32)
    else:  # old D4RL files: next observation is the following row within an episode
        next_obs = np.concatenate([obs[1:], obs[-1:]], 0)
        ends = np.logical_or(terminals > 0, timeouts > 0)
        keep = ~ends
        keep[-1] = False
        obs, next_obs = obs[keep], next_obs[keep]
        arrays = {k: np.asarray(v)[keep] for k, v in arrays.items()}
        terminals, timeouts = terminals[keep], timeouts[keep]
    return OfflineDataset(obs, np.asarray(arrays["actions"], dtype=np.float32),
                          np.asarray(arrays["rewards"], dtype=np.float32).reshape(-1), next_obs, terminals, timeouts,
                          metadata)


def _flatten_minari(group) -> dict[str, np.ndarray]:
    parts: dict[str, list] = {k: [] for k in ("observations", "actions", "rewards", "next_observations",
                                              "terminals", "timeouts")}
    for name in sorted(group.keys(), key=lambda s: int(s.split("_")[-1]) if s.split("_")[-1].isdigit() else s):
        ep = group[name]
        obs = np.asarray(ep["observations"])
        n = len(ep["actions"])
        if len(obs) != n + 1:
            raise ValueError(f"Minari episode {name}: expected {n + 1} observations for {n} actions, got {len(obs)}")
        parts["observations"].append(obs[:-1])
        parts["next_observations"].append(obs[1:])
        parts["actions"].append(np.asarray(ep["actions"]))
        parts["rewards"].append(np.asarray(ep["rewards"]))
        parts["terminals"].append(np.asarray(ep["terminations"]))
        parts["timeouts"].append(np.asarray(ep["truncations"]))
    return {k: np.concatenate(v) for k, v in parts.items()}


def load_dataset(path: str | Path) -> OfflineDataset:
    """Load a D4RL HDF5, a Minari HDF5 (``episode_*`` groups) or an NPZ with the D4RL keys from a local path."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"dataset file not found: {path}")
    if path.suffix in (".hdf5", ".h5"):
        import h5py
        try:
            with h5py.File(path, "r") as f:
                metadata = json.loads(f.attrs["metadata"]) if "metadata" in f.attrs else {}
                if any(k.startswith("episode_") for k in f.keys()):
                    arrays = _flatten_minari(f)
                else:
                    arrays = {k: np.asarray(f[k]) for k in f.keys() if isinstance(f[k], h5py.Dataset)}
        except (OSError, ValueError, KeyError) as exc:  # unreadable file, corrupt metadata JSON
            raise ValueError(f"{path}: not a readable HDF5 file ({exc})") from exc
    elif path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files if k != "metadata"}
                metadata = json.loads(str(z["metadata"])) if "metadata" in z.files else {}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # truncated or empty files too
            raise ValueError(f"{path}: not a readable NPZ file ({type(exc).__name__}: {exc})") from None
    else:
        raise ValueError(f"dataset path must end in .hdf5, .h5 or .npz, got {path.name!r}")
    return _from_arrays(arrays, metadata, str(path))
