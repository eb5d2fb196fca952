"""Task geometry, task sampling determinism, and the two buffers' contents."""

import numpy as np
import pytest
import torch

from paperlab.rl.pearl.buffers import MultiTaskReplayBuffer
from paperlab.rl.pearl.config import PEARLConfig, resolve
from paperlab.rl.pearl.tasks import FAMILIES, PointRobotBatch, get_family, sparse_reward
from paperlab.rl.pearl.trainer import PEARLTrainer


def test_sparse_reward_geometry():
    fam = get_family("sparse-point-robot")
    train, test = fam.split(30, 10)
    goals = np.stack([t["goal"] for t in train + test])
    np.testing.assert_allclose(np.linalg.norm(goals, axis=1), 1.0)      # unit half circle
    assert np.all(goals[:, 1] >= -1e-12)
    env = PointRobotBatch(np.array([[1.0, 0.0], [0.0, 1.0]]), sparse_radius=0.2, start_at_origin=True)
    assert np.all(env.reset() == 0)
    # move task 0 to distance 0.15 of its goal (inside radius 0.2) and task 1 to distance 0.5 (outside)
    env.state = np.array([[0.75, 0.0], [0.0, 0.4]])
    _, dense, ctx, _, info = env.step(np.array([[1.0, 0.0], [0.0, 1.0]]))  # +0.1 each
    np.testing.assert_allclose(dense, [-0.15, -0.5])
    np.testing.assert_allclose(ctx, [1 - 0.15, 0.0])
    assert info["success"].tolist() == [True, False]
    # exactly on the boundary counts as inside (oyster: r >= -radius)
    assert sparse_reward(np.array([-0.2, -0.2000001]), 0.2).tolist() == pytest.approx([0.8, 0.0])


def test_point_robot_clips_actions_to_a_tenth():
    env = PointRobotBatch(np.zeros((1, 2)), start_at_origin=True)
    env.reset()
    obs, *_ = env.step(np.array([[5.0, -5.0]]))
    np.testing.assert_allclose(obs, [[0.1, -0.1]])


@pytest.mark.parametrize("name", list(FAMILIES))
def test_task_sampling_is_deterministic_and_disjoint(name):
    fam = FAMILIES[name]
    a_train, a_test = fam.split(5, 3, seed=7)
    b_train, b_test = fam.split(5, 3, seed=7)
    c_train, _ = fam.split(5, 3, seed=8)
    flat = lambda tasks: np.concatenate([np.ravel(list(t.values())).astype(float) for t in tasks])
    np.testing.assert_array_equal(flat(a_train + a_test), flat(b_train + b_test))
    if name != "cheetah-dir":  # directions are +-1, other families are continuous
        assert not np.array_equal(flat(a_train), flat(c_train))
    assert len(a_train) == 5 and len(a_test) == 3


def test_cheetah_vel_task_reward_follows_velocity():
    fam = get_family("cheetah-vel")
    env = fam.make([{"velocity": 0.0}, {"velocity": 2.0}])
    env.reset()
    obs, reward, ctx, done, info = env.step(np.zeros((2, env.act_dim)))
    assert obs.shape == (2, 17)
    # zero action, same start (same seed offsets differ only in noise): rewards differ by about the goal gap
    assert reward[0] > reward[1]
    assert np.all(info["valid"])


def test_rand_params_change_the_model():
    fam = get_family("hopper-rand-params")
    tasks, _ = fam.split(2, 1)
    env = fam.make(tasks)
    masses = [e.model.body_mass.copy() for e in env.envs]
    assert not np.allclose(masses[0], masses[1])


def test_buffer_sampling_and_trajectory_order():
    buf = MultiTaskReplayBuffer(n_tasks=3, capacity=10, obs_dim=1, act_dim=1)
    H = 4
    for ep in range(3):  # 12 steps into capacity 10: the oldest two are overwritten
        traj = {k: np.zeros((1, H, 1), np.float32) for k in ("obs", "actions", "rewards", "ctx_rewards", "next_obs", "terminals")}
        traj["obs"][0, :, 0] = np.arange(H) + 10 * ep
        buf.add_trajectories(np.array([1]), traj, np.ones((1, H), bool), collection_id=ep)
    assert buf.size.tolist() == [0, 10, 0]
    rng = np.random.default_rng(0)
    sample = buf.sample(np.array([1, 1]), 50, rng)
    assert sample["obs"].shape == (2, 50, 1)
    assert set(np.unique(sample["obs"])) <= {2, 3, 10, 11, 12, 13, 20, 21, 22, 23}
    seq = buf.sample_trajectories(np.array([1]), 8, rng)["obs"][0, :, 0]
    # a whole trajectory start followed by consecutive steps in storage order
    assert seq[0] in (10, 20) and np.all(np.diff(seq[:4]) == 1)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(np.array([0]), 4, rng)


