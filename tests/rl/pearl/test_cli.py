"""Every PEARL experiment end to end at scale tiny through the CLI, plus the judges on synthetic results."""

import json

import pytest

from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from paperlab.rl.pearl import claims as pearl_claims

EXPERIMENTS = ["sample-efficiency", "sparse-exploration", "encoder-ablation", "context-sampling"]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_runs_at_tiny_scale(tiny_reproduction, experiment):
    """The runs of the session's tiny `reproduce pearl` (tests/test_paper_contract.py checks its claims)."""
    done = tiny_reproduction("pearl")
    assert done.code == 0
    (run_dir,) = done.run_dirs("pearl", experiment)
    data = json.loads((run_dir / "results.json").read_text())
    arms = {"sample-efficiency": ["pearl", "rl2", "maml-trpo", "promp", "pearl-trajectory-context"],
            "sparse-exploration": ["probabilistic", "deterministic"],
            "encoder-ablation": ["mlp", "rnn-transitions", "rnn-trajectories"],
            "context-sampling": ["recent", "whole-buffer"]}[experiment]
    assert [k for k in data if k not in ("task", "_meta")] == arms
    for arm in arms:
        curve = data[arm]["curve"]
        assert curve and curve[-1]["env_steps"] > 0
        assert all(isinstance(p["final_return"], float) for p in curve)
        if arm.startswith("pearl") or experiment != "sample-efficiency":  # every PEARL arm: 2 eval seeds at tiny,
            assert "context_probe" in data[arm]                            # the probe of its final weights
            assert len(curve[-1]["final_return_by_eval_seed"]) == (2 if experiment == "sample-efficiency" else 1)
        # sparse: the authors' protocol (2 prior-z trajectories at tiny, then the posterior) beside the paper's
        assert ("authors" in curve[-1]) == (experiment == "sparse-exploration")
    assert list((run_dir / "plots").glob("*.png"))


def _curve(steps, returns):
    return [{"env_steps": s, "final_return": r} for s, r in zip(steps, returns)]


def _runs(pearl, base_curves, budget=None):
    return [{"task": "t", "pearl": {"curve": pearl},
             **{name: {"curve": c, "env_steps": budget or c[-1]["env_steps"]} for name, c in base_curves.items()}}
            for _ in range(3)]


def _judge(pearl, bases):
    return pearl_claims.judge_sample_efficiency({"sample-efficiency": _runs(pearl, bases)})


def geom(n, first=1e4):
    return [first * 2 ** i for i in range(n)]  # evaluations at first, 2 first, 4 first, ... env steps


GEOM = geom(12)
FAST = _curve([1e3, 2e3, 4e3, 8e3, 1.6e4], [-20, -10, -5, -5, -5])
SLOW = _curve(geom(16), [-20] * 6 + [-5] * 10)  # flat at -5 over its last 10 evaluations (the plateau check)


def test_sample_efficiency_judge_reads_steps_to_the_baselines_asymptote():
    # the baseline's asymptote is -5, the level within tolerance -6.5 (10% of its 15-unit span below it); its
    # trailing 3-point mean reaches that at 2.56e6 env steps, PEARL's at 1.6e4: ratio 160 in every seed
    verdict = _judge(FAST, {"rl2": SLOW})
    assert verdict.verdict == REPRODUCED
    seed = verdict.measured["rl2"]["per_seed"][0]
    assert seed["asymptote"] == -5 and seed["level"] == pytest.approx(-6.5) and seed["at_plateau"]
    assert seed["baseline_steps"] == 2.56e6 and seed["pearl_steps"] == 1.6e4 and seed["kind"] == "exact"
    assert seed["ratio"] == pytest.approx(160.0)
    # the crossings lie between the previous evaluation and the crossing one: a bracket around the ratio
    assert seed["ratio_bracket"] == pytest.approx([1.28e6 / 1.6e4, 2.56e6 / 8e3])
    same = _curve(geom(16, 1e3), [-20, -10] + [-5] * 14)
    verdict = _judge(FAST, {"rl2": same})
    assert verdict.verdict == NOT_REPRODUCED and verdict.measured["rl2"]["ratio_geomean"] < 20


def test_sample_efficiency_gates_a_baseline_that_did_not_learn_or_was_still_rising():
    flat = _curve(GEOM, [-21, -19.5, -21, -21.3, -21, -20.8, -21, -21.2, -20.9, -21, -21.1, -21])
    verdict = _judge(FAST, {"rl2": flat})
    assert verdict.verdict == INCONCLUSIVE and "precondition not met: rl2 learned" in verdict.measured["rl2"]["note"]
    rising = _curve(GEOM, [-20, -19, -18, -17, -16, -15, -14, -13, -12, -11, -10, -9])
    verdict = _judge(FAST, {"maml-trpo": rising})
    assert verdict.verdict == INCONCLUSIVE and "trained to its plateau" in verdict.measured["maml-trpo"]["note"]


