"""MAML-TRPO's math: the inner step, the TRPO step's KL bound, conjugate gradient, the linear baseline."""

import math

import numpy as np
import pytest
import torch

from paperlab.rl.pearl.maml import (GaussianMLP, MAMLSettings, MAMLTrainer, MAMLTRPO, ProMP, ProMPSettings,
                                    conjugate_gradient,
                                    discounted_returns, fit_linear_baseline,
                                    linear_baseline_advantages, linear_baseline_features)


def _batch(M, N, obs_dim, act_dim, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = (torch.rand(M, N, generator=g) > 0.2).float()
    return {"obs": torch.randn(M, N, obs_dim, generator=g, dtype=torch.float64),
            "actions": torch.randn(M, N, act_dim, generator=g, dtype=torch.float64),
            "adv": torch.randn(M, N, generator=g, dtype=torch.float64), "mask": mask.double()}


def test_inner_step_equals_hand_computed_policy_gradient_step():
    # linear Gaussian policy mu = W^T s + b, log std l: d log pi / dW = s ((a - mu) / sigma^2)^T,
    # d/db = (a - mu) / sigma^2, d/dl = ((a - mu)^2 / sigma^2 - 1); theta' = theta + alpha * mean_t A_t * those
    obs_dim, act_dim, M, N = 3, 2, 4, 50
    learner = MAMLTRPO(obs_dim, act_dim, MAMLSettings(hidden=(), fast_lr=0.3))
    theta = torch.randn(learner.policy.n_params, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    batch = _batch(M, N, obs_dim, act_dim)
    adapted = learner.adapt(theta, batch)
    W = theta[: obs_dim * act_dim].reshape(obs_dim, act_dim)
    b = theta[obs_dim * act_dim: obs_dim * act_dim + act_dim]
    log_std = theta[-act_dim:]
    for i in range(M):
        s, a, A, m = batch["obs"][i], batch["actions"][i], batch["adv"][i], batch["mask"][i]
        w = (A * m / m.sum())[:, None]                            # masked mean over the task's steps
        err = (a - (s @ W + b)) / torch.exp(2 * log_std)          # (N, act)
        gW = s.T @ (w * err)
        gb = (w * err).sum(0)
        gl = (w * (err * (a - (s @ W + b)) - 1.0)).sum(0)
        expected = theta + 0.3 * torch.cat([gW.reshape(-1), gb, gl])
        torch.testing.assert_close(adapted[i], expected)


def test_inner_step_of_a_task_ignores_the_other_tasks():
    learner = MAMLTRPO(3, 2, MAMLSettings(hidden=(8,)))
    theta = learner.theta.double()
    batch = _batch(3, 20, 3, 2, seed=1)
    alone = learner.adapt(theta, {k: v[1:2] for k, v in batch.items()})
    torch.testing.assert_close(learner.adapt(theta, batch)[1], alone[0])


def test_conjugate_gradient_solves_a_small_spd_system():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(6, 6, generator=g, dtype=torch.float64)
    F = A @ A.T + 0.5 * torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, generator=g, dtype=torch.float64)
    x = conjugate_gradient(lambda v: F @ v, b, iters=6)  # exact in n steps for an n x n SPD system
    torch.testing.assert_close(x, torch.linalg.solve(F, b))


def _trained_batches(seed=0, max_kl=0.01):
    torch.manual_seed(seed)
    s = MAMLSettings(hidden=(16, 16), meta_batch_size=6, fast_batch_size=5, max_kl=max_kl)
    tr = MAMLTrainer("point-robot", 6, 2, s, seed=seed)
    learner = tr.learner
    tasks = tr.train_tasks
    rows = learner.theta.expand(len(tasks), -1)
    pre = tr.batch(tr.rollouts(tasks, rows, False, seed=1), rows)
    adapted = learner.adapt(learner.theta, pre).detach()
    post = tr.batch(tr.rollouts(tasks, adapted, False, seed=2), adapted)
    return tr, pre, post


@pytest.mark.parametrize("max_kl", [0.01, 0.001])
def test_trpo_step_respects_the_kl_bound_and_improves_the_surrogate(max_kl):
    tr, pre, post = _trained_batches(max_kl=max_kl)
    learner = tr.learner
    old = learner.old_policy(pre, post)
    before = learner.theta.clone()
    stats = learner.trpo_step(pre, post)
    assert stats["accepted"]
    with torch.no_grad():
        surr_new, kl_new = learner.surrogate_and_kl(learner.theta, pre, post, old)
        surr_old, kl_old = learner.surrogate_and_kl(before, pre, post, old)
    assert float(kl_old) == pytest.approx(0.0, abs=1e-10)   # the old policy's own KL
    assert 0.0 < float(kl_new) <= max_kl
    assert float(surr_new) > float(surr_old)
    assert not torch.equal(learner.theta, before)


def test_linear_baseline_fits_returns_that_are_linear_in_its_features():
    rng = np.random.default_rng(0)
    M, K, H, d = 2, 4, 10, 2
    obs = rng.normal(size=(M, K, H, d))
    valid = np.ones((M, K, H), dtype=bool)
    feats = linear_baseline_features(obs)
    assert feats.shape == (M, K, H, 2 * d + 4)
    assert np.allclose(feats[..., -1], 1.0) and np.allclose(feats[0, 0, :, 2 * d], np.arange(H) / 100)
    # rewards chosen so that the return-to-go equals w . features: the advantages vanish
    w = rng.normal(size=(M, 2 * d + 4))
    target = np.einsum("mkhf,mf->mkh", feats, w)
    rewards = target - 0.9 * np.concatenate([target[..., 1:], np.zeros((M, K, 1))], axis=-1)
    np.testing.assert_allclose(discounted_returns(rewards, valid, 0.9), target, atol=1e-10)
    np.testing.assert_allclose(fit_linear_baseline(obs, target, valid, reg=1e-10), target, atol=1e-6)
    # advantages are centred and scaled per task over the valid steps
    adv = linear_baseline_advantages(obs, rng.normal(size=(M, K, H)), valid, 0.9)
    np.testing.assert_allclose(adv.reshape(M, -1).mean(1), 0, atol=1e-10)
    np.testing.assert_allclose(adv.reshape(M, -1).std(1), 1, atol=1e-6)


def test_gaussian_mlp_log_prob_matches_torch_distributions():
    pol = GaussianMLP(3, 2, (5,))
    theta = pol.init(torch.Generator().manual_seed(0))
    theta[-2:] = torch.tensor([0.3, -0.2])
    params = theta.expand(2, -1)
    obs, act = torch.randn(2, 7, 3), torch.randn(2, 7, 2)
    mean, log_std = pol.forward(params, obs)
    ref = torch.distributions.Normal(mean, log_std.exp().expand_as(mean)).log_prob(act).sum(-1)
    torch.testing.assert_close(pol.log_prob(params, obs, act), ref)
    assert math.isclose(float(log_std[0, 0, 0]), 0.3, rel_tol=1e-6)


def test_training_iteration_counts_pre_and_post_update_steps():
    tr = MAMLTrainer("point-robot", 4, 2, MAMLSettings(hidden=(8,), meta_batch_size=3, fast_batch_size=2), seed=0)
    tr.train_iteration()
    assert tr.env_steps == 2 * 3 * 2 * tr.family.horizon
    ev = tr.evaluate()
    assert ev["returns"].shape == (2, 2)


@pytest.mark.parametrize("settings", [MAMLSettings, ProMPSettings])
def test_maml_resumes_exactly_from_a_checkpoint(settings):
    s = settings(hidden=(8,), meta_batch_size=2, fast_batch_size=2)
    per_iter = 2 * 2 * 2 * 20
    straight = MAMLTrainer("point-robot", 4, 2, s, seed=0)
    straight.train(4 * per_iter, per_iter)
    saved = {}

    def crash(tr, point):
        saved["state"] = tr.state_dict()
        if len(tr.curve) == 2:
            raise RuntimeError("interrupted")

    first = MAMLTrainer("point-robot", 4, 2, s, seed=0)
    with pytest.raises(RuntimeError):
        first.train(4 * per_iter, per_iter, crash)
    resumed = MAMLTrainer("point-robot", 4, 2, s, seed=5)
    resumed.load_state_dict(saved["state"])
    resumed.train(4 * per_iter, per_iter)
    assert resumed.curve == straight.curve
    torch.testing.assert_close(resumed.learner.theta, straight.learner.theta)


def test_promp_inner_step_at_the_sampling_policy_equals_the_policy_gradient_step():
    # ProMP's inner objective is the likelihood ratio to the sampling policy: same first-order step as MAML's
    obs_dim, act_dim = 3, 2
    maml = MAMLTRPO(obs_dim, act_dim, MAMLSettings(hidden=(6,), fast_lr=0.1))
    promp = ProMP(obs_dim, act_dim, ProMPSettings(hidden=(6,), activation="relu", fast_lr=0.1))
    theta = maml.theta.double()
    batch = _batch(3, 40, obs_dim, act_dim)
    batch["logp"] = maml.policy.log_prob(theta.expand(3, -1), batch["obs"], batch["actions"])
    torch.testing.assert_close(promp.adapt(theta, batch), maml.adapt(theta, batch))


def test_promp_meta_step_lowers_its_objective():
    torch.manual_seed(0)
    tr = MAMLTrainer("point-robot", 6, 2, ProMPSettings(hidden=(16, 16), meta_batch_size=6, fast_batch_size=5), seed=0)
    learner, tasks = tr.learner, tr.train_tasks
    rows = learner.theta.detach().expand(len(tasks), -1)
    pre = tr.batch(tr.rollouts(tasks, rows, False, seed=1), rows)
    adapted = learner.adapt(learner.theta.detach(), pre).detach()
    post = tr.batch(tr.rollouts(tasks, adapted, False, seed=2), adapted)
    before = learner.theta.detach().clone()
    stats = learner.meta_step(pre, post)
    assert stats["surrogate_last"] > stats["surrogate_before"]
    assert stats["inner_kl"] > 0 and not torch.equal(before, learner.theta.detach())
