"""BEAR's pre-registered scoring rule (rl/bear/scoring.py), on hand-computed cases."""
import math

import numpy as np
import pytest
from scipy import stats

from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from paperlab.rl.bear.scoring import BETTER, ON_PAR, RULE, UNDECIDED, WORSE, ScoringRule, arm_score, compare_arms, \
    never_worse_sometimes_better, seeds_needed, status, welch_interval


def arm(scores, updates=25_000, every=5_000, episodes=10):
    """An arm result whose evaluations (every `every` updates) scored `scores`."""
    return {"eval_curve": [[every * (i + 1), 0.0, s] for i, s in enumerate(scores)], "updates": updates,
            "eval_episodes": episodes}


def arms(finals, **kw):
    """One arm per seed whose last three evaluations average to each value in `finals`."""
    return [arm([0.0, 0.0, f - 1.0, f, f + 1.0], **kw) for f in finals]


def test_arm_score_is_the_mean_of_the_last_k_evaluations():
    assert arm_score(arm([1, 2, 3, 4, 5])) == (4.0, None)
    assert arm_score(arm([1, 2, 3, 4, 5]), ScoringRule(k=2)) == (4.5, None)


@pytest.mark.parametrize("result,why", [
    (arm([1, 2, 3, 4], updates=25_000), "stopped at 20000 of 25000"),     # cut short: censored
    (arm([1, 2], updates=10_000), "2 evaluation(s)"),                      # fewer evaluations than k
    (arm([1, 2, 3, 4, 5], episodes=5), "5 episode(s) per evaluation"),
    (arm([1, 2, 3, 4, float("nan")]), "non-finite"),
    ({"eval_curve": arm([1, 2, 3, 4, 5])["eval_curve"], "updates": 25_000}, "not recorded"),
])
def test_censored_arms_have_no_score(result, why):
    score, reason = arm_score(result)
    assert score is None and why in reason