def test_sample_efficiency_censoring_gives_bounds():
    # PEARL never gets near the baseline's asymptote: the ratio is at most baseline steps / PEARL's budget
    stuck = _curve([1e3, 2e3, 4e3, 8e3, 1e5], [-20, -15, -12, -12, -12])
    early = _curve(GEOM, [-20, -5] + [-5] * 10)                 # baseline there at 8e4: ratio <= 8e4 / 1e5
    verdict = _judge(stuck, {"rl2": early})
    seed = verdict.measured["rl2"]["per_seed"][0]
    assert seed["kind"] == "upper bound" and seed["ratio"] == pytest.approx(8e4 / 1e5)
    assert verdict.verdict == NOT_REPRODUCED and "upper bounds" in verdict.note
    late = _curve(geom(20), [-20] * 10 + [-5] * 10)             # baseline there at 4.1e7: bound 410 > 20, says nothing
    verdict = _judge(stuck, {"rl2": late})
    assert verdict.measured["rl2"]["ratio_kind_per_seed"] == ["upper bound"] * 3
    assert verdict.verdict == INCONCLUSIVE and "upper bound" in verdict.note


def test_ratio_kinds_under_censoring():
    hit = lambda s: {"steps": s, "censored": False, "budget": 1e6}  # noqa: E731
    miss = {"steps": None, "censored": True, "budget": 1e6}
    assert pearl_claims._ratio(hit(1e3), hit(1e5)) == {"ratio": 100.0, "kind": "exact"}
    assert pearl_claims._ratio(hit(1e3), miss) == {"ratio": 1000.0, "kind": "lower bound"}
    assert pearl_claims._ratio(miss, hit(1e5)) == {"ratio": 0.1, "kind": "upper bound"}
    assert pearl_claims._ratio(miss, miss) == {"ratio": None, "kind": "unknown"}


def test_sample_efficiency_not_reproduced_by_arithmetic():
    # the baseline is at its asymptote by 1.6e5 env steps; PEARL's first evaluation is at 1e4 (its initial
    # collection), so no schedule can show more than 16x: not reproduced whatever PEARL does, and the note says why
    pearl = _curve([1e4, 2e4, 4e4], [-5, -5, -5])
    quick = _curve(GEOM, [-20, -12, -5] + [-5] * 9)            # trailing mean at the level by 1.6e5
    verdict = _judge(pearl, {"maml-trpo": quick})
    assert verdict.verdict == NOT_REPRODUCED
    assert "by arithmetic" in verdict.note and "first evaluation" in verdict.note
    assert verdict.measured["maml-trpo"]["per_seed"][0]["max_measurable_ratio"] == pytest.approx(16.0)


def test_sample_efficiency_needs_every_baseline():
    flat = _curve(GEOM, [-20] * 12)
    verdict = _judge(FAST, {"rl2": SLOW, "maml-trpo": flat})
    assert verdict.verdict == INCONCLUSIVE and verdict.measured["rl2"]["verdict"] == REPRODUCED
    assert "vs maml-trpo: inconclusive" in verdict.note


def _sparse_arm(after, before, n=25, config=None):
    """A curve whose last evaluations have success `after` after exploration and `before` on the first trajectory;
    earlier points are noise the judges must not read."""
    curve = [{"env_steps": 1000 * (i + 1), "success_by_traj": [0.9, 0.0, 0.0 if i < n - 20 else 0.0]} for i in range(n)]
    for p in curve[-20:]:
        p["success_by_traj"] = [before, (before + after) / 2, after]
    return {"curve": curve, "config": config or {"task": "sparse-point-robot", "context_source": "recent"}}


def _sparse(prob, det):
    return {"sparse-exploration": [{"task": "sparse-point-robot", "probabilistic": _sparse_arm(*p),
                                    "deterministic": _sparse_arm(*d)} for p, d in zip(prob, det)]}


