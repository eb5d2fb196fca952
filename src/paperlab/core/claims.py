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


def _format_number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        if {"mean", "ci_low", "ci_high"} <= set(value):
            return f"{value['mean']:.4g} [{value['ci_low']:.4g}, {value['ci_high']:.4g}]"
        return "{" + ", ".join(f"{k}: {_format_number(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format_number(v) for v in value) + "]"
    return str(value)


def format_measured(measured: dict[str, Any], limit: int = 160) -> str:
    text = "; ".join(f"{k}={_format_number(v)}" for k, v in measured.items())
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
                         f"{cell(_format_number(row['threshold']))} |")
        return "\n".join(lines)
    lines = []
    for row in claims:
        lines.append(f"[{row['verdict'].upper()}] {row['id']}")
        lines.append(f"    claim:     {row['text'][:width]}")
        lines.append(f"    measured:  {format_measured(row['measured'], limit=width)}")
        lines.append(f"    threshold: {_format_number(row['threshold'])}")
        if row.get("note"):
            lines.append(f"    note:      {row['note'][:width]}")
    return "\n".join(lines)
