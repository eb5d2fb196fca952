"""Claims: the summary's sentence, the experiments it needs, and a judge from measurements to a verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)


@dataclass
class Verdict:
    verdict: str
    measured: dict[str, Any]
    threshold: Any
    note: str = ""
    # seeds per arm where the arms of a claim have different counts (e.g. "3-6"); empty: the number of runs
    seeds: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


@dataclass
class Claim:
    """`judge` receives {experiment name: [results dict of each seed]} and returns a Verdict."""

    id: str
    text: str
    experiments: list[str]
    judge: Callable[[dict[str, list[dict]]], Verdict]
    seeds: int = 1
    source: str = field(default="summary")

    def evaluate(self, results: dict[str, list[dict]]) -> Verdict:
        """The judge's verdict, or `inconclusive` when there is no evidence to judge from: an experiment
        without runs, or runs lacking what the judge measures (e.g. an override removed a loss)."""
        empty = [name for name in self.experiments if not results.get(name)]
        if empty:
            return Verdict(INCONCLUSIVE, {}, None, f"no finished runs of {', '.join(empty)}: nothing to judge from")
        try:
            return self.judge(results)
        except (KeyError, IndexError, ZeroDivisionError, ValueError) as err:
            return Verdict(INCONCLUSIVE, {}, None, f"the judge cannot be computed from these runs "
                                                   f"({type(err).__name__}: {err}); did an override remove what "
                                                   "this claim measures?")


def verdict_if(condition: bool, measured: dict[str, Any], threshold: Any, note: str = "") -> Verdict:
    """Reproduced when the measured condition holds, not reproduced otherwise."""
    return Verdict(REPRODUCED if condition else NOT_REPRODUCED, measured, threshold, note)


def check_preconditions(preconditions: dict[str, bool], measured: dict[str, Any], threshold: Any) -> Verdict | None:
    """Precondition gate of a judge: None when every named precondition holds, else an `inconclusive`
    Verdict whose note names the ones that failed (what the comparison presupposes did not happen, so
    the measurements say nothing about the claim either way)."""
    failed = [name for name, holds in preconditions.items() if not holds]
    if not failed:
        return None
    return Verdict(INCONCLUSIVE, measured, threshold, "precondition not met: " + "; ".join(failed))


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and a Student-t confidence interval; a single value gives a zero-width interval."""
    arr = np.asarray([float(v) for v in values], dtype=float)
    if arr.size == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(arr.mean())
    if arr.size == 1:
        return mean, mean, mean
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, arr.size - 1) * arr.std(ddof=1) / math.sqrt(arr.size))
    return mean, mean - half, mean + half


