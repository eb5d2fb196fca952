"""BEAR's scoring rule, fixed before the `small` re-run (issue 30) and written into every claim it judges.

1. **Per-seed score of an arm**: the mean normalised score of its last ``k`` evaluations (each of at least
   ``min_episodes`` episodes), not its final one: one evaluation of a policy that oscillates between
   checkpoints (BEAR-KL read 1502, -83, 1761 at consecutive ones) decides nothing. An arm that stopped before
   its planned updates, has fewer than ``k`` evaluations, fewer episodes or a non-finite score is *censored*:
   the comparison it is in is inconclusive, whatever the others say.
2. **Comparison of two arms**: the Welch 95% interval of the difference of their mean per-seed scores
   (unequal variances and seed counts). With the equivalence margin ``margin`` (normalised points):
   ``better`` if the interval lies above 0 and reaches past the margin, ``worse`` mirrored, ``on par`` if it
   lies inside (-margin, margin) (equivalent: a true zero difference reads ``on par``, so "sometimes better"
   can be refuted), ``undecided`` otherwise. ``not worse`` (non-inferior) means a lower bound above -margin.
3. **Preconditions** of a comparison: at least ``min_seeds`` uncensored seeds per arm, and at least one of
   the two arms learned: its mean score exceeds the dataset's own score by the margin (two arms that both
   stay at the data's level say nothing about which method is better).
4. **"Never worse, sometimes better"** over datasets: not reproduced if worse on any dataset, or on par on
   every dataset where "better" was claimed; reproduced if better on at least one of those and not worse
   anywhere; inconclusive otherwise (including a failed precondition on a dataset that would decide it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED

BETTER, WORSE, ON_PAR, UNDECIDED = "better", "worse", "on par", "undecided"
DIFFERENCE = "difference (Welch)"   # the measured entry: mean difference A - B and its interval


@dataclass(frozen=True)
class ScoringRule:
    """Fixed before the `small` re-run; every BEAR claim that compares scores states it in its threshold."""
    k: int = 3                  # per-seed score = mean of the last k evaluations (15k, 20k, 25k updates at small)
    min_episodes: int = 10      # episodes per evaluation
    min_seeds: int = 3          # uncensored seeds per arm and dataset
    margin: float = 2.5         # equivalence margin, D4RL-normalised points (HalfCheetah: ~310 return)
    level: float = 0.95         # two-sided level of the Welch interval

    def describe(self) -> str:
        return (f"per-seed score = mean of the last {self.k} evaluations (each >= {self.min_episodes} episodes); "
                f"Welch {self.level:.0%} interval of the difference over seeds; better/worse = interval beyond 0 "
                f"and reaching past the margin {self.margin:g}, on par = inside (-{self.margin:g}, {self.margin:g}); "
                f"precondition per dataset: >= {self.min_seeds} uncensored seeds per arm and one arm above the "
                f"data's score by the margin")


RULE = ScoringRule()


def arm_score(arm: dict, rule: ScoringRule = RULE) -> tuple[float | None, str | None]:
    """(per-seed score, None), or (None, why the arm is censored). ``arm`` is one arm's result dict
    (``eval_curve`` rows ``[step, return, normalised score]``, ``updates``, ``eval_episodes``)."""
    curve = arm.get("eval_curve") or []
    if len(curve) < rule.k:
        return None, f"{len(curve)} evaluation(s), fewer than the last {rule.k} the score averages"
    planned = arm.get("updates")
    if planned is not None and curve[-1][0] < planned:
        return None, f"stopped at {curve[-1][0]} of {planned} updates"
    episodes = arm.get("eval_episodes")
    if episodes is None:
        return None, "episodes per evaluation not recorded"
    if episodes < rule.min_episodes:
        return None, f"{episodes} episode(s) per evaluation < {rule.min_episodes}"
    values = [float(row[2]) for row in curve[-rule.k:]]
    if not all(math.isfinite(v) for v in values):
        return None, "a non-finite score among the last evaluations"
    return float(np.mean(values)), None


def welch_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Welch's interval for mean(a) - mean(b): {'diff', 'low', 'high', 'df'}. Needs >= 2 values on each side;
    two constant samples give a zero-width interval."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2 or b.size < 2:
        raise ValueError(f"Welch's interval needs >= 2 values per arm, got {a.size} and {b.size}")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff, se2 = float(a.mean() - b.mean()), float(va + vb)
    if se2 == 0.0:
        return {"diff": diff, "low": diff, "high": diff, "df": float("inf")}
    df = se2 ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, df)) * math.sqrt(se2)
    return {"diff": diff, "low": diff - half, "high": diff + half, "df": float(df)}


def status(interval: dict[str, float], margin: float) -> str:
    """better / worse / on par / undecided from a difference interval and the equivalence margin."""
    low, high = interval["low"], interval["high"]
    if -margin < low and high < margin:
        return ON_PAR
    if low > 0:
        return BETTER
    if high < 0:
        return WORSE
    return UNDECIDED


def seeds_needed(sd_a: float, sd_b: float, half_width: float, level: float = 0.95, most: int = 50) -> int | None:
    """Smallest n (seeds per arm) whose Welch interval half-width is below ``half_width`` for these SDs; None
    above ``most``. To decide a difference d: half_width = |d|; to show equivalence: margin - |d|."""
    from scipy import stats

    if half_width <= 0:
        return None
    for n in range(2, most + 1):
        va, vb = sd_a ** 2 / n, sd_b ** 2 / n
        if va + vb == 0:
            return n
        df = (va + vb) ** 2 / ((va ** 2 + vb ** 2) / (n - 1))
        if float(stats.t.ppf(0.5 + level / 2, df)) * math.sqrt(va + vb) < half_width:
            return n
    return None


def compare_arms(a_arms: Sequence[dict], b_arms: Sequence[dict], dataset_score: float, rule: ScoringRule = RULE
                 ) -> dict:
    """One dataset's comparison of arm A against arm B (each a list of per-seed arm results): the per-seed
    scores, the Welch interval (``DIFFERENCE``), the status, or ``status = undecided`` with ``precondition``
    saying what failed."""
    out: dict = {}
    scores = []
    for name, arms in (("a", a_arms), ("b", b_arms)):
        pairs = [arm_score(arm, rule) for arm in arms]
        censored = [f"seed {i}: {why}" for i, (_, why) in enumerate(pairs) if why]
        values = [v for v, _ in pairs if v is not None]
        out[f"{name}_scores"] = values
        if censored:
            out["precondition"] = f"{name.upper()} censored ({'; '.join(censored)})"
        elif len(values) < rule.min_seeds:
            out["precondition"] = f"{name.upper()} has {len(values)} seed(s) < {rule.min_seeds}"
        scores.append(values)
    if "precondition" in out:
        out["status"] = UNDECIDED
        return out
    means = [float(np.mean(v)) for v in scores]
    if max(means) <= dataset_score + rule.margin:
        out["status"] = UNDECIDED
        out["precondition"] = (f"neither arm learned: means {means[0]:.3g} and {means[1]:.3g} are within the margin "
                               f"{rule.margin:g} of the data's score {dataset_score:.3g} or below it")
        return out
    interval = welch_interval(*scores, level=rule.level)
    out[DIFFERENCE] = {"mean": interval["diff"], "ci_low": interval["low"], "ci_high": interval["high"],
                       "df": interval["df"]}
    out["status"] = status(interval, rule.margin)
    return out


def never_worse_sometimes_better(cells: dict[str, dict], better_in: Sequence[str] | None = None,
                                 rule: ScoringRule = RULE) -> tuple[str, str]:
    """(verdict, reason) over datasets' comparisons (``compare_arms`` dicts): see the module docstring, rule 4."""
    better_in = list(cells) if better_in is None else [c for c in better_in if c in cells]
    worse = [c for c, v in cells.items() if v["status"] == WORSE]
    if worse:
        return NOT_REPRODUCED, f"worse on {', '.join(worse)}"
    if better_in and all(cells[c]["status"] == ON_PAR for c in better_in):
        return NOT_REPRODUCED, (f"on par (within the margin {rule.margin:g}) on {', '.join(better_in)}: "
                                "better nowhere")
    failed = [f"{c}: {v['precondition']}" for c, v in cells.items() if v.get("precondition")]
    better = [c for c in better_in if cells[c]["status"] == BETTER]
    inferior = [c for c, v in cells.items() if DIFFERENCE not in v or v[DIFFERENCE]["ci_low"] <= -rule.margin]
    if better and not inferior:
        return REPRODUCED, f"better on {', '.join(better)}, not worse (beyond the margin) anywhere"
    reasons = failed or [f"{c}: {cells[c]['status']}" for c in cells]
    return INCONCLUSIVE, "; ".join(reasons)


