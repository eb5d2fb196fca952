"""Posterior math of the context encoder against closed forms and an independent reference."""

import numpy as np
import pytest
import torch

from paperlab.rl.pearl.encoder import (ContextEncoder, RecurrentContextEncoder, kl_to_standard_normal,
                                       product_of_gaussians)


def test_product_of_gaussians_matches_closed_form_in_float64():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(3, 7, 5))
    var = rng.uniform(0.1, 2.0, size=(3, 7, 5))
    post_mu, post_var = product_of_gaussians(torch.tensor(mu), torch.tensor(var))
    # closed form: precisions add, the mean is the precision-weighted mean
    prec = 1.0 / var
    expected_var = 1.0 / prec.sum(axis=1)
    expected_mu = expected_var * (mu * prec).sum(axis=1)
    np.testing.assert_allclose(post_var.numpy(), expected_var, rtol=1e-12)
    np.testing.assert_allclose(post_mu.numpy(), expected_mu, rtol=1e-12)


def test_product_of_two_gaussians_is_the_normalised_pointwise_product():
    # independent check: multiply two 1-D densities on a grid and read off mean and variance
    mu = torch.tensor([[[0.3], [-1.1]]], dtype=torch.float64)
    var = torch.tensor([[[0.5], [2.0]]], dtype=torch.float64)
    post_mu, post_var = product_of_gaussians(mu, var)
    x = np.linspace(-10, 10, 200_001)
    dens = np.exp(-(x - 0.3) ** 2 / (2 * 0.5)) * np.exp(-(x + 1.1) ** 2 / (2 * 2.0))
    dens /= dens.sum()
    grid_mean = (x * dens).sum()
    grid_var = ((x - grid_mean) ** 2 * dens).sum()
    assert post_mu.item() == pytest.approx(grid_mean, abs=1e-6)
    assert post_var.item() == pytest.approx(grid_var, abs=1e-6)


def test_kl_to_standard_normal_matches_torch_distributions():
    rng = np.random.default_rng(1)
    mu = torch.tensor(rng.normal(size=(4, 5)))
    var = torch.tensor(rng.uniform(0.05, 3.0, size=(4, 5)))
    ours = kl_to_standard_normal(mu, var)
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(mu, var.sqrt()),
                                            torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(var))).sum()
    assert ours.item() == pytest.approx(ref.item(), rel=1e-12)
    assert kl_to_standard_normal(torch.zeros(2, 5), torch.ones(2, 5)).item() == 0.0


def test_mlp_encoder_is_permutation_invariant_and_rnn_is_not():
    torch.manual_seed(0)
    enc = ContextEncoder(context_dim=5, latent_dim=5, hidden=(32, 32)).double()
    ctx = torch.randn(3, 20, 5, dtype=torch.float64)
    perm = torch.randperm(20)
    mu, var = enc(ctx)
    mu_p, var_p = enc(ctx[:, perm])
    torch.testing.assert_close(mu, mu_p)
    torch.testing.assert_close(var, var_p)
    # tasks are independent: encoding one task alone gives the same posterior
    mu0, var0 = enc(ctx[:1])
    torch.testing.assert_close(mu0, mu[:1])
    # the deterministic ablation is the mean of the per-transition outputs: also invariant, zero variance
    det = ContextEncoder(5, 5, (32,), probabilistic=False).double()
    torch.testing.assert_close(det(ctx)[0], det(ctx[:, perm])[0])
    assert torch.all(det(ctx)[1] == 0)
    rnn = RecurrentContextEncoder(5, 5, (16, 16)).double()
    assert not torch.allclose(rnn(ctx)[0], rnn(ctx[:, perm])[0])


def test_posterior_sharpens_with_more_context():
    torch.manual_seed(0)
    enc = ContextEncoder(4, 5, (16,))
    ctx = torch.randn(2, 64, 4)
    _, var_small = enc(ctx[:, :4])
    _, var_large = enc(ctx)
    assert torch.all(var_large < var_small)


def test_encoder_rejects_bad_shapes():
    with pytest.raises(ValueError, match="context must have shape"):
        ContextEncoder(4, 5, (8,))(torch.zeros(10, 4))