def test_encoder_buffer_holds_only_the_latest_collection():
    torch.manual_seed(0)
    cfg = PEARLConfig(task="point-robot", preset="cpu", n_train_tasks=6, num_tasks_sample=3, num_iterations=3,
                      num_train_steps_per_itr=1, num_steps_posterior=0, hidden=(8,), encoder_hidden=(8,), meta_batch=2, batch_size=4,
                      embedding_batch_size=4)
    tr = PEARLTrainer(cfg, seed=0)
    tr.train_iteration()  # iteration 0 also fills every task's buffers with the initial pool
    for _ in range(2):
        before = tr.n_collections
        tr.train_iteration()
        touched = np.flatnonzero((tr.enc_buffer.collection_id > before).any(axis=1))
        for task in touched:  # the enc buffer of a task refreshed this iteration holds nothing older
            ids = tr.enc_buffer.collection_id[task, : tr.enc_buffer.size[task]]
            assert ids.min() > before
            # extra posterior steps (RL only) are in the RL buffer but not in the encoder buffer
            assert tr.enc_buffer.size[task] == tr.cfg.num_steps_prior
            assert tr.rl_buffer.size[task] > tr.enc_buffer.size[task]
        assert len(touched) == 3
    assert tr.n_collections == 1 + 3 * 2  # initial pool, then prior + extra-posterior per iteration
    # the RL buffer keeps everything
    assert tr.rl_buffer.size.sum() == tr.env_steps


def test_resolve_validates_and_fills_from_the_authors_tables():
    cfg = resolve(PEARLConfig(task="sparse-point-robot"))
    assert (cfg.embedding_batch_size, cfg.discount, cfg.kl_lambda, cfg.num_exp_traj_eval) == (1024, 0.9, 1.0, 5)
    assert resolve(PEARLConfig(task="cheetah-vel")).hidden == (300, 300, 300)
    assert resolve(PEARLConfig(task="point-robot", preset="cpu", batch_size=7)).batch_size == 7
    with pytest.raises(ValueError, match="unknown task"):
        resolve(PEARLConfig(task="nope"))
    with pytest.raises(ValueError, match="context_source"):
        resolve(PEARLConfig(context_source="everything"))


@pytest.mark.parametrize("name", ["cheetah-dir", "ant-dir", "ant-goal", "humanoid-dir", "walker-rand-params"])
def test_mujoco_families_step_with_finite_task_rewards(name):
    fam = get_family(name)
    tasks, _ = fam.split(2, 1)
    env = fam.make(tasks, seed=0)
    obs = env.reset()
    rng = np.random.default_rng(0)
    for _ in range(3):
        obs, reward, ctx, done, info = env.step(rng.uniform(-1, 1, size=(2, env.act_dim)))
        assert obs.shape == (2, env.obs_dim) and np.all(np.isfinite(obs))
        assert np.all(np.isfinite(reward)) and np.array_equal(reward, ctx)


def test_direction_tasks_reward_opposite_motion():
    from paperlab.rl.pearl.tasks import ant_dir_reward, cheetah_dir_reward
    info = {"x_velocity": 2.0, "y_velocity": 0.0}
    a = np.zeros(6)
    assert cheetah_dir_reward(info, a, {"direction": 1.0}, None) == pytest.approx(2.0)
    assert cheetah_dir_reward(info, a, {"direction": -1.0}, None) == pytest.approx(-2.0)

    class FakeEnv:
        class data:
            cfrc_ext = np.zeros((3, 6))
    assert ant_dir_reward(info, np.zeros(8), {"angle": 0.0}, FakeEnv) == pytest.approx(3.0)     # 2 + survive 1
    assert ant_dir_reward(info, np.zeros(8), {"angle": np.pi}, FakeEnv) == pytest.approx(-1.0)
