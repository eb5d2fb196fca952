import math

import pytest
import torch

from paperlab.rl.bear.divergences import behaviour_cross_entropy, identical_mmd2_floor, kernel_matrix, mmd
from paperlab.rl.common.networks import TanhGaussianPolicy


def direct_mmd_squared(x, y, k):
    """Biased V-statistic written out with explicit loops: mean k(x,x') + mean k(y,y') - 2 mean k(x,y)."""
    n, m = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n)) / n**2
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m)) / m**2
    kxy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return kxx + kyy - 2 * kxy


@pytest.mark.parametrize("kernel,sigma", [("laplacian", 10.0), ("gaussian", 20.0), ("laplacian", 0.3)])
def test_mmd_matches_direct_formula(kernel, sigma):
    torch.manual_seed(0)
    x, y = torch.randn(3, 5, 2, dtype=torch.float64), torch.randn(3, 4, 2, dtype=torch.float64) + 1.0
    if kernel == "laplacian":
        k = lambda a, b: math.exp(-float((a - b).abs().sum()) / (2 * sigma))
    else:
        k = lambda a, b: math.exp(-float(((a - b) ** 2).sum()) / (2 * sigma))
    got = mmd(x, y, kernel, sigma)
    for b in range(3):
        expected = math.sqrt(direct_mmd_squared(x[b], y[b], k) + 1e-6)
        assert float(got[b]) == pytest.approx(expected, rel=1e-9)


def test_mmd_zero_for_identical_samples_and_grows_with_shift():
    torch.manual_seed(0)
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    same = mmd(x, x.clone(), "laplacian", 1.0)
    torch.testing.assert_close(same, torch.full((4,), 1e-3, dtype=torch.float64))  # sqrt(0 + 1e-6)
    near, far = mmd(x, x + 0.5, "gaussian", 1.0), mmd(x, x + 3.0, "gaussian", 1.0)
    assert torch.all(far > near) and torch.all(near > same)


def test_mmd_rejects_bad_input():
    x = torch.zeros(2, 3, 1)
    with pytest.raises(ValueError, match="kernel"):
        kernel_matrix(x, x, "cosine", 1.0)
    with pytest.raises(ValueError, match="sigma"):
        mmd(x, x, "laplacian", 0.0)
    with pytest.raises(ValueError, match="expects"):
        mmd(x, torch.zeros(3, 3, 1))


def test_kl_constraint_is_negative_policy_log_likelihood_of_behaviour_samples():
    torch.manual_seed(0)
    pi = TanhGaussianPolicy(2, 1, hidden=(8,))
    obs, raw = torch.randn(4, 2), torch.randn(4, 3, 1)
    got = behaviour_cross_entropy(pi, obs, raw)
    expected = torch.stack([-torch.stack([pi.log_prob(obs[b:b + 1], raw[b, i:i + 1])[0] for i in range(3)]).mean()
                            for b in range(4)])
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("kernel,sigma,spread,dim", [("laplacian", 10.0, 0.3, 6), ("laplacian", 10.0, 1.0, 3),
                                                    ("gaussian", 20.0, 1.0, 6)])
def test_mmd_floor_for_identical_distributions(kernel, sigma, spread, dim):
    """Authors' settings (5 samples each): the sampled MMD of two sample sets from the SAME distribution is not 0;
    its mean square equals the closed form (2/n)(1 - E k) (Monte-Carlo over 40 000 states)."""
    torch.manual_seed(0)
    shape = (40_000, 5, dim)
    x, y = spread * torch.randn(shape, dtype=torch.float64), spread * torch.randn(shape, dtype=torch.float64)
    measured = float((mmd(x, y, kernel, sigma) ** 2 - 1e-6).mean())
    assert measured == pytest.approx(identical_mmd2_floor(spread, dim, 5, kernel, sigma), rel=0.03)


def test_mmd_floor_matches_the_small_spread_arithmetic():
    """Issue 13's arithmetic: E[MMD^2] ~ 0.0226 s d for the laplacian kernel, sigma 10, 5 samples, small s."""
    for spread, dim in ((0.01, 6), (0.05, 3)):
        assert identical_mmd2_floor(spread, dim) == pytest.approx(0.0226 * spread * dim, rel=0.02)
    # so eps = 0.05 (MMD^2 <= 0.0025) is out of reach on average once s * d > 0.11
    assert identical_mmd2_floor(0.11 / 6, 6) == pytest.approx(0.05 ** 2, rel=0.03)
