"""The batched meta-batch update equals the per-task Python loop (the authors' structure) exactly."""


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


class _PolicyForwardInStepOne(PEARLLearner):
    """The update before issue 31: the policy and V forward ran inside critic_losses, before step 1's optimiser
    step (a straight copy of that program, kept here only to pin the refactor's numbers)."""

    def critic_losses(self, batch, context, noise):
        from paperlab.rl.common.networks import gaussian_log_prob, tanh_log_det_jacobian
        from paperlab.rl.pearl.encoder import kl_to_standard_normal, sample_latent

        s = self.s
        obs, act = batch["obs"], batch["actions"]
        T, B = obs.shape[:2]
        mean, var = self.encoder(context)
        z_b = sample_latent(mean, var, noise["z"])[:, None, :].expand(T, B, self.latent_dim)
        z_d = z_b.detach()
        p_mean, p_log_std = self.policy(torch.cat([obs, z_d], dim=-1))
        pre_tanh = p_mean + noise["action"] * p_log_std.exp()
        log_pi = gaussian_log_prob(pre_tanh, p_mean, p_log_std) - tanh_log_det_jacobian(pre_tanh)
        q_pred = self.qf(torch.cat([obs, act, z_b], dim=-1).reshape(T * B, -1)).view(2, T, B)
        v_pred = self.vf(torch.cat([obs, z_d], dim=-1)).squeeze(-1)
        with torch.no_grad():
            target_v = self.target_vf(torch.cat([batch["next_obs"], z_b], dim=-1)).squeeze(-1)
            q_target = (s.reward_scale * batch["rewards"].squeeze(-1)
                        + (1.0 - batch["terminals"].squeeze(-1)) * s.discount * target_v)
        qf_loss = ((q_pred - q_target) ** 2).mean(dim=(1, 2)).sum()
        kl = kl_to_standard_normal(mean, var) if s.probabilistic else torch.zeros(())
        return {"qf_loss": qf_loss, "kl": kl, "z": z_d, "obs": obs, "new_actions": torch.tanh(pre_tanh),
                "log_pi": log_pi, "p_mean": p_mean, "p_log_std": p_log_std, "v_pred": v_pred}

    def actor_losses(self, t):
        s = self.s
        T, B = t["obs"].shape[:2]
        x = torch.cat([t["obs"], t["new_actions"], t["z"]], dim=-1).reshape(T * B, -1)
        min_q = self.qf(x).view(2, T, B).min(dim=0).values
        vf_loss = ((t["v_pred"] - (min_q - t["log_pi"]).detach()) ** 2).mean()
        policy_loss = ((t["log_pi"] - min_q).mean() + s.policy_mean_reg * t["p_mean"].pow(2).mean()
                       + s.policy_std_reg * t["p_log_std"].pow(2).mean())
        return {"vf_loss": vf_loss, "policy_loss": policy_loss}


@pytest.mark.parametrize("probabilistic", [True, False])
def test_critic_loss_computes_no_actor_terms_and_the_update_is_unchanged(probabilistic):
    states, losses = [], []
    for cls in (PEARLLearner, _PolicyForwardInStepOne):
        torch.manual_seed(0)
        learner = cls(3, 2, 6, LearnerSettings(hidden=(16, 16), encoder_hidden=(8,), probabilistic=probabilistic))
        g = torch.Generator().manual_seed(0)
        batch, context = _batch(2, 8, 3, 2, g), torch.randn(2, 5, 6, generator=g)
        for _ in range(3):
            losses.append(learner.update(batch, context, learner.make_noise(2, 8, generator=g)))
        states.append(learner.state_dict()["nets"])
    for name, params in states[0].items():  # bit for bit: the refactor moved code, not arithmetic
        assert all(torch.equal(params[k], states[1][name][k]) for k in params), name
    assert losses[:3] == losses[3:]
    # the critic loss runs neither the policy nor V
    calls = []
    for net in (learner.policy, learner.vf):
        net.register_forward_hook(lambda *args: calls.append(1))
    PEARLLearner.critic_losses(learner, batch, context, learner.make_noise(2, 8, generator=g))
    assert calls == []
