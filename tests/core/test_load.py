"""`paperlab.load`: every paper's tiny run keeps its trained model, and the model comes back ready to use."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import paperlab
from paperlab.core.models import model_names, save_model
from paperlab.core.runner import run_experiment


def test_nmf_estimator_transforms_new_rows(tmp_path):
    from sklearn.datasets import load_digits

    run_dir = run_experiment("nmf", "parts", scale="tiny", out=tmp_path)
    model = paperlab.load(run_dir)
    X = load_digits().data[:8]
    W = model.transform(X)
    assert W.shape == (8, model.n_components_) and (W >= 0).all()
    error = np.linalg.norm(X - model.inverse_transform(W)) / np.linalg.norm(X)
    assert error < 0.9   # the fitted parts reconstruct the rows better than zero codes (relative error 1)


def test_siren_network_evaluates_coordinates(tmp_path):
    from paperlab.siren.data import coordinate_grid

    run_dir = run_experiment("siren", "image-fit", scale="tiny", out=tmp_path, overrides={"methods": "siren,relu"})
    assert model_names(run_dir) == ["relu", "siren"]
    siren = paperlab.load(run_dir)   # the run's default: the paper's own method
    fitted = np.load(run_dir / "fields_siren.npz")["value"].reshape(-1)
    with torch.no_grad():
        values = siren(coordinate_grid(24, 24)).reshape(-1).numpy()
    np.testing.assert_allclose(values, fitted, atol=1e-5)   # the same function the run evaluated
    assert not siren.training and type(paperlab.load(run_dir, "relu")).__name__ == "MLP"


@pytest.mark.slow
def test_simclr_encoder_encodes_images(tmp_path):
    run_dir = run_experiment("ssl", "labeled-size", scale="tiny", out=tmp_path)
    (name,) = model_names(run_dir)
    encoder = paperlab.load(run_dir)
    images = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8)
    features = encoder(images)
    assert name.startswith("encoder-") and features.shape[0] == 5 and features.ndim == 2
    assert torch.isfinite(features).all() and features.std() > 0


@pytest.mark.slow
def test_bear_policy_acts_in_its_environment(tmp_path):
    run_dir = run_experiment("bear", "q-divergence", scale="tiny", out=tmp_path / "runs",
                             overrides={"methods": "bear", "data_dir": str(tmp_path / "data")})
    policy = paperlab.load(run_dir)
    env = gym.make(policy.env_id)
    obs, _ = env.reset(seed=0)
    action = policy.act(obs)
    assert action.shape == env.action_space.shape and env.action_space.contains(action.astype(np.float32))
    assert type(policy.agent).__name__ == "BEAR" and not policy.agent.training


def test_pearl_policy_acts_with_and_without_context(tmp_path):
    run_dir = run_experiment("pearl", "encoder-ablation", scale="tiny", out=tmp_path, overrides={"arms": "mlp"})
    policy = paperlab.load(run_dir, "mlp")
    obs = np.zeros(policy.learner.obs_dim, dtype=np.float32)
    prior_action = policy.act(obs)
    context = np.random.default_rng(0).normal(size=(6, policy.learner.encoder.context_dim))
    posterior_action = policy.act(obs, context)
    assert prior_action.shape == posterior_action.shape == (policy.learner.act_dim,)
    assert np.all(np.abs(prior_action) <= 1.0) and policy.task == "point-robot"


def test_load_names_what_is_missing(tmp_path, toy):
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        paperlab.load(tmp_path)
    run_dir = run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path)
    with pytest.raises(FileNotFoundError, match="holds no saved model"):
        paperlab.load(run_dir)

    class Run:
        dir = run_dir

    for name in ("a", "b"):
        save_model(Run, name, "linear", {"n": 2}, {"weight": torch.ones(2)})
    with pytest.raises(LookupError, match="holds several models; name one of: a, b"):
        paperlab.load(run_dir)
    with pytest.raises(LookupError, match="has no model 'c'; it has: a, b"):
        paperlab.load(run_dir, "c")
    with pytest.raises(ValueError, match="of kind 'linear', which paper 'toy' does not restore"):
        paperlab.load(run_dir, "a")
    with pytest.raises(ValueError, match="model name '../x'"):
        save_model(Run, "../x", "linear", {}, {})
