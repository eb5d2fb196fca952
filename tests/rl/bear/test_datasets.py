
import h5py
import numpy as np
import pytest

from paperlab.rl.bear.datasets import D4RL_REFERENCE_RETURNS, OfflineDataset, load_dataset, normalized_score, \
    save_dataset


def make_data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    terminals = np.zeros(n, np.float32)
    terminals[3] = 1
    timeouts = np.zeros(n, np.float32)
    timeouts[7] = 1
    return OfflineDataset(rng.normal(size=(n, 4)).astype(np.float32), rng.uniform(-1, 1, (n, 2)).astype(np.float32),
                          rng.normal(size=n).astype(np.float32), rng.normal(size=(n, 4)).astype(np.float32),
                          terminals, timeouts, {"env": "Hopper-v5", "policy_return": 12.5})


@pytest.mark.parametrize("suffix", [".hdf5", ".npz"])
def test_round_trip(tmp_path, suffix):
    data = make_data()
    path = save_dataset(tmp_path / f"d{suffix}", data)
    back = load_dataset(path)
    for key, value in data.arrays().items():
        np.testing.assert_array_equal(getattr(back, key), value)
    assert back.metadata == data.metadata
    np.testing.assert_array_equal(np.flatnonzero(back.episode_ends), [3, 7, 9])
    np.testing.assert_allclose(back.episode_returns(), [data.rewards[:4].sum(), data.rewards[4:8].sum(),
                                                        data.rewards[8:].sum()], rtol=1e-6)


def test_d4rl_file_without_next_observations(tmp_path):
    """Old D4RL files lack next_observations: the next row is used within an episode, episode ends dropped."""
    data = make_data()
    with h5py.File(tmp_path / "old.hdf5", "w") as f:
        for key in ("observations", "actions", "rewards", "terminals", "timeouts"):
            f.create_dataset(key, data=data.arrays()[key])
    back = load_dataset(tmp_path / "old.hdf5")
    assert len(back) == 7          # rows 3, 7 (episode ends) and the final row have no known successor
    np.testing.assert_array_equal(back.next_observations[0], data.observations[1])
    np.testing.assert_array_equal(back.observations[3], data.observations[4])


def test_minari_layout(tmp_path):
    rng = np.random.default_rng(0)
    with h5py.File(tmp_path / "minari.hdf5", "w") as f:
        for ep, n in enumerate((3, 2)):
            g = f.create_group(f"episode_{ep}")
            g["observations"] = rng.normal(size=(n + 1, 2))
            g["actions"] = rng.normal(size=(n, 1))
            g["rewards"] = np.ones(n)
            g["terminations"] = np.r_[np.zeros(n - 1), 1.0]
            g["truncations"] = np.zeros(n)
        obs0 = np.asarray(f["episode_0/observations"])
    back = load_dataset(tmp_path / "minari.hdf5")
    assert len(back) == 5
    np.testing.assert_allclose(back.next_observations[:3], obs0[1:])
    np.testing.assert_array_equal(np.flatnonzero(back.terminals), [2, 4])


def test_bad_files(tmp_path):
    data = make_data()
    with h5py.File(tmp_path / "missing.hdf5", "w") as f:
        f["observations"] = data.observations
    with pytest.raises(ValueError, match="missing required key"):
        load_dataset(tmp_path / "missing.hdf5")
    arrays = data.arrays()
    np.savez(tmp_path / "short.npz", **{**arrays, "rewards": arrays["rewards"][:-1]})
    with pytest.raises(ValueError, match="'rewards' has 9 rows"):
        load_dataset(tmp_path / "short.npz")
    bad = arrays["actions"].copy()
    bad[2, 1] = np.nan
    np.savez(tmp_path / "nan.npz", **{**arrays, "actions": bad})
    with pytest.raises(ValueError, match="NaN"):
        load_dataset(tmp_path / "nan.npz")
    (tmp_path / "garbage.hdf5").write_bytes(b"not an hdf5 file")
    with pytest.raises(ValueError, match="not a readable HDF5"):
        load_dataset(tmp_path / "garbage.hdf5")
    with pytest.raises(ValueError, match="not found"):
        load_dataset(tmp_path / "absent.hdf5")
    with pytest.raises(ValueError, match=".hdf5, .h5 or .npz"):
        save_dataset(tmp_path / "x.csv", data)
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(ValueError, match=".hdf5, .h5 or .npz"):
        load_dataset(tmp_path / "x.csv")


