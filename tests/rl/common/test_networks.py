import math

import pytest
import torch
from torch.distributions import Normal, TransformedDistribution
from torch.distributions.transforms import TanhTransform

from paperlab.rl.common.networks import EnsembleMLP, MLP, QEnsemble, TanhGaussianPolicy


def test_ensemble_matches_per_member_loop():
    torch.manual_seed(0)
    ens = EnsembleMLP(3, 5, 2, hidden=(8, 8))
    x = torch.randn(4, 5)
    out = ens(x)
    assert out.shape == (3, 4, 2)
    for k in range(3):
        h = x
        for i, layer in enumerate(ens.layers):
            h = h @ layer.weight[k] + layer.bias[k, 0]
            if i < len(ens.layers) - 1:
                h = torch.relu(h)
        torch.testing.assert_close(out[k], h)
    per_member = torch.randn(3, 4, 5)
    assert ens(per_member).shape == (3, 4, 2)
    assert not torch.allclose(ens(per_member)[0], ens(per_member)[1])


def test_ensemble_rejects_bad_shapes():
    ens = EnsembleMLP(2, 5, 1, hidden=(4,))
    with pytest.raises(ValueError, match="expects"):
        ens(torch.randn(3, 4, 5))
    with pytest.raises(ValueError, match="features"):
        ens(torch.randn(4, 6))
    with pytest.raises(ValueError, match="positive"):
        MLP(0, 1)


def test_q_ensemble_shape():
    q = QEnsemble(3, 2, n_members=2, hidden=(8,))
    assert q(torch.randn(5, 3), torch.randn(5, 2)).shape == (2, 5)


def test_tanh_gaussian_log_prob_matches_torch_distributions():
    torch.manual_seed(0)
    pi = TanhGaussianPolicy(4, 3, hidden=(16,))
    obs = torch.randn(64, 4)
    action, log_prob, pre_tanh = pi.sample(obs)
    assert action.abs().max() < 1
    torch.testing.assert_close(action, torch.tanh(pre_tanh))
    mean, log_std = pi(obs)
    reference = TransformedDistribution(Normal(mean, log_std.exp()), [TanhTransform()])
    # evaluate at pre-tanh values well inside float range to avoid atanh round-off
    torch.testing.assert_close(log_prob, reference.log_prob(action).sum(-1), atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(pi.log_prob(obs, pre_tanh), log_prob)
    det, _, det_u = pi.sample(obs, deterministic=True)
    torch.testing.assert_close(det_u, mean)
    many, many_lp, _ = pi.sample_n(obs, 5)
    assert many.shape == (64, 5, 3) and many_lp.shape == (64, 5)
    assert math.isfinite(float(many_lp.detach().sum()))
