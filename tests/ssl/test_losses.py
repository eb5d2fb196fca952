import math

import pytest
import torch
import torch.nn.functional as F

from paperlab.ssl.losses import nt_xent_loss


def direct_nt_xent(z1, z2, tau):
    """SimCLR Eq. 1 written out with loops: average of l(i, j) over the 2N ordered positive pairs."""
    z = F.normalize(torch.cat([z1, z2]), dim=1).double()
    n2 = z.shape[0]
    n = n2 // 2
    total = 0.0
    for i in range(n2):
        j = (i + n) % n2
        num = math.exp(float(z[i] @ z[j]) / tau)
        den = sum(math.exp(float(z[i] @ z[k]) / tau) for k in range(n2) if k != i)
        total += -math.log(num / den)
    return total / n2


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0])
def test_matches_direct_formula(tau):
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    assert float(nt_xent_loss(z1, z2, tau)) == pytest.approx(direct_nt_xent(z1, z2, tau), rel=1e-5)


def test_identical_embeddings_give_log_2n_minus_1():
    n = 8
    z = torch.ones(n, 4)
    assert float(nt_xent_loss(z, z.clone(), 0.5)) == pytest.approx(math.log(2 * n - 1), rel=1e-6)


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_orthogonal_pairs_known_value(tau):
    n = 4
    z = torch.eye(n) * 3.0           # pair i: both views e_i; different images orthogonal
    expected = math.log(1 + (2 * n - 2) * math.exp(-1 / tau))
    assert float(nt_xent_loss(z, z.clone(), tau)) == pytest.approx(expected, rel=1e-5, abs=2e-6)


def test_scale_invariant_and_gradients_flow():
    g = torch.Generator().manual_seed(1)
    z1 = torch.randn(5, 3, generator=g, requires_grad=True)
    z2 = torch.randn(5, 3, generator=g)
    loss = nt_xent_loss(z1, z2, 0.2)
    loss.backward()
    assert torch.isfinite(z1.grad).all() and z1.grad.abs().sum() > 0
    assert float(nt_xent_loss(7 * z1.detach(), z2, 0.2)) == pytest.approx(float(loss.detach()), rel=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="equal shape"):
        nt_xent_loss(torch.zeros(3, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="temperature"):
        nt_xent_loss(torch.ones(3, 2), torch.ones(3, 2), 0.0)