def test_normalized_score_uses_d4rl_reference_returns():
    low, high = D4RL_REFERENCE_RETURNS["hopper"]
    assert normalized_score("Hopper-v5", low) == pytest.approx(0.0)
    assert normalized_score("Hopper-v5", high) == pytest.approx(100.0)
    assert normalized_score("HalfCheetah-v5", 12135.0) == pytest.approx(100.0)
    assert normalized_score("Walker2d-v5", 1.629008) == pytest.approx(0.0)
    assert normalized_score("Ant-v5", (3879.7 - 325.6) / 2) == pytest.approx(50.0, abs=1e-6)
    with pytest.raises(ValueError, match="no D4RL reference"):
        normalized_score("Pendulum-v1", -200.0)
    assert normalized_score("Pendulum-v1", -200.0, reference=(-1200.0, -200.0)) == pytest.approx(100.0)
    data = make_data()
    data.metadata = {"env": "Pendulum-v1", "reference_returns": [-1000.0, 0.0]}
    assert data.normalized_score(-500.0) == pytest.approx(50.0)


def test_random_dataset_is_rollouts_of_a_fixed_random_init_policy():
    """D4RL's `random`: a freshly initialised behaviour policy's stochastic rollouts, determined by dataset_seed."""
    import torch

    from paperlab.rl.bear.dataset_builder import RANDOM_POLICY, DatasetBuildConfig, random_init_policy, \
        random_rollouts
    from paperlab.rl.bear.kl_control import pre_tanh

    cfg = DatasetBuildConfig(env="Pendulum-v1", sac_hidden=(16, 16), transitions=400, dataset_seed=3)
    arrays, label = random_rollouts(cfg, "random")
    assert label == RANDOM_POLICY
    assert arrays["observations"].shape == (400, 3) and arrays["actions"].shape == (400, 1)
    assert arrays["next_observations"].shape == (400, 3) and arrays["rewards"].shape == (400,)
    again, _ = random_rollouts(cfg, "random")
    assert all(np.array_equal(arrays[k], again[k]) for k in arrays)                    # determined by the seed
    other, _ = random_rollouts(DatasetBuildConfig(**{**cfg.__dict__, "dataset_seed": 4}), "random")
    assert not np.array_equal(arrays["actions"], other["actions"])

    obs, actions = torch.as_tensor(arrays["observations"]), torch.as_tensor(arrays["actions"])

    def mean_log_likelihood(seed: int) -> float:
        with torch.no_grad():
            return random_init_policy(cfg.env, cfg.sac_hidden, seed).log_prob(obs, pre_tanh(actions)).mean().item()
    # the generating policy explains the actions better than another random init and than uniform actions
    assert mean_log_likelihood(3) > mean_log_likelihood(4) + 0.05
    assert mean_log_likelihood(3) > -np.log(2.0) + 0.05
    uniform, label = random_rollouts(cfg, "random-uniform")
    assert label == "uniform" and np.abs(uniform["actions"]).max() <= 1.0
    assert not np.array_equal(uniform["actions"], arrays["actions"])


def test_a_cache_from_before_issue_30_keeps_its_uniform_random_as_the_stress_case(bear_data_dir, tmp_path, monkeypatch):
    """An old cache's random.hdf5 (uniform actions) becomes random-uniform.hdf5 and the D4RL-style random is
    built from the saved behaviour metadata, without training the behaviour SAC again."""
    import shutil

    import paperlab.rl.bear.dataset_builder as builder
    from paperlab.rl.bear.experiments import TINY, OfflineConfig, build_config
    from paperlab.rl.bear.datasets import load_dataset

    cfg = build_config(OfflineConfig(**{**TINY, "data_dir": str(bear_data_dir)}), "Pendulum-v1")
    fresh = builder.build_datasets(cfg)
    old = tmp_path / builder.dataset_directory(cfg).name
    shutil.copytree(fresh["random"].parent, old)
    (old / "random.hdf5").unlink()
    (old / "random-uniform.hdf5").rename(old / "random.hdf5")          # the layout before issue 30
    monkeypatch.setattr(builder, "train_behaviour", lambda *a, **k: pytest.fail("behaviour SAC retrained"))
    migrated = builder.build_datasets(builder.DatasetBuildConfig(**{**cfg.__dict__, "data_dir": str(tmp_path)}))
    for kind in ("random", "random-uniform", "medium"):
        a, b = load_dataset(migrated[kind]), load_dataset(fresh[kind])
        assert np.array_equal(a.actions, b.actions) and a.metadata.get("actions") == b.metadata.get("actions")
    assert load_dataset(migrated["random"]).metadata["actions"] == builder.RANDOM_POLICY
    # a copy holding only random.hdf5 and behaviour.json (carried to another machine) serves a random-only grid
    for kind in ("medium", "medium-replay", "expert", "random-uniform"):
        migrated[kind].unlink()
    again = builder.build_datasets(builder.DatasetBuildConfig(**{**cfg.__dict__, "data_dir": str(tmp_path)}),
                                   kinds=("random",))
    assert again["random"].exists() and not again["medium"].exists()
    with pytest.raises(ValueError, match="unknown dataset kind"):
        builder.build_datasets(cfg, kinds=("mediocre",))
