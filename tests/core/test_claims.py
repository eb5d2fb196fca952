import re

import numpy as np
import pytest
from scipy import stats

from paperlab.core.claims import (INCONCLUSIVE, REPRODUCED, Verdict, format_claims_table, intervals_compare,
                                  mean_ci, verdict_if)


def test_mean_ci_matches_t_interval():
    values = [1.0, 2.0, 4.0, 3.5]
    mean, lo, hi = mean_ci(values)
    ref = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert mean == pytest.approx(np.mean(values))
    assert (lo, hi) == pytest.approx(ref)
    assert mean_ci([2.0]) == (2.0, 2.0, 2.0)


def test_intervals_compare():
    assert intervals_compare([10, 10.1, 9.9], [1, 1.1, 0.9]) == "greater"
    assert intervals_compare([1, 1.1, 0.9], [10, 10.1, 9.9]) == "less"
    assert intervals_compare([1, 5, 3], [2, 4, 3]) == "overlap"


def test_verdicts_are_validated_and_formatted():
    with pytest.raises(ValueError):
        Verdict("probably", {}, None)
    assert verdict_if(True, {"x": 1.0}, "x > 0").verdict == REPRODUCED
    row = {"id": "c", "text": "t", "verdict": INCONCLUSIVE, "measured": {"x": {"mean": 1.0, "ci_low": 0.5, "ci_high": 1.5}},
           "threshold": "x > 2"}
    table = format_claims_table([row])
    assert "[INCONCLUSIVE] c" in table and "1 [0.5, 1.5]" in table
    assert "| `c`: t | **inconclusive** |" in format_claims_table([row], markdown=True)
    piped = dict(row, text="|grad Phi| = 1", threshold="|Q-G| < 1")
    line = format_claims_table([piped], markdown=True).splitlines()[2]
    assert len(re.split(r"(?<!\\)\|", line)) == 6 and "\\|grad Phi\\|" in line  # 4 cells: inner pipes escaped


def test_a_claim_without_evidence_is_inconclusive():
    from paperlab.core.claims import INCONCLUSIVE, Claim, verdict_if

    claim = Claim("c", "text", ["exp"], judge=lambda r: verdict_if(r["exp"][0]["x"] > 0, {}, "x > 0"))
    assert claim.evaluate({"exp": []}).verdict == INCONCLUSIVE
    assert claim.evaluate({}).verdict == INCONCLUSIVE
    missing = claim.evaluate({"exp": [{"y": 1}]})
    assert missing.verdict == INCONCLUSIVE and "KeyError" in missing.note
    assert claim.evaluate({"exp": [{"x": 1}]}).verdict == "reproduced"


def test_nmf_monotone_judge_needs_half_steps():
    from paperlab.core.claims import INCONCLUSIVE
    from paperlab.nmf.paper import judge_monotone

    empty = {"largest_relative_increase": 0.0, "half_steps_with_increase": 0, "half_steps": 0}
    assert judge_monotone({"monotone": [{"frobenius": empty, "kl": empty}]}).verdict == INCONCLUSIVE

def test_check_preconditions_names_every_failed_one():
    from paperlab.core.claims import check_preconditions

    assert check_preconditions({"a learned": True, "b learned": True}, {"x": 1}, "t") is None
    v = check_preconditions({"a learned": True, "b learned": False, "c fitted": False}, {"x": 1}, "t")
    assert v.verdict == INCONCLUSIVE and v.measured == {"x": 1} and v.threshold == "t"
    assert "b learned" in v.note and "c fitted" in v.note and "a learned" not in v.note
