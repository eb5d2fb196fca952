"""Low-noise evaluation (curve points averaged over evaluation seeds, judged scores over the last N points),
the authors' evaluation protocol beside the paper's, the context probe and whole-trajectory training context."""

import numpy as np
import pytest
import torch

from paperlab.rl.pearl.config import PEARLConfig
from paperlab.rl.pearl.results import judged_score, previous_score, smoothed
from paperlab.rl.pearl.trainer import PEARLTrainer, summarize_evaluations

TINY = dict(preset="cpu", n_train_tasks=4, n_test_tasks=3, num_tasks_sample=2, num_iterations=2,
            num_initial_steps=20, num_steps_prior=40, num_steps_posterior=20, num_extra_rl_steps_posterior=20,
            num_train_steps_per_itr=2, hidden=(8,), encoder_hidden=(8,), meta_batch=2, batch_size=8,
            embedding_batch_size=8)


def _trained(**overrides) -> PEARLTrainer:
    torch.manual_seed(0)
    trainer = PEARLTrainer(PEARLConfig(**{**TINY, **overrides}), seed=0)
    trainer.train_iteration()
    return trainer


def test_summarize_evaluations_averages_passes_and_keeps_each():
    a = {"returns": np.array([[1.0, 2.0], [3.0, 4.0]]), "success": np.array([[0, 1], [0, 0]], dtype=bool)}
    b = {"returns": np.array([[5.0, 6.0], [7.0, 8.0]]), "success": np.array([[1, 1], [0, 1]], dtype=bool)}
    point = summarize_evaluations([a, b])
    assert point["final_return"] == pytest.approx(np.mean([2, 4, 6, 8]))
    assert point["return_by_traj"] == pytest.approx([4.0, 5.0])
    assert point["success_by_traj"] == pytest.approx([0.25, 0.75])
    assert point["final_return_by_eval_seed"] == pytest.approx([3.0, 7.0])
    assert point["success_last_by_eval_seed"] == pytest.approx([0.5, 1.0])


def test_curve_point_is_the_mean_of_its_evaluation_seeds_and_leaves_training_rng_alone():
    trainer = _trained(task="point-robot", eval_seeds=3)
    seeds = trainer.evaluation_seeds()
    assert len(set(seeds)) == 3 and seeds[0] == trainer.iteration  # seed 0 is the old single evaluation seed
    rng_before = torch.get_rng_state()
    point = trainer.evaluate_point()
    assert torch.equal(torch.get_rng_state(), rng_before)  # evaluation noise comes from its own generators
    passes = [trainer.evaluate(seed=s) for s in seeds]
    assert point["final_return"] == pytest.approx(np.mean([p["returns"][:, -1].mean() for p in passes]))
    assert point["final_return_by_eval_seed"] == pytest.approx([p["returns"][:, -1].mean() for p in passes])
    assert len(set(point["final_return_by_eval_seed"])) > 1  # the passes really differ
    assert "authors" not in point  # point-robot: 1 prior trajectory, the two protocols coincide


def test_authors_protocol_keeps_the_prior_for_its_exploration_trajectories():
    trainer = _trained(task="sparse-point-robot", eval_trajs=4, num_exp_traj_eval=2, probabilistic=False)
    # deterministic z: the prior is the point z = 0, so with actions deterministic every prior trajectory is the same
    ev = trainer.evaluate(seed=5, prior_trajs=4)
    assert np.allclose(ev["returns"], ev["returns"][:, :1])
    ours, authors = trainer.evaluate(seed=5), trainer.evaluate(seed=5, prior_trajs=2)
    assert np.array_equal(ours["returns"][:, 0], authors["returns"][:, 0])  # same seed: same first trajectory
    point = trainer.evaluate_point()
    assert set(point["authors"]) == {"final_return", "return_by_traj", "success_by_traj", "final_return_by_eval_seed",
                                     "success_last_by_eval_seed"}
    assert len(point["authors"]["success_by_traj"]) == 4


def test_judged_score_is_the_mean_of_the_last_n_evaluations():
    curve = [{"env_steps": 10 * i, "final_return": float(v), "success_by_traj": [0.0, v / 10]}
             for i, v in enumerate([1, 2, 3, 4, 5, 6])]
    assert judged_score(curve, 3) == pytest.approx(5.0)
    assert judged_score(curve, 10) == pytest.approx(3.5)  # a shorter curve: all of it
    assert judged_score(curve, 2, "success_last") == pytest.approx(0.55)
    assert previous_score(curve, 3) == pytest.approx(2.0) and np.isnan(previous_score(curve, 6))
    steps, vals = smoothed(curve, window=2)
    assert vals.tolist() == [1.0, 1.5, 2.5, 3.5, 4.5, 5.5] and steps[-1] == 50
    with pytest.raises(ValueError, match="last must be >= 1"):
        judged_score(curve, 0)


def test_context_probe_reports_each_context_size_and_trains_nothing():
    trainer = _trained(task="point-robot")
    steps, params = trainer.env_steps, [p.clone() for p in trainer.learner.policy.parameters()]
    probe = trainer.context_probe((5, 1, 2, 1), seeds=(0, 1))
    assert probe["n_context_trajs"] == [1, 2, 5]
    assert len(probe["return"]) == len(probe["success"]) == 3
    assert all(np.isfinite(probe["return"])) and all(r <= 0 for r in probe["return"])  # dense point robot: -distance
    assert trainer.env_steps == steps
    assert all(torch.equal(a, b) for a, b in zip(params, trainer.learner.policy.parameters()))
    assert trainer.context_probe((1, 2), seeds=(0, 1)) == trainer.context_probe((1, 2), seeds=(0, 1))  # seeded


def test_trajectory_context_feeds_whole_trajectories():
    trainer = _trained(task="sparse-point-robot", context_shape="trajectories", context_max_trajs=3)
    horizon = trainer.horizon
    lengths = set()
    for _ in range(20):
        context = trainer.context_batch(np.array([0, 1]))
        n = context.shape[1]
        lengths.add(n)
        assert n % horizon == 0
        # every trajectory starts at the origin (sparse point robot): the obs of each block's first step is 0
        starts = context[:, ::horizon, :2]
        assert torch.all(starts == 0)
    assert lengths <= {horizon, 2 * horizon, 3 * horizon} and len(lengths) > 1
    plain = _trained(task="sparse-point-robot")
    assert plain.context_batch(np.array([0, 1])).shape[1] == TINY["embedding_batch_size"]


def test_bad_context_shape_is_refused():
    with pytest.raises(ValueError, match="context_shape"):
        PEARLTrainer(PEARLConfig(**TINY, context_shape="whole"), seed=0)