def score_runs(runs_dir: str, reference: str = "bear", rule: ScoringRule = RULE) -> dict:
    """Every arm under ``runs_dir`` (results.json files, one run per seed or per method and seed, as ``paperlab
    sweep`` writes them) scored by the rule, and each method compared with ``reference`` on the same dataset:
    {"env/kind": {method: {"scores": [...], "censored": [...], "vs <reference>": compare_arms dict}}}."""
    import json
    from pathlib import Path

    arms: dict[str, dict[str, list[dict]]] = {}
    for path in sorted(Path(runs_dir).glob("**/results.json")):
        for name, arm in json.loads(path.read_text()).get("arms", {}).items():
            env, kind, method = name.split("/")
            arms.setdefault(f"{env}/{kind}", {}).setdefault(method, []).append(arm)
    out: dict = {}
    for cell, by_method in arms.items():
        data_score = next(iter(by_method.values()))[0]["dataset_score"]
        for method, results in by_method.items():
            pairs = [arm_score(a, rule) for a in results]
            row = {"scores": [v for v, _ in pairs if v is not None], "censored": [w for _, w in pairs if w]}
            if method != reference and reference in by_method:
                row[f"vs {reference}"] = compare_arms(results, by_method[reference], data_score, rule)
            out.setdefault(cell, {})[method] = row
    return out


if __name__ == "__main__":
    import json
    import sys

    if len(sys.argv) not in (2, 3):
        print("usage: python -m paperlab.rl.bear.scoring RUNS_DIR [REFERENCE_METHOD]", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(score_runs(*sys.argv[1:]), indent=1))
