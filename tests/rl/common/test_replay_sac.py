import numpy as np
import pytest
import torch

from paperlab.rl.common.envs import EpisodeStats, discounted_returns, evaluate, make_env
from paperlab.rl.common.replay import ReplayBuffer
from paperlab.rl.common.optim import soft_update
from paperlab.rl.common.sac import SAC, SACConfig


def test_replay_buffer_ring_and_order():
    buf = ReplayBuffer(2, 1, capacity=3, seed=0)
    for i in range(5):
        buf.add([i, i], [i / 10], float(i), [i + 1, i + 1], i == 4)
    assert len(buf) == 3
    arrays = buf.arrays()
    np.testing.assert_allclose(arrays["rewards"], [2, 3, 4])          # oldest first after wrap-around
    np.testing.assert_allclose(arrays["terminals"], [0, 0, 1])
    batch = buf.sample(16)
    assert batch.obs.shape == (16, 2) and batch.actions.shape == (16, 1) and batch.rewards.shape == (16,)
    assert set(batch.rewards.tolist()) <= {2.0, 3.0, 4.0}
    torch.testing.assert_close(batch.next_obs, batch.obs + 1)


def test_replay_buffer_errors():
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(2, 1, 4).sample(2)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(2, 1, 0)
    with pytest.raises(ValueError, match="rows"):
        ReplayBuffer.from_arrays(np.zeros((3, 2)), np.zeros((2, 1)), np.zeros(3), np.zeros((3, 2)), np.zeros(3))


def test_sac_learns_a_bandit_and_tunes_temperature():
    """One-step problem r = -(a - 0.5)^2, terminal: Q must fit r and the policy mean must move to 0.5."""
    torch.manual_seed(0)
    n = 512
    actions = np.random.default_rng(0).uniform(-1, 1, (n, 1)).astype(np.float32)
    buf = ReplayBuffer.from_arrays(np.zeros((n, 1)), actions, -(actions[:, 0] - 0.5) ** 2, np.zeros((n, 1)),
                                   np.ones(n), seed=0)
    agent = SAC(1, 1, SACConfig(hidden=(32, 32), batch_size=128, actor_lr=3e-3, critic_lr=3e-3,
                                temperature_lr=3e-3, initial_temperature=0.1))
    alpha0 = float(agent.alpha)
    for _ in range(400):
        metrics = agent.update(buf.sample(128))
    assert metrics["critic_loss"] < 0.01
    assert abs(float(agent.act(np.zeros(1), deterministic=True)[0]) - 0.5) < 0.15
    assert float(agent.alpha) != pytest.approx(alpha0)


def test_soft_update_moves_target_by_tau():
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    before = b.weight.detach().clone()
    soft_update(b, a, 0.25)
    torch.testing.assert_close(b.weight, 0.75 * before + 0.25 * a.weight.detach())


def test_evaluate_and_discounted_returns():
    env = make_env("Pendulum-v1", seed=0)
    stats = evaluate(env, lambda o: np.zeros(1, np.float32), episodes=2, seed=3)
    assert isinstance(stats, EpisodeStats) and stats.lengths == [200, 200]
    assert stats.mean_return < 0 and stats.as_dict()["returns"] == stats.returns
    g = discounted_returns(np.array([1.0, 1.0, 1.0, 2.0]), np.array([False, False, True, True]), 0.5)
    np.testing.assert_allclose(g, [1.75, 1.5, 1.0, 2.0])
    with pytest.raises(ValueError, match="unknown"):
        make_env("NoSuchEnv-v0")