def test_sparse_judges_read_the_mean_of_the_last_evaluations():
    good = _sparse([(0.30, 0.05), (0.26, 0.08), (0.24, 0.06)], [(0.05, 0.0), (0.07, 0.0), (0.03, 0.0)])
    for judge in (pearl_claims.judge_posterior_sampling, pearl_claims.judge_deterministic_fails):
        verdict = judge(good)
        assert verdict.verdict == REPRODUCED, verdict.note
        assert verdict.measured["prob_success_after_exploration"]["mean"] == pytest.approx(0.8 / 3)
        assert verdict.measured["prob_gain_over_first_traj"]["mean"] == pytest.approx((0.25 + 0.18 + 0.18) / 3)
    # deterministic z close behind: the probabilistic agent is better, but the point estimate still solves a lot
    close = _sparse([(0.30, 0.05), (0.26, 0.08), (0.24, 0.06)], [(0.20, 0.0), (0.17, 0.0), (0.15, 0.0)])
    assert pearl_claims.judge_posterior_sampling(close).verdict == REPRODUCED
    assert pearl_claims.judge_deterministic_fails(close).verdict == NOT_REPRODUCED


def test_sparse_gate_needs_exploration_to_help_by_the_margin():
    # success after exploration only 0.05 above the first trajectory (< the 0.10 margin): no verdict either way
    weak = _sparse([(0.30, 0.25), (0.26, 0.21), (0.24, 0.19)], [(0.05, 0.0), (0.07, 0.0), (0.03, 0.0)])
    for judge in (pearl_claims.judge_posterior_sampling, pearl_claims.judge_deterministic_fails):
        verdict = judge(weak)
        assert verdict.verdict == INCONCLUSIVE and "learned the sparse task" in verdict.note
        assert verdict.measured["prob_gain_over_first_traj"]["mean"] == pytest.approx(0.05)


def test_recent_context_judge_pairs_with_the_sparse_probabilistic_arm():
    sparse = _sparse([(0.30, 0.05), (0.26, 0.08), (0.24, 0.06)], [(0.05, 0.0)] * 3)
    whole = {"task": "sparse-point-robot", "whole-buffer": _sparse_arm(
        0.1, 0.05, config={"task": "sparse-point-robot", "context_source": "whole-buffer"})}
    verdict = pearl_claims.judge_recent_context({**sparse, "context-sampling": [whole] * 3})
    assert verdict.verdict == REPRODUCED
    assert verdict.measured["recent_final"]["mean"] == pytest.approx(0.8 / 3)
    # a different config (here: another task) is not a pair
    other = {"task": "sparse-point-robot", "whole-buffer": _sparse_arm(
        0.1, 0.05, config={"task": "point-robot", "context_source": "whole-buffer"})}
    verdict = pearl_claims.judge_recent_context({**sparse, "context-sampling": [other] * 3})
    assert verdict.verdict == INCONCLUSIVE and "no recent-context arm" in verdict.note


def test_sparse_summary_plot_cuts_the_seeds_to_their_common_schedule(tmp_path):
    from paperlab.rl.pearl.plots import summary_plots
    from paperlab.rl.pearl.results import sparse_success_curves

    def arm(success):
        return {"curve": [{"env_steps": 1000 * (i + 1), "success_by_traj": [0.0, s]} for i, s in enumerate(success)]}
    prob = [[0.1, 0.3, 0.5], [0.1, 0.2], [0.0, 0.3, 0.4]]  # seed 1 stopped early
    runs = [{"task": "sparse-point-robot", "probabilistic": arm(p), "deterministic": arm([0.0, 0.1, 0.0])}
            for p in prob]
    steps, success = sparse_success_curves(runs, "probabilistic")
    assert steps.tolist() == [1000, 2000] and success.tolist() == [[0.1, 0.3], [0.1, 0.2], [0.0, 0.3]]
    paths = summary_plots({"sparse-exploration": runs}, tmp_path)
    # only the sparse plot: there are no sample-efficiency results
    assert [p.name for p in paths] == ["sparse_success_seeds.png"]
    assert paths[0].stat().st_size > 1000
    assert summary_plots({}, tmp_path / "none") == []


def test_context_probe_summary_plot(tmp_path):
    from paperlab.rl.pearl.plots import summary_plots

    def arm(probe):
        return {"curve": [{"env_steps": 1000, "final_return": -12.0}],
                "context_probe": {"n_context_trajs": [1, 2, 5, 10], "return": probe, "success": [0.0] * 4}}
    runs = [{"task": "point-robot", "pearl": arm([-15.0, -11.0, -8.0, -7.0]),
             "pearl-trajectory-context": arm([-12.0, -10.0, -9.0, -9.0])} for _ in range(3)]
    paths = summary_plots({"sample-efficiency": runs}, tmp_path)
    assert [p.name for p in paths] == ["sample_efficiency_seeds.png", "context_probe.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
