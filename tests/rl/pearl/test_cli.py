"""Every PEARL experiment end to end at scale tiny through the CLI, plus the judges on synthetic results."""

import json

import pytest

from paperlab.cli import main
from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from paperlab.rl.pearl import paper as pearl_paper

EXPERIMENTS = ["sample-efficiency", "sparse-exploration", "encoder-ablation", "context-sampling"]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_runs_at_tiny_scale(tmp_path, experiment):
    rc = main(["run", "pearl", experiment, "--scale", "tiny", "--seed", "0", "--out", str(tmp_path)])
    assert rc in (0, None)
    results = list(tmp_path.rglob("results.json"))
    assert len(results) == 1
    data = json.loads(results[0].read_text())
    data = data.get("results", data)
    arms = [k for k in data if isinstance(data[k], dict) and "curve" in data[k]]
    assert arms, data.keys()
    for arm in arms:
        curve = data[arm]["curve"]
        assert curve and curve[-1]["env_steps"] > 0
        assert all(isinstance(p["final_return"], float) for p in curve)
    assert list(tmp_path.rglob("*.png"))


def _curve(steps, returns):
    return [{"env_steps": s, "final_return": r} for s, r in zip(steps, returns)]


def test_sample_efficiency_judge():
    fast = _curve([1e3, 2e3, 4e3, 8e3], [-20, -10, -5, -5])
    slow = _curve([1e4, 1e5, 1e6], [-20, -20, -4])          # needs ~1e6 steps: ratio ~ 250x
    runs = [{"task": "t", "pearl": {"curve": fast}, "rl2": {"curve": slow, "env_steps": 1e6}} for _ in range(3)]
    assert pearl_paper.judge_sample_efficiency({"sample-efficiency": runs}).verdict == REPRODUCED
    never = _curve([1e4, 1e5], [-20, -19])
    runs = [{"task": "t", "pearl": {"curve": fast}, "rl2": {"curve": never, "env_steps": 2e4}} for _ in range(3)]
    verdict = pearl_paper.judge_sample_efficiency({"sample-efficiency": runs})
    assert verdict.verdict == INCONCLUSIVE and all(verdict.measured["rl2_censored_per_seed"])
    same = _curve([1e3, 2e3, 4e3, 8e3], [-20, -10, -5, -5])
    runs = [{"task": "t", "pearl": {"curve": fast}, "rl2": {"curve": same, "env_steps": 8e3}} for _ in range(3)]
    assert pearl_paper.judge_sample_efficiency({"sample-efficiency": runs}).verdict == NOT_REPRODUCED


def test_sparse_judges_follow_the_success_rates():
    def run(prob, det):
        return {"probabilistic": {"final_success_by_traj": prob}, "deterministic": {"final_success_by_traj": det}}
    good = {"sparse-exploration": [run([0.1, 0.6, 0.8], [0.1, 0.1, 0.1]), run([0.2, 0.7, 0.9], [0.0, 0.1, 0.2]),
                                   run([0.1, 0.5, 0.7], [0.1, 0.0, 0.1])]}
    assert pearl_paper.judge_posterior_sampling(good).verdict == REPRODUCED
    assert pearl_paper.judge_deterministic_fails(good).verdict == REPRODUCED
    flat = {"sparse-exploration": [run([0.3, 0.3, 0.3], [0.3, 0.4, 0.5]), run([0.5, 0.2, 0.1], [0.2, 0.3, 0.3]),
                                   run([0.1, 0.1, 0.2], [0.1, 0.2, 0.3])]}
    assert pearl_paper.judge_posterior_sampling(flat).verdict != REPRODUCED
    # the probabilistic agent never solves the task here: no verdict either way
    assert pearl_paper.judge_deterministic_fails(flat).verdict == INCONCLUSIVE
