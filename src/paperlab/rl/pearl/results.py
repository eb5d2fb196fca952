"""What PEARL's judges and plots read out of finished runs, in one place (no import of claims, experiments or
plots, so those three can import it without a cycle).

A run's arm holds a `curve`: one point per evaluation with `env_steps`, `final_return` (test return of the
last trajectory after exploration), `return_by_traj` and `success_by_traj` (one value per trajectory of the
meta-test episode), each already the mean over the evaluation seeds of that point (`PEARLTrainer.evaluate_point`).
A seed's *judged score* is the mean of its last N curve points (N is part of each claim's rule, below).
"""

from __future__ import annotations

import numpy as np

BASELINES = ("rl2", "maml-trpo", "promp")   # the on-policy meta-RL baselines of the sample-efficiency claim

# Rules fixed before the runs that judge them (issue 31); docs/pearl.md states them in words.
# sample efficiency: a baseline's asymptotic return = the mean of its last ASYMPTOTE_LAST evaluations; "reached"
# = the trailing SMOOTH-point mean of the curve is within ASYMPTOTE_TOLERANCE x (asymptote - start) of it.
ASYMPTOTE_LAST = 5
ASYMPTOTE_TOLERANCE = 0.1
SMOOTH = 3
# a baseline is "at its plateau" when its asymptote exceeds the mean of the ASYMPTOTE_LAST evaluations before
# them by at most PLATEAU_RISE x (asymptote - start); otherwise it was still rising and its asymptote is unknown
PLATEAU_RISE = 0.1
# a method "learned" when its asymptote is at least LEARNED_FRACTION x |start| above its first evaluation
LEARNED_FRACTION = 0.1
EFFICIENCY_TARGET = 20.0   # the paper's "20-100x": the lower end
# sparse point robot: each seed's score is the mean of its last SPARSE_LAST evaluations (100 iterations at
# eval_every 5); the agent "learned the task" when success after exploration minus success of the first
# (prior-z) trajectory is at least SPARSE_MARGIN on the mean over seeds and its paired 95% interval is above 0
SPARSE_LAST = 20
SPARSE_MARGIN = 0.10
# ablations (dense point robot, eval_every 2): mean of the last ABLATION_LAST evaluations (20 iterations)
ABLATION_LAST = 10


def values(curve: list[dict], key: str = "final_return") -> np.ndarray:
    """A curve's values; `success_last` / `success_first` read success after the last / of the first trajectory."""
    if key == "success_last":
        return np.array([p["success_by_traj"][-1] for p in curve], dtype=float)
    if key == "success_first":
        return np.array([p["success_by_traj"][0] for p in curve], dtype=float)
    return np.array([p[key] for p in curve], dtype=float)


def smoothed(curve: list[dict], key: str = "final_return", window: int = SMOOTH) -> tuple[np.ndarray, np.ndarray]:
    """Env steps and the trailing `window`-point mean of the curve (shorter at the start)."""
    steps = np.array([p["env_steps"] for p in curve], dtype=float)
    vals = values(curve, key)
    return steps, np.array([vals[max(0, i - window + 1): i + 1].mean() for i in range(len(vals))])


def judged_score(curve: list[dict], last: int, key: str = "final_return") -> float:
    """A seed's judged score: the mean of its last `last` evaluations (all of them if the curve is shorter)."""
    if last < 1:
        raise ValueError(f"last must be >= 1, got {last}")
    return float(values(curve, key)[-last:].mean())


def previous_score(curve: list[dict], last: int, key: str = "final_return") -> float:
    """The mean of the `last` evaluations before the last `last` ones (nan when there are none)."""
    vals = values(curve, key)[:-last][-last:]
    return float(vals.mean()) if len(vals) else float("nan")


def first_reach(curve: list[dict], level: float, window: int = SMOOTH) -> float | None:
    """Env steps of the first evaluation whose trailing mean reaches `level`; None if none does (censored)."""
    steps, vals = smoothed(curve, window=window)
    hits = np.flatnonzero(vals >= level)
    return float(steps[hits[0]]) if len(hits) else None


def sparse_success_curves(runs: list[dict], arm: str) -> tuple[np.ndarray, np.ndarray]:
    """Env steps and the success after the last exploration trajectory, one row per seed; seeds share the
    evaluation schedule, so every seed is cut to the shortest one."""
    curves = [r[arm]["curve"] for r in runs]
    length = min(len(curve) for curve in curves)
    steps = np.array([p["env_steps"] for p in curves[0][:length]])
    return steps, np.array([[p["success_by_traj"][-1] for p in curve[:length]] for curve in curves])
