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
    from paperlab.nmf.claims import judge_monotone

    empty = {"largest_relative_increase": 0.0, "half_steps_with_increase": 0, "half_steps": 0}
    assert judge_monotone({"monotone": [{"frobenius": empty, "kl": empty}]}).verdict == INCONCLUSIVE

def test_check_preconditions_names_every_failed_one():
    from paperlab.core.claims import check_preconditions

    assert check_preconditions({"a learned": True, "b learned": True}, {"x": 1}, "t") is None
    v = check_preconditions({"a learned": True, "b learned": False, "c fitted": False}, {"x": 1}, "t")
    assert v.verdict == INCONCLUSIVE and v.measured == {"x": 1} and v.threshold == "t"
    assert "b learned" in v.note and "c fitted" in v.note and "a learned" not in v.note


# ---- the verdict vocabulary (hand-made numbers, every branch) ----------------------------------------------
def test_paired_difference_and_seed_values():
    from paperlab.core.claims import paired_difference, seed_values

    assert seed_values([{"x": 1}, {"x": 2.5}], lambda r: r["x"]) == [1.0, 2.5]
    d = paired_difference([3.0, 5.0, 4.0], [1.0, 2.0, 3.0])       # differences 2, 3, 1
    assert d["mean"] == pytest.approx(2.0) and d["n"] == 3
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)               # std of (2, 3, 1) is 1
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((2.0 - half, 2.0 + half))


def test_difference_verdict_every_branch():
    from paperlab.core.claims import NOT_REPRODUCED, difference_verdict

    up, down, straddle = [1.0, 1.1, 0.9], [-1.0, -1.1, -0.9], [1.0, -1.0, 0.1]
    assert difference_verdict(up, "a - b") == (REPRODUCED, "a - b: interval above 0")
    assert difference_verdict(down, "a - b") == (NOT_REPRODUCED, "a - b: interval below 0")
    assert difference_verdict(straddle, "a - b") == (INCONCLUSIVE, "a - b: 95% interval contains 0 (3 seeds)")
    assert difference_verdict([5.0], "a - b") == (INCONCLUSIVE, "a - b: 1 seed(s), no 95% interval")
    # the claimed direction: "a stays below b"
    assert difference_verdict(down, "a - b", direction="less")[0] == REPRODUCED
    assert difference_verdict(up, "a - b", direction="less")[0] == NOT_REPRODUCED
    # a margin: the interval (0.84, 1.16) is above 0.5 but not above 2
    assert difference_verdict(up, "gain", margin=0.5) == (REPRODUCED, "gain: interval above 0.5")
    assert difference_verdict(up, "gain", margin=2.0) == (NOT_REPRODUCED, "gain: interval below 2")
    assert difference_verdict(up, "gain", margin=1.0)[0] == INCONCLUSIVE
    # a summary dict is read as it is
    assert difference_verdict({"mean": 1.0, "ci_low": 0.1, "ci_high": 2.0, "n": 4})[0] == REPRODUCED
    with pytest.raises(ValueError, match="direction"):
        difference_verdict(up, direction="up")


def test_verdict_from_difference_puts_the_reason_first():
    from paperlab.core.claims import verdict_from_difference

    v = verdict_from_difference([1.0, 1.1, 0.9], {"d": 1}, "d > 0", "d", note="curves meet at 10")
    assert (v.verdict, v.measured, v.threshold, v.note) == (REPRODUCED, {"d": 1}, "d > 0",
                                                            "d: interval above 0; curves meet at 10")


def test_compare_samples():
    from paperlab.core.claims import compare_samples

    assert compare_samples([10, 10.1, 9.9], [1, 1.1, 0.9]) == "better"
    assert compare_samples([1, 1.1, 0.9], [10, 10.1, 9.9]) == "worse"
    assert compare_samples([1, 5, 3], [2, 4, 3]) == "on par"


def test_never_worse_sometimes_better():
    from paperlab.core.claims import NOT_REPRODUCED, never_worse_sometimes_better

    assert never_worse_sometimes_better({"a": "better", "b": "on par"}) == (REPRODUCED, "")
    assert never_worse_sometimes_better({"a": "better", "b": "worse", "c": "worse"}) == (
        NOT_REPRODUCED, "Significantly worse on b, c.")
    verdict, reason = never_worse_sometimes_better({"a": "on par", "b": "on par"})
    assert verdict == INCONCLUSIVE and "overlap" in reason
    # better only where it does not count: undecided, with the caller's reason
    assert never_worse_sometimes_better({"x/expert": "better", "x/random": "on par"}, better_in=["x/random"],
                                        undecided="not separated off expert data") == (
        INCONCLUSIVE, "not separated off expert data")


def test_combine():
    from paperlab.core.claims import NOT_REPRODUCED, combine

    assert combine([(REPRODUCED, "a ok"), (REPRODUCED, "b ok")]) == (REPRODUCED, "a ok; b ok")
    assert combine([(REPRODUCED, "a ok"), (INCONCLUSIVE, "b unclear")]) == (INCONCLUSIVE, "a ok; b unclear")
    assert combine([(INCONCLUSIVE, "a unclear"), (NOT_REPRODUCED, "b refuted"), (REPRODUCED, "")]) == (
        NOT_REPRODUCED, "a unclear; b refuted")
    assert combine([]) == (INCONCLUSIVE, "nothing to combine")


def test_single_seed_note():
    from paperlab.core.claims import single_seed_note

    assert single_seed_note(1) == "1 seed(s); the margins are compared with the threshold directly"
    assert single_seed_note(2).startswith("2 seed(s)")
    assert single_seed_note(3) == "mean over 3 seeds"


def test_missing_arms_names_what_is_missing():
    from paperlab.core.claims import missing_arms

    assert missing_arms(["siren", "relu"], ["siren"], {}, "t", baselines=1) is None
    v = missing_arms(["relu"], ["siren", "tanh"], {"x": 1}, "t")
    assert (v.verdict, v.measured, v.threshold) == (INCONCLUSIVE, {"x": 1}, "t")
    assert v.note == "missing from the runs: siren, tanh"
    v = missing_arms(["siren"], ["siren"], {}, "t", baselines=1)
    assert v.verdict == INCONCLUSIVE and v.note == "missing from the runs: 1 baseline(s) besides siren"
