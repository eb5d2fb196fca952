import numpy as np
import pytest
import torch

from paperlab.rl.bear.agents import BCQ, BEAR, BCConfig, BCQConfig, BehaviourCloning, best_of_n_action, \
    bear_config, make_bear, soft_clipped_target
from paperlab.rl.bear.behaviour import BehaviourVAE
from paperlab.rl.common.networks import QEnsemble
from paperlab.rl.common.replay import ReplayBuffer

SMALL = dict(actor_hidden=(16, 16), critic_hidden=(16, 16), vae_hidden=(16, 16), batch_size=32)


def random_buffer(n=256, obs_dim=3, act_dim=2, seed=0):
    rng = np.random.default_rng(seed)
    return ReplayBuffer.from_arrays(rng.normal(size=(n, obs_dim)), rng.uniform(-1, 1, (n, act_dim)),
                                    rng.normal(size=n), rng.normal(size=(n, obs_dim)), np.zeros(n), seed=seed)


def test_soft_clipped_target_lambda_min_max_then_max_over_samples():
    # K=2 members, B=2 states, n=3 sampled next actions per state
    q = torch.tensor([[1.0, 5.0, 2.0, 0.0, -1.0, 4.0],
                      [3.0, 1.0, 2.0, 2.0, -3.0, 0.0]])
    got = soft_clipped_target(q, lam=0.75, batch_size=2, n_samples=3)
    mixed = 0.75 * q.min(0).values + 0.25 * q.max(0).values     # [1.5, 2.0, 2.0, 0.5, -2.5, 1.0]
    torch.testing.assert_close(got, torch.tensor([2.0, 1.0]))
    torch.testing.assert_close(got, mixed.view(2, 3).max(1).values)
    torch.testing.assert_close(soft_clipped_target(q, 1.0, 2, 3), q.min(0).values.view(2, 3).max(1).values)
    torch.testing.assert_close(soft_clipped_target(q, 0.0, 2, 3), q.max(0).values.view(2, 3).max(1).values)


@pytest.mark.parametrize("eps,direction", [(1e-4, 1), (10.0, -1)])
def test_lagrange_multiplier_rises_when_constraint_violated(eps, direction):
    """Dual ascent: log alpha grows while MMD > eps and shrinks while MMD < eps (MMD here is ~0.1-1)."""
    torch.manual_seed(0)
    agent = BEAR(3, 2, bear_config(**SMALL, epsilon=eps, initial_log_alpha=0.0, warmup_steps=0))
    buf = random_buffer()
    for _ in range(5):
        agent.update(buf.sample(32))
    assert direction * agent.log_alpha.item() > 0
    low, high = agent.cfg.log_alpha_bounds
    assert low <= agent.log_alpha.item() <= high


def test_log_alpha_is_clamped():
    agent = BEAR(3, 2, bear_config(**SMALL, epsilon=-1.0, initial_log_alpha=9.999, lagrange_lr=1.0,
                                   log_alpha_bounds=(-5.0, 10.0)))
    agent.update(random_buffer().sample(32))
    assert agent.log_alpha.item() == pytest.approx(10.0)


