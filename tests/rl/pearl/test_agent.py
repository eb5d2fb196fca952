"""The batched meta-batch update equals the per-task Python loop (the authors' structure) exactly."""

import copy

import pytest
import torch

from paperlab.rl.pearl.agent import LearnerSettings, PEARLLearner
from paperlab.rl.pearl.reference import per_task_reference


def _batch(T, B, obs_dim, act_dim, g):
    return {"obs": torch.randn(T, B, obs_dim, generator=g), "actions": torch.rand(T, B, act_dim, generator=g) * 2 - 1,
            "rewards": torch.randn(T, B, 1, generator=g), "next_obs": torch.randn(T, B, obs_dim, generator=g),
            "terminals": (torch.rand(T, B, 1, generator=g) < 0.1).float(),
            "ctx_rewards": torch.randn(T, B, 1, generator=g)}


@pytest.mark.parametrize("encoder,probabilistic", [("mlp", True), ("mlp", False), ("rnn", True)])
def test_batched_update_matches_per_task_loop(encoder, probabilistic):
    torch.manual_seed(0)
    obs_dim, act_dim, T, B, N = 3, 2, 4, 16, 8
    settings = LearnerSettings(hidden=(32, 32), encoder_hidden=(16, 16), encoder=encoder, probabilistic=probabilistic,
                               reward_scale=5.0)
    a = PEARLLearner(obs_dim, act_dim, obs_dim + act_dim + 1, settings)
    for net in (a.encoder, a.policy, a.qf, a.vf, a.target_vf):
        net.double()
    a.optimizers = {n: torch.optim.Adam(getattr(a, n).parameters(), lr=1e-3) for n in a.optimizers}
    b = per_task_reference(a)
    g = torch.Generator().manual_seed(1)
    batch = {k: v.double() for k, v in _batch(T, B, obs_dim, act_dim, g).items()}
    context = torch.randn(T, N, obs_dim + act_dim + 1, generator=g, dtype=torch.float64)
    noise = {k: v.double() for k, v in a.make_noise(T, B, generator=g).items()}
    for _ in range(2):  # two steps: the second one also checks the optimiser states agree
        la = a.update(batch, context, noise)
        lb = b.update(batch, context, noise)
        for key in la:
            assert la[key] == pytest.approx(lb[key], rel=1e-10, abs=1e-12), key
    for name in ("encoder", "policy", "qf", "vf", "target_vf"):
        for pa, pb in zip(getattr(a, name).parameters(), getattr(b, name).parameters()):
            torch.testing.assert_close(pa, pb, rtol=1e-9, atol=1e-11)
    if probabilistic:
        assert la["kl"] > 0
    else:
        assert la["kl"] == 0.0


def test_encoder_learns_only_from_critic_and_kl():
    torch.manual_seed(0)
    learner = PEARLLearner(3, 2, 6, LearnerSettings(hidden=(16,), encoder_hidden=(8,)))
    g = torch.Generator().manual_seed(0)
    batch = _batch(2, 8, 3, 2, g)
    context = torch.randn(2, 5, 6, generator=g)
    noise = learner.make_noise(2, 8, generator=g)
    terms = learner.critic_losses(batch, context, noise)
    actor = learner.actor_losses(terms)
    grads = torch.autograd.grad(actor["vf_loss"] + actor["policy_loss"], list(learner.encoder.parameters()),
                                allow_unused=True)
    assert all(g is None for g in grads)  # z is detached for the policy and V
    grads = torch.autograd.grad(terms["qf_loss"], list(learner.encoder.parameters()))
    assert any(g.abs().sum() > 0 for g in grads)


def test_frozen_q_in_step_two_changes_nothing(monkeypatch):
    """Step 2 skips Q's weight gradients (it never uses them): every parameter stays bit for bit the same."""
    import contextlib

    import paperlab.rl.pearl.agent as agent_module

    states = []
    for freeze in (True, False):
        if not freeze:
            monkeypatch.setattr(agent_module, "frozen", lambda *m: contextlib.nullcontext())
        torch.manual_seed(0)
        learner = PEARLLearner(3, 2, 6, LearnerSettings(hidden=(16, 16), encoder_hidden=(8,)))
        g = torch.Generator().manual_seed(0)
        batch, context = _batch(2, 8, 3, 2, g), torch.randn(2, 5, 6, generator=g)
        for _ in range(2):
            learner.update(batch, context, learner.make_noise(2, 8, generator=g))
        states.append(learner.state_dict()["nets"])
    for name, params in states[0].items():
        assert all(torch.equal(params[k], states[1][name][k]) for k in params), name
    assert all(p.requires_grad for p in learner.qf.parameters())
