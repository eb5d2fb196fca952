"""The update rules against direct, loop-by-loop implementations of the paper's formulas."""

import numpy as np
import pytest
import scipy.sparse as sp

from paperlab.nmf import updates
from paperlab.nmf.matrices import DenseMatrix, as_data_matrix


def random_problem(seed=0, m=7, n=5, r=3, zeros=0.3):
    rng = np.random.default_rng(seed)
    V = rng.random((m, n)) * (rng.random((m, n)) > zeros)
    return V, rng.random((m, r)) + 0.05, rng.random((r, n)) + 0.05


def direct_frobenius_H(V, W, H):
    """Theorem 1 with explicit sums: Hₐμ (Σᵢ Wᵢₐ Vᵢμ) / (Σᵢ Wᵢₐ Σ_b Σ_k Wᵢ_b H_bμ)."""
    r, n = H.shape
    out = np.empty_like(H)
    for a in range(r):
        for mu in range(n):
            num = sum(W[i, a] * V[i, mu] for i in range(V.shape[0]))
            den = sum(W[i, a] * sum(W[i, b] * H[b, mu] for b in range(r)) for i in range(V.shape[0]))
            out[a, mu] = H[a, mu] * num / den
    return out


def direct_kl_H(V, W, H):
    """Theorem 2 with explicit sums: Hₐμ Σᵢ Wᵢₐ Vᵢμ/(WH)ᵢμ / Σₖ Wₖₐ."""
    r, n = H.shape
    WH = [[sum(W[i, b] * H[b, j] for b in range(r)) for j in range(n)] for i in range(V.shape[0])]
    out = np.empty_like(H)
    for a in range(r):
        for mu in range(n):
            num = sum(W[i, a] * V[i, mu] / WH[i][mu] for i in range(V.shape[0]))
            out[a, mu] = H[a, mu] * num / sum(W[k, a] for k in range(V.shape[0]))
    return out


def direct_kl_W(V, W, H):
    m, r = W.shape
    WH = W @ H
    out = np.empty_like(W)
    for i in range(m):
        for a in range(r):
            num = sum(H[a, mu] * V[i, mu] / WH[i, mu] for mu in range(V.shape[1]))
            out[i, a] = W[i, a] * num / sum(H[a, nu] for nu in range(V.shape[1]))
    return out


def test_frobenius_rules_match_direct_sums():
    V, W, H = random_problem()
    np.testing.assert_allclose(updates.mu_frobenius_H(DenseMatrix(V), W, H), direct_frobenius_H(V, W, H), rtol=1e-13)
    # the W rule is the H rule on the transposed problem Vᵀ ≈ Hᵀ Wᵀ
    np.testing.assert_allclose(updates.mu_frobenius_W(DenseMatrix(V), W, H), direct_frobenius_H(V.T, H.T, W.T).T, rtol=1e-13)


def test_kl_rules_match_direct_sums():
    V, W, H = random_problem(1)
    np.testing.assert_allclose(updates.mu_kl_H(DenseMatrix(V), W, H), direct_kl_H(V, W, H), rtol=1e-13)
    np.testing.assert_allclose(updates.mu_kl_W(DenseMatrix(V), W, H), direct_kl_W(V, W, H), rtol=1e-13)


def test_objectives_match_definitions():
    V, W, H = random_problem(2)
    WH = W @ H
    frob = ((V - WH) ** 2).sum()
    mask = V > 0
    kl = (V[mask] * np.log(V[mask] / WH[mask])).sum() - V.sum() + WH.sum()
    for data in (DenseMatrix(V), as_data_matrix(sp.csr_matrix(V))):
        assert updates.frobenius_objective(data, W, H) == pytest.approx(frob, rel=1e-12)
        assert updates.kl_objective(data, W, H) == pytest.approx(kl, rel=1e-12)


@pytest.mark.parametrize("loss", ["frobenius", "kl"])
def test_objective_from_w_step_products_equals_direct(loss):
    V, W, H = random_problem(3)
    rule_W = updates.MU_RULES[loss][0]
    _, before = rule_W(DenseMatrix(V), W, H, with_objective=True)
    assert before == pytest.approx(updates.objective(DenseMatrix(V), W, H, loss), rel=1e-10)


@pytest.mark.parametrize("loss", ["frobenius", "kl"])
def test_rules_do_not_modify_inputs(loss):
    V, W, H = random_problem(4)
    W0, H0 = W.copy(), H.copy()
    for rule in (*updates.MU_RULES[loss], *updates.GD_RULES[loss]):
        rule(DenseMatrix(V), W, H)
    np.testing.assert_array_equal(W, W0)
    np.testing.assert_array_equal(H, H0)


@pytest.mark.parametrize("loss", ["frobenius", "kl"])
def test_additive_step_with_papers_eta_equals_multiplicative_step(loss):
    V, W, H = random_problem(5, m=20, n=15, r=4)
    data = DenseMatrix(V)
    for mu_rule, gd_rule in zip(updates.MU_RULES[loss], updates.GD_RULES[loss]):
        np.testing.assert_allclose(gd_rule(data, W, H), mu_rule(data, W, H), rtol=1e-12, atol=1e-15)


def test_fixed_step_gd_is_projected_gradient_step():
    V, W, H = random_problem(6)
    lr = 1e-3
    expected = np.maximum(H + lr * (W.T @ V - W.T @ W @ H), 0)
    np.testing.assert_allclose(updates.gd_frobenius_H(DenseMatrix(V), W, H, learning_rate=lr), expected, rtol=1e-13)


@pytest.mark.parametrize("loss", ["frobenius", "kl"])
def test_objective_never_increases(loss):
    rng = np.random.default_rng(7)
    rule_W, rule_H = updates.MU_RULES[loss]
    for trial in range(5):
        m, n = rng.integers(3, 25, size=2)
        r = int(rng.integers(1, min(m, n) + 1))
        V, W, H = random_problem(100 + trial, m, n, r)
        data = DenseMatrix(V)
        previous = initial = updates.objective(data, W, H, loss)
        for _ in range(60):
            W = rule_W(data, W, H)
            H = rule_H(data, W, H)
            current = updates.objective(data, W, H, loss)
            assert current - previous <= 1e-12 * initial
            previous = current
        assert previous < initial


def test_zero_denominators_give_zero_not_nan():
    V, W, H = random_problem(8)
    W[:, 1] = 0.0   # a dead component: WᵀWH row is 0, as is the numerator
    for loss in ("frobenius", "kl"):
        rule_W, rule_H = updates.MU_RULES[loss]
        H_new = rule_H(DenseMatrix(V), W, H)
        assert np.isfinite(H_new).all()
        assert np.isfinite(rule_W(DenseMatrix(V), W, H_new)).all()
