"""KL-control (the authors' baseline): its KL estimate, target and behaviour fit."""
import numpy as np
import pytest
import torch
from torch.distributions import Independent, Normal, TransformedDistribution, kl_divergence
from torch.distributions.transforms import TanhTransform

from paperlab.rl.bear.kl_control import KLControl, KLControlConfig, gaussian_kl, kl_control_target, log_ratio, \
    pre_tanh
from paperlab.rl.common.networks import TanhGaussianPolicy
from paperlab.rl.common.replay import ReplayBuffer

SMALL = dict(actor_hidden=(16, 16), critic_hidden=(16, 16), behaviour_hidden=(16, 16), batch_size=32)


def tanh_gaussian(mean, log_std):
    return TransformedDistribution(Independent(Normal(mean, log_std.exp()), 1), [TanhTransform()])


def test_log_ratio_is_the_tanh_gaussians_log_density_ratio_and_averages_to_their_kl():
    torch.manual_seed(0)
    obs = torch.randn(4, 3)
    pi, beta = TanhGaussianPolicy(3, 2, (8,)), TanhGaussianPolicy(3, 2, (8,))
    (m_p, s_p), (m_b, s_b) = pi(obs), beta(obs)
    raw = (m_p + s_p.exp() * torch.randn(4, 2)).detach()
    p, b = tanh_gaussian(m_p, s_p), tanh_gaussian(m_b, s_b)
    a = torch.tanh(raw)
    torch.testing.assert_close(log_ratio(pi, beta, obs, raw), p.log_prob(a) - b.log_prob(a), rtol=1e-4, atol=1e-4)
    # closed form vs torch.distributions, and the Monte-Carlo mean of the estimate vs the closed form
    closed = gaussian_kl(m_p, s_p, m_b, s_b)
    torch.testing.assert_close(closed, kl_divergence(Independent(Normal(m_p, s_p.exp()), 1),
                                                     Independent(Normal(m_b, s_b.exp()), 1)))
    n = 200_000
    draws = (m_p.unsqueeze(1) + s_p.exp().unsqueeze(1) * torch.randn(4, n, 2)).detach()
    estimate = log_ratio(pi, beta, obs.unsqueeze(1).expand(4, n, 3), draws).mean(1)
    torch.testing.assert_close(estimate, closed.detach(), rtol=0.03, atol=0.01)


def test_target_by_hand():
    q_next = torch.tensor([[5.0, 1.0], [3.0, 2.0]])          # K=2 critics, B=2: min -> [3, 1]
    kl = torch.tensor([0.5, 2.0])
    got = kl_control_target(q_next, kl, rewards=torch.tensor([1.0, -1.0]), terminals=torch.tensor([0.0, 1.0]),
                            gamma=0.98, temperature=0.2)
    # state 0: 1 + 0.98 * (3 - 0.2 * 0.5) = 3.842; state 1 is terminal: -1
    torch.testing.assert_close(got, torch.tensor([3.842, -1.0]))


def test_behaviour_model_is_the_maximum_likelihood_tanh_gaussian():
    """Actions tanh(N(0.4, 0.3^2)) whatever the state: the fitted behaviour recovers mean 0.4, std 0.3."""
    torch.manual_seed(0)
    n = 2048
    obs = torch.randn(n, 2)
    actions = torch.tanh(0.4 + 0.3 * torch.randn(n, 1))
    buf = ReplayBuffer.from_arrays(obs.numpy(), actions.numpy(), np.zeros(n), obs.numpy(), np.zeros(n))
    agent = KLControl(2, 1, KLControlConfig(**SMALL, lr=3e-3))
    for _ in range(400):
        agent.update(buf.sample(256))
    mean, log_std = agent.behaviour(obs[:256])
    assert mean.mean().item() == pytest.approx(0.4, abs=0.05)
    assert log_std.exp().mean().item() == pytest.approx(0.3, abs=0.05)
    edge = pre_tanh(torch.tensor([1.0, -1.0]))           # exactly +-1 is clipped below 1, not sent to inf
    assert torch.isfinite(edge).all() and edge[0] > 7.0 and edge[1] == -edge[0]


def test_actor_every_second_step_and_temperature_rises_while_kl_above_target():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    buf = ReplayBuffer.from_arrays(rng.normal(size=(256, 3)), rng.uniform(-0.2, 0.2, (256, 2)), rng.normal(size=256),
                                   rng.normal(size=(256, 3)), np.zeros(256))
    agent = KLControl(3, 2, KLControlConfig(**SMALL, initial_log_temperature=0.0, kl_target=-100.0))
    actor_before = [p.detach().clone() for p in agent.actor.parameters()]
    first, second = agent.update(buf.sample(32)), None
    actor_after_first = [p.detach().clone() for p in agent.actor.parameters()]
    second = agent.update(buf.sample(32))
    assert "alpha" in first and "alpha" not in second
    assert any(not torch.equal(a, b) for a, b in zip(actor_before, actor_after_first))
    assert all(torch.equal(a, b.detach()) for a, b in zip(actor_after_first, agent.actor.parameters()))
    assert agent.log_temperature.item() > 0.0       # KL > target (-100): the temperature went up
    action = agent.act(np.zeros(3, dtype=np.float32))
    assert action.shape == (2,) and np.all(np.abs(action) <= 1.0)