def intervals_compare(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> str:
    """'greater' if a's interval lies above b's, 'less' if below, 'overlap' otherwise."""
    _, a_lo, a_hi = mean_ci(a, level)
    _, b_lo, b_hi = mean_ci(b, level)
    if a_lo > b_hi:
        return "greater"
    if a_hi < b_lo:
        return "less"
    return "overlap"


def summarize(values: Sequence[float]) -> dict[str, float]:
    """{'mean', 'ci_low', 'ci_high', 'n'}: the form measured numbers take in claims JSON."""
    mean, lo, hi = mean_ci(values)
    return {"mean": mean, "ci_low": lo, "ci_high": hi, "n": len(values)}


# ---- the verdict vocabulary every judge is written in ---------------------------------------------------
def seed_values(runs: Sequence[dict], getter: Callable[[dict], Any]) -> list[float]:
    """One float per seed's results dict."""
    return [float(getter(r)) for r in runs]


def paired_difference(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Summary (mean, 95% interval, n) of the per-seed differences a - b (same seeds, same order)."""
    return summarize([x - y for x, y in zip(a, b)])


def difference_verdict(diff: dict[str, float] | Sequence[float], what: str = "paired difference", *,
                       margin: float = 0.0, direction: str = "greater", min_seeds: int = 2) -> tuple[str, str]:
    """(verdict, reason) for a claim that a paired difference exceeds `margin` ("greater") or stays below it
    ("less"): reproduced when its 95% interval lies wholly on the claimed side, not reproduced when wholly
    on the other side, inconclusive when it contains the margin or has fewer than `min_seeds` values.
    `diff` is a `summarize` dict or the per-seed differences."""
    if direction not in ("greater", "less"):
        raise ValueError(f"direction must be 'greater' or 'less', got {direction!r}")
    if not isinstance(diff, dict):
        diff = summarize(diff)
    if diff["n"] < min_seeds:
        return INCONCLUSIVE, f"{what}: {diff['n']} seed(s), no 95% interval"
    above, below = diff["ci_low"] > margin, diff["ci_high"] < margin
    if above or below:
        verdict = REPRODUCED if above == (direction == "greater") else NOT_REPRODUCED
        return verdict, f"{what}: interval {'above' if above else 'below'} {margin:g}"
    return INCONCLUSIVE, f"{what}: 95% interval contains {margin:g} ({diff['n']} seeds)"


def verdict_from_difference(diff: dict[str, float] | Sequence[float], measured: dict[str, Any], threshold: Any,
                            what: str = "paired difference", note: str = "", **rule: Any) -> Verdict:
    """`difference_verdict` as a Verdict, its reason first in the note (then `note`)."""
    verdict, reason = difference_verdict(diff, what, **rule)
    return Verdict(verdict, measured, threshold, "; ".join(filter(None, (reason, note))))


COMPARISON = {"greater": "better", "less": "worse", "overlap": "on par"}


def compare_samples(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> str:
    """'better' if a's interval lies above b's, 'worse' if below, 'on par' if they overlap."""
    return COMPARISON[intervals_compare(a, b, level)]


def never_worse_sometimes_better(statuses: dict[str, str], better_in: Sequence[str] | None = None,
                                 undecided: str = "Every comparison's 95% intervals overlap; the data cannot "
                                                  "separate the methods.") -> tuple[str, str]:
    """(verdict, reason) from per-cell 'better' / 'on par' / 'worse' statuses: not reproduced if worse in any
    cell; reproduced if better in at least one of `better_in` (default: every cell); inconclusive otherwise."""
    worse = [cell for cell, status in statuses.items() if status == "worse"]
    if worse:
        return NOT_REPRODUCED, f"Significantly worse on {', '.join(worse)}."
    cells = statuses if better_in is None else better_in
    if not any(statuses[cell] == "better" for cell in cells):
        return INCONCLUSIVE, undecided
    return REPRODUCED, ""


def combine(parts: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """One (verdict, reason) from several sub-verdicts (verdict, reason): reproduced only if every part
    reproduces, not reproduced if any part is refuted, inconclusive otherwise; the reasons joined by '; '."""
    if not parts:
        return INCONCLUSIVE, "nothing to combine"
    verdicts = [verdict for verdict, _ in parts]
    note = "; ".join(reason for _, reason in parts if reason)
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED, note
    return (REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE), note


def single_seed_note(n_seeds: int) -> str:
    """How a judge read point estimates: with fewer than 3 seeds the margins are compared directly."""
    return (f"{n_seeds} seed(s); the margins are compared with the threshold directly"
            if n_seeds < 3 else f"mean over {n_seeds} seeds")


def missing_arms(present: Sequence[str], needed: Sequence[str] = (), measured: dict[str, Any] | None = None,
                 threshold: Any = None, baselines: int = 0) -> Verdict | None:
    """The missing-arm rule: None when every `needed` arm (and at least `baselines` others) is among `present`,
    else an `inconclusive` Verdict naming what is missing (a comparison without one side says nothing)."""
    present = list(present)
    missing = [arm for arm in needed if arm not in present]
    others = [arm for arm in present if arm not in needed]
    if len(others) < baselines:
        missing.append(f"{baselines - len(others)} baseline(s) besides {', '.join(needed) or 'none'}")
    if not missing:
        return None
    return Verdict(INCONCLUSIVE, measured or {}, threshold, "missing from the runs: " + ", ".join(missing))


def format_number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        if {"mean", "ci_low", "ci_high"} <= set(value):
            return f"{value['mean']:.4g} [{value['ci_low']:.4g}, {value['ci_high']:.4g}]"
        return "{" + ", ".join(f"{k}: {format_number(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_number(v) for v in value) + "]"
    return str(value)


def format_measured(measured: dict[str, Any], limit: int = 160) -> str:
    text = "; ".join(f"{k}={format_number(v)}" for k, v in measured.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_claims_table(claims: list[dict[str, Any]], markdown: bool = False, width: int = 160) -> str:
    """A table of claim rows (dicts as written to claims JSON): id, verdict, measured, threshold."""
    if markdown:
        lines = ["| claim | verdict | measured | threshold |", "|---|---|---|---|"]
        for row in claims:
            def cell(text: str) -> str:  # a | inside a cell would end it: escaped, it renders as |
                return str(text).replace("|", "\\|")
            measured = cell(format_measured(row["measured"], limit=400))
            lines.append(f"| `{row['id']}`: {cell(row['text'])} | **{row['verdict']}** | {measured} | "
                         f"{cell(format_number(row['threshold']))} |")
        return "\n".join(lines)
    lines = []
    for row in claims:
        lines.append(f"[{row['verdict'].upper()}] {row['id']}")
        lines.append(f"    claim:     {row['text'][:width]}")
        lines.append(f"    measured:  {format_measured(row['measured'], limit=width)}")
        lines.append(f"    threshold: {format_number(row['threshold'])}")
        if row.get("note"):
            lines.append(f"    note:      {row['note'][:width]}")
    return "\n".join(lines)