def test_warm_start_actor_ignores_q():
    """During warm start the actor minimises alpha * MMD only: its update must not depend on the critic."""
    buf = random_buffer()
    batch = buf.sample(32)
    grads = []
    for scale in (1.0, 1000.0):
        torch.manual_seed(0)
        agent = BEAR(3, 2, bear_config(**SMALL, warmup_steps=10, initial_log_alpha=0.0))
        with torch.no_grad():
            for p in agent.critic.parameters():
                p.mul_(scale)
        torch.manual_seed(1)
        agent.update(batch)
        grads.append([p.detach().clone() for p in agent.actor.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


def test_vae_reconstructs_bimodal_actions():
    """Behaviour: a = +0.6 or -0.6 at random (bimodal), independent of state. Decoded samples with clipped latents
    must land near the two modes, not at the mean 0."""
    torch.manual_seed(0)
    n = 512
    obs = torch.randn(n, 2)
    actions = torch.where(torch.rand(n, 1) < 0.5, 0.6, -0.6)
    vae = BehaviourVAE(2, 1, hidden=(64, 64))
    opt = torch.optim.Adam(vae.parameters(), lr=3e-3)
    for _ in range(400):
        idx = torch.randint(0, n, (128,))
        loss = vae.loss(obs[idx], actions[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        corners = torch.tensor([[-0.5, -0.5], [0.5, 0.5]])    # opposite corners of the clipped latent box
        decoded = torch.tanh(vae.decode_pre_tanh(torch.zeros(2, 2), corners))
        samples, raw = vae.sample_n(obs[:64], 20)
    assert samples.shape == (64, 20, 1) and torch.allclose(samples, torch.tanh(raw))
    dist_to_mode = (samples.abs() - 0.6).abs()
    assert float(dist_to_mode.median()) < 0.25                    # samples sit near a mode
    assert float((samples > 0).float().mean()) > 0.15 and float((samples < 0).float().mean()) > 0.15
    assert float(decoded[0] * decoded[1]) < 0                     # the latent chooses the mode


def test_best_of_n_uses_first_q_member():
    q = QEnsemble(1, 1, n_members=2, hidden=(4,))
    with torch.no_grad():   # Q_1(s, a) = a, Q_2(s, a) = -a
        for layer in q.net.layers:
            layer.weight.zero_()
            layer.bias.zero_()
        q.net.layers[0].weight[:, 1, 0] = 1.0
        q.net.layers[1].weight[0, 0, 0], q.net.layers[1].weight[1, 0, 0] = 1.0, -1.0
    chosen = best_of_n_action(q, torch.zeros(1, 1), torch.tensor([[0.1], [0.7], [0.3]]))
    assert float(chosen) == pytest.approx(0.7)


def test_agents_update_and_act():
    buf = random_buffer()
    for agent in (BEAR(3, 2, bear_config(**SMALL, warmup_steps=1)),
                  BEAR(3, 2, bear_config(**SMALL, constraint="kl", warmup_steps=1)),
                  make_bear(3, 2, bear_config("d3rlpy", **SMALL, warmup_steps=1)),
                  BCQ(3, 2, BCQConfig(actor_hidden=(16,), critic_hidden=(16,), vae_hidden=(16,), batch_size=32)),
                  BehaviourCloning(3, 2, BCConfig(hidden=(16,), batch_size=32))):
        for _ in range(3):
            metrics = agent.update(buf.sample(32))
        assert all(np.isfinite(v) for v in metrics.values())
        action = agent.act(np.zeros(3, np.float32))
        assert action.shape == (2,) and np.all(np.abs(action) <= 1)


def test_soft_clipped_target_subtracts_penalty_at_the_chosen_action():
    q = torch.tensor([[1.0, 5.0, 2.0, 0.0, -1.0, 4.0],
                      [3.0, 1.0, 2.0, 2.0, -3.0, 0.0]])   # mixed (lam 0.75): [1.5, 2.0, 2.0 | 0.5, -2.5, 1.0]
    penalty = torch.tensor([10.0, 0.5, 7.0, 3.0, 4.0, 0.25])
    # chosen by Q alone (first max: index 1 in state 0, index 2 in state 1), then its penalty is subtracted
    torch.testing.assert_close(soft_clipped_target(q, 0.75, 2, 3, penalty), torch.tensor([2.0 - 0.5, 1.0 - 0.25]))


def test_d3rlpy_preset_target_uses_current_policy_minus_temperature_log_pi():
    """d3rlpy 2.8.1 BEARImpl.compute_target: n actions from the *current* policy at s', soft-clipped max, minus
    temperature * log pi of the chosen action; the target actor plays no part."""
    torch.manual_seed(0)
    agent = make_bear(3, 2, bear_config("d3rlpy", **SMALL, entropy_temperature=0.3))
    with torch.no_grad():
        for p in agent.actor_target.parameters():
            p.add_(torch.randn_like(p) * 5)            # a scrambled target actor must not matter
    next_obs = torch.randn(4, 3)
    torch.manual_seed(1)
    actions, penalty = agent._target_actions(next_obs)
    torch.manual_seed(1)
    expected_a, log_prob, _ = agent.actor.sample_n(next_obs, agent.cfg.n_target_samples)
    torch.testing.assert_close(actions, expected_a.reshape(-1, 2))
    torch.testing.assert_close(penalty, 0.3 * log_prob.reshape(-1))
    authors = BEAR(3, 2, bear_config(**SMALL))
    assert not isinstance(authors._target_actions(next_obs), tuple)   # authors: target actor, no penalty


def test_d3rlpy_preset_matches_its_reproduction_script():
    """reproductions/offline/bear.py of d3rlpy 2.8.1: entropy term off (temperature 1e-20, lr 0), alpha not updated
    during the warm start, then updated (d3rlpy's alpha optimiser uses the actor lr 1e-4)."""
    d3 = bear_config("d3rlpy")
    assert (d3.batch_size, d3.n_mmd_samples, d3.mmd_sigma, d3.warmup_steps) == (256, 4, 20.0, 40_000)
    assert (d3.actor_lr, d3.critic_lr, d3.vae_lr, d3.lagrange_lr) == (1e-4, 3e-4, 3e-4, 1e-4)
    assert (d3.entropy_temperature, d3.temperature_lr, d3.target_policy) == (1e-20, 0.0, "current")
    assert (d3.vae_hidden, d3.n_eval_samples, d3.initial_log_alpha, d3.epsilon) == ((750, 750), 100, 0.0, 0.05)
    torch.manual_seed(0)
    agent = make_bear(3, 2, bear_config("d3rlpy", **SMALL, warmup_steps=3))
    buf = random_buffer()
    for _ in range(3):
        agent.update(buf.sample(32))
    assert agent.log_alpha.item() == 0.0                      # frozen during the warm start
    agent.update(buf.sample(32))
    assert agent.log_alpha.item() != 0.0
    assert agent.log_temperature.exp().item() == pytest.approx(1e-20)   # lr 0: never learned


def test_presets_and_config_validation():
    paper = bear_config()
    assert (paper.n_critics, paper.lam, paper.n_target_samples, paper.threshold) == (2, 0.75, 10, 0.05)
    assert bear_config(constraint="kl").threshold == -2.0
    with pytest.raises(ValueError, match="preset"):
        bear_config("nope")
    with pytest.raises(ValueError, match="kernel"):
        bear_config(kernel="cosine")
    with pytest.raises(ValueError, match="target_policy"):
        bear_config(target_policy="online")


def test_actor_density_reuses_the_forward_and_equals_log_prob():
    """log pi of the MMD samples from the sampling forward == a second ``actor.log_prob`` pass, with gradients."""
    agent = make_bear(3, 2, bear_config("d3rlpy", **SMALL, warmup_steps=0))
    obs = torch.randn(32, 3)
    results = []
    for reuse in (True, False):
        torch.manual_seed(3)
        agent.actor.zero_grad(set_to_none=True)
        _, raw, logp = agent._actor_samples(obs, 4)          # per-state mean of log pi over the 4 samples
        logp = logp if reuse else agent.actor.log_prob(obs.unsqueeze(1).expand(32, 4, 3), raw).mean(1)
        logp.square().mean().backward()
        results.append([logp.detach()] + [p.grad for p in agent.actor.parameters()])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_frozen_critic_in_the_actor_step_changes_nothing(monkeypatch):
    """Skipping the critic weight gradients in the actor step leaves every parameter bit for bit the same."""
    import contextlib

    import paperlab.rl.bear.agents as agents

    batches = [random_buffer(seed=s).sample(32) for s in range(3)]
    states = []
    for freeze in (True, False):
        if not freeze:
            monkeypatch.setattr(agents, "frozen", lambda *m: contextlib.nullcontext())
        torch.manual_seed(0)
        agent = make_bear(3, 2, bear_config("d3rlpy", **SMALL, warmup_steps=1))
        for batch in batches:
            agent.update(batch)
        states.append({k: v.clone() for k, v in agent.state_dict().items()})
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert all(p.requires_grad for p in agent.critic.parameters())


def test_variant_flags_select_the_variant_class_and_the_paper_class_refuses_them():
    from paperlab.rl.bear.agents import BEARVariant
    assert type(make_bear(3, 2, bear_config(**SMALL))) is BEAR
    for preset in ("d4rl", "d3rlpy"):
        assert type(make_bear(3, 2, bear_config(preset, **SMALL))) is BEARVariant
    assert type(make_bear(3, 2, bear_config(**SMALL, dual_in_warmup=False))) is BEARVariant
    assert not hasattr(make_bear(3, 2, bear_config(**SMALL)), "log_temperature")
    with pytest.raises(ValueError, match="make_bear"):
        BEAR(3, 2, bear_config(**SMALL, target_policy="current"))


def test_d4rl_preset_is_the_d4rl_evaluation_settings():
    cfg = bear_config("d4rl")
    assert (cfg.actor_lr, cfg.critic_lr, cfg.vae_lr, cfg.lagrange_lr) == (1e-4, 3e-4, 3e-4, 1e-3)
    assert (cfg.n_mmd_samples, cfg.mmd_sigma, cfg.warmup_steps, cfg.batch_size) == (4, 20.0, 40_000, 256)
    assert (cfg.target_policy, cfg.entropy_temperature, cfg.dual_in_warmup) == ("current", None, True)
    assert cfg.initial_log_alpha == 0.0 and cfg.n_eval_samples == 100 and cfg.actor_noise_clip is None
    buf = random_buffer()
    agent = make_bear(3, 2, bear_config("d4rl", **SMALL, warmup_steps=1))
    for _ in range(3):
        metrics = agent.update(buf.sample(32))
    assert np.isfinite(metrics["critic_loss"]) and agent.log_alpha.item() != 0.0   # dual step ran