def test_welch_interval_by_hand_and_against_scipy():
    # b constant: se^2 = var(a)/3 = 1/3, df = 2, t_0.975(2) = 4.3027: 2 +- 4.3027 * sqrt(1/3) = 2 +- 2.4841
    got = welch_interval([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert got["df"] == pytest.approx(2.0)
    assert (got["low"], got["high"]) == pytest.approx((2 - 2.48414, 2 + 2.48414), abs=1e-4)
    rng = np.random.default_rng(0)
    a, b = rng.normal(3, 2, 6), rng.normal(0, 0.5, 4)   # unequal variances and seed counts
    got = welch_interval(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (got["low"], got["high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    with pytest.raises(ValueError, match=">= 2 values"):
        welch_interval([1.0], [1.0, 2.0])


@pytest.mark.parametrize("low,high,expected", [
    (0.5, 4.0, BETTER), (-4.0, -0.5, WORSE), (-2.0, 2.0, ON_PAR), (0.1, 2.0, ON_PAR),   # tiny but significant
    (-3.0, 1.0, UNDECIDED), (-1.0, 3.0, UNDECIDED)])
def test_status_with_margin(low, high, expected):
    assert status({"low": low, "high": high}, margin=2.5) == expected


def test_true_zero_reads_not_reproduced_through_the_equivalence_margin():
    """Two methods that score the same: their interval shrinks inside the margin, so "sometimes better" is
    refuted (under a rule with overlap = 'on par' it stayed inconclusive however many seeds)."""
    same = [20.0, 20.5, 19.5, 20.2, 19.8, 20.0]
    cell = compare_arms(arms(same), arms([s + 0.1 for s in same[::-1]]), dataset_score=14.0)
    assert cell["status"] == ON_PAR
    verdict, reason = never_worse_sometimes_better({"medium": cell})
    assert verdict == NOT_REPRODUCED and "better nowhere" in reason


def test_better_somewhere_and_not_worse_elsewhere_is_reproduced():
    cells = {"random": compare_arms(arms([12, 13, 11]), arms([2, 2.1, 1.9]), dataset_score=0.0),
             "medium": compare_arms(arms([20, 20.5, 19.5, 20, 20.2, 19.8]), arms([20, 20.3, 19.7, 20, 19.9, 20.1]),
                                    dataset_score=14.0)}
    assert cells["random"]["status"] == BETTER and cells["medium"]["status"] == ON_PAR
    assert never_worse_sometimes_better(cells)[0] == REPRODUCED
    cells["medium"] = compare_arms(arms([15, 15.5, 14.5]), arms([20, 20.5, 19.5]), dataset_score=14.0)
    assert cells["medium"]["status"] == WORSE
    assert never_worse_sometimes_better(cells)[0] == NOT_REPRODUCED


def test_short_run_or_too_few_seeds_makes_the_comparison_inconclusive():
    censored = arms([12, 13, 11])
    censored[1] = arm([12, 13, 14, 15], updates=25_000)          # seed 1 stopped at 20 000 updates
    cell = compare_arms(censored, arms([2, 2.1, 1.9]), dataset_score=0.0)
    assert cell["status"] == UNDECIDED and "seed 1: stopped at 20000" in cell["precondition"]
    assert never_worse_sometimes_better({"random": cell})[0] == INCONCLUSIVE
    few = compare_arms(arms([12, 13]), arms([2, 2.1]), dataset_score=0.0)
    assert few["status"] == UNDECIDED and "2 seed(s) < 3" in few["precondition"]


def test_neither_arm_learned_is_a_failed_precondition_not_equivalence():
    """Both arms stand still at the data's level: 'on par' there would refute nothing."""
    cell = compare_arms(arms([2.2, 2.3, 2.25]), arms([2.25, 2.2, 2.3]), dataset_score=0.0)
    assert cell["status"] == UNDECIDED and "neither arm learned" in cell["precondition"]
    assert never_worse_sometimes_better({"random": cell})[0] == INCONCLUSIVE


def test_seeds_needed_matches_the_interval_it_promises():
    n = seeds_needed(1.5, 1.0, half_width=1.8)
    assert n is not None
    for m, inside in ((n, True), (n - 1, False)):
        va, vb = 1.5 ** 2 / m, 1.0 ** 2 / m
        df = (va + vb) ** 2 / ((va ** 2 + vb ** 2) / (m - 1))
        assert (stats.t.ppf(0.975, df) * math.sqrt(va + vb) < 1.8) == inside
    assert seeds_needed(1.0, 1.0, half_width=0.0) is None
    assert RULE.k == 3 and RULE.margin == 2.5   # the rule fixed before the small re-run


def test_score_runs_reads_sweep_results(tmp_path):
    import json

    from paperlab.rl.bear.scoring import score_runs
    for i, (method, finals) in enumerate((("bear", [2.0, 2.1, 1.9]), ("kl-control", [12, 13, 11]))):
        for seed, f in enumerate(finals):
            run = tmp_path / f"run-{i}-{seed}"
            run.mkdir()
            arm = {**arms([f])[0], "dataset_score": 0.0}
            (run / "results.json").write_text(json.dumps({"arms": {f"HalfCheetah-v5/random/{method}": arm}}))
    out = score_runs(str(tmp_path))["HalfCheetah-v5/random"]
    assert out["bear"]["scores"] == pytest.approx([2.0, 2.1, 1.9]) and out["bear"]["censored"] == []
    assert out["kl-control"]["vs bear"]["status"] == BETTER


def test_benchmark_judge_reports_seeds_per_arm_when_extra_seeds_train_only_some_arms():
    from paperlab.rl.bear.claims import judge_bear_beats_baselines

    def run(seed):
        cells = {"random": {"bear": 10.0 + seed, "bc": 2.0}, "medium": {"bear": 20.0 + seed % 2, "bc": 15.0}}
        if seed >= 3:   # seeds 3-5 train BEAR and BC on medium only, as EXTRA_SEEDS does at small
            cells = {"medium": cells["medium"]}
        return {"scores": {"HalfCheetah-v5": cells},
                "dataset_scores": {"HalfCheetah-v5": {"random": 2.0, "medium": 40.0}},
                "arms": {f"HalfCheetah-v5/{k}/{m}": arms([v])[0] for k, by in cells.items() for m, v in by.items()}}

    verdict = judge_bear_beats_baselines({"offline-benchmark": [run(s) for s in range(6)]})
    assert verdict.seeds == "3-6"
    assert verdict.measured["HalfCheetah-v5/random"]["bear"]["n"] == 3
    assert verdict.measured["HalfCheetah-v5/medium"]["bear"]["n"] == 6
    assert judge_bear_beats_baselines({"offline-benchmark": [run(s) for s in range(3)]}).seeds == ""
