"""Lee & Seung (NIPS 2000) update rules as pure functions: inputs are never modified.

Notation follows the paper: V (m×n) ≈ W H with W (m×r), H (r×n); ``V`` here is a data matrix from
:mod:`paperlab.nmf.matrices` (dense or sparse), W and H are dense arrays of the same backend (NumPy or torch).

Objectives (Sec. 2 of the paper)
    Frobenius:  F(W, H) = ‖V − WH‖² = Σᵢⱼ (Vᵢⱼ − (WH)ᵢⱼ)²
    KL:         D(V‖WH) = Σᵢⱼ (Vᵢⱼ log(Vᵢⱼ / (WH)ᵢⱼ) − Vᵢⱼ + (WH)ᵢⱼ)

Epsilons (the only places a division by zero is possible):

* Multiplicative ratios ``X · num / den``: ``den`` can be exactly 0 only when the numerator is 0 too
  (e.g. (WᵀWH)ₐμ ≥ (WᵀW)ₐₐ Hₐμ > 0 whenever Hₐμ > 0 and column a of W is nonzero, and a zero column a
  makes (WᵀV)ₐμ = 0).  We compute ``(X · num) / max(den, tiny)`` with ``tiny`` the dtype's smallest
  normal number, which turns 0/0 into 0 and changes nothing else.
* KL ratio ``V / (WH)``: (WH)ᵢⱼ can vanish where Vᵢⱼ > 0, so WH is floored at the dtype's machine
  epsilon (scikit-learn floors at float32's epsilon).
"""

from __future__ import annotations

import numpy as np
import torch

from paperlab.nmf.matrices import clamp_min, dot_log, inner, is_torch


def tiny(x) -> float:
    """Smallest positive normal number of x's dtype: the floor for denominators that are 0 only with 0/0."""
    return float(torch.finfo(x.dtype).tiny if is_torch(x) else np.finfo(x.dtype).tiny)


def machine_eps(x) -> float:
    """Machine epsilon of x's dtype: the floor for (WH) in the KL ratio V/(WH)."""
    return float(torch.finfo(x.dtype).eps if is_torch(x) else np.finfo(x.dtype).eps)


def _floored_copy(x, floor: float):
    """max(x, floor) as a new array (x is still needed elsewhere)."""
    return clamp_min(x.clone() if is_torch(x) else x.copy(), floor)


def _ratio(numerator, denominator, floor: float):
    """numerator / max(denominator, floor), reusing `numerator`'s memory (callers pass temporaries)."""
    denominator = clamp_min(denominator, floor)
    numerator /= denominator
    return numerator


# ----------------------------------------------------------------------------------------------------
# Objectives
# ----------------------------------------------------------------------------------------------------

def frobenius_objective(V, W, H) -> float:
    """‖V − WH‖² (the paper's Euclidean distance); dense: from the residual; sparse: via <V Hᵀ, W>."""
    return V.residual_sq_norm(W, H)


def kl_objective(V, W, H) -> float:
    """D(V‖WH) = Σ V log V − Σ V log WH − Σ V + Σ WH, with Σᵢⱼ (WH)ᵢⱼ = (Σᵢ Wᵢ·)·(Σⱼ H·ⱼ)."""
    sum_WH = inner(W.sum(0), H.sum(1))
    return V.xlogx() - V.xlogy_WH(W, H) - V.total() + sum_WH


def objective(V, W, H, loss: str) -> float:
    return frobenius_objective(V, W, H) if loss == "frobenius" else kl_objective(V, W, H)


# ----------------------------------------------------------------------------------------------------
# Multiplicative updates (Theorems 1 and 2)
# ----------------------------------------------------------------------------------------------------

def mu_frobenius_H(V, W, H):
    """Theorem 1 (eq. 4), H rule:  Hₐμ ← Hₐμ (WᵀV)ₐμ / (WᵀWH)ₐμ."""
    WtV = V.Wt_times(W)
    WtWH = (W.T @ W) @ H
    WtV *= H
    return _ratio(WtV, WtWH, tiny(H))


def mu_frobenius_W(V, W, H, with_objective: bool = False):
    """Theorem 1 (eq. 4), W rule:  Wᵢₐ ← Wᵢₐ (VHᵀ)ᵢₐ / (WHHᵀ)ᵢₐ.

    With ``with_objective`` also returns ‖V − WH‖² at the *input* (W, H), from products the rule already
    has: ‖V‖² − 2<VHᵀ, W> + <WᵀW, HHᵀ> (costs O((m+n)r²), no extra pass over V).
    """
    VHt = V.times_Ht(H)
    HHt = H @ H.T
    before = None
    if with_objective:
        before = V.sq_norm() - 2.0 * inner(VHt, W) + inner(W.T @ W, HHt)
    VHt *= W
    W_new = _ratio(VHt, W @ HHt, tiny(W))
    return (W_new, before) if with_objective else W_new


def mu_kl_H(V, W, H):
    """Theorem 2 (eq. 5), H rule:  Hₐμ ← Hₐμ [Σᵢ Wᵢₐ Vᵢμ/(WH)ᵢμ] / Σₖ Wₖₐ."""
    R = V.divided_by_WH(W, H, machine_eps(W))        # Vᵢμ / (WH)ᵢμ on V's support
    numerator = R.Wt_times(W)                        # Σᵢ Wᵢₐ Vᵢμ/(WH)ᵢμ
    numerator *= H
    return _ratio(numerator, W.sum(0)[:, None], tiny(H))   # / Σₖ Wₖₐ


def mu_kl_W(V, W, H, with_objective: bool = False):
    """Theorem 2 (eq. 5), W rule:  Wᵢₐ ← Wᵢₐ [Σμ Hₐμ Vᵢμ/(WH)ᵢμ] / Σᵥ Hₐᵥ.

    With ``with_objective`` also returns D(V‖WH) at the input (W, H), from the ratio R = V/(WH) the
    rule already has: Σ V log R − Σ V + Σ WH (one log per nonzero of V).
    """
    R = V.divided_by_WH(W, H, machine_eps(W))
    before = None
    if with_objective:
        before = dot_log(V.support_values(), R.support_values()) - V.total() + inner(W.sum(0), H.sum(1))
    numerator = R.times_Ht(H)                        # Σμ Hₐμ Vᵢμ/(WH)ᵢμ
    numerator *= W
    W_new = _ratio(numerator, H.sum(1)[None, :], tiny(W))  # / Σᵥ Hₐᵥ
    return (W_new, before) if with_objective else W_new


# ----------------------------------------------------------------------------------------------------
# Additive (gradient) updates, Sec. 5 "Multiplicative versus additive update rules"
# ----------------------------------------------------------------------------------------------------

def _project(X):
    """Projection onto the nonnegative orthant (needed by fixed-step descent; a no-op for the paper's η)."""
    return clamp_min(X, 0.0)


def gd_frobenius_H(V, W, H, learning_rate: float | None = None):
    """Sec. 5:  Hₐμ ← Hₐμ + ηₐμ [(WᵀV)ₐμ − (WᵀWH)ₐμ]  (a step along −½∂F/∂H).

    ``learning_rate=None`` uses the paper's step ηₐμ = Hₐμ / (WᵀWH)ₐμ, which turns this step into the
    multiplicative rule of Theorem 1; a float gives plain fixed-step projected gradient descent.
    """
    WtV = V.Wt_times(W)
    WtWH = (W.T @ W) @ H
    eta = learning_rate if learning_rate is not None else H / _floored_copy(WtWH, tiny(H))
    return _project(H + eta * (WtV - WtWH))


def gd_frobenius_W(V, W, H, learning_rate: float | None = None):
    """Sec. 5, W analogue:  Wᵢₐ ← Wᵢₐ + ηᵢₐ [(VHᵀ)ᵢₐ − (WHHᵀ)ᵢₐ],  paper's ηᵢₐ = Wᵢₐ / (WHHᵀ)ᵢₐ."""
    VHt = V.times_Ht(H)
    WHHt = W @ (H @ H.T)
    eta = learning_rate if learning_rate is not None else W / _floored_copy(WHHt, tiny(W))
    return _project(W + eta * (VHt - WHHt))


def gd_kl_H(V, W, H, learning_rate: float | None = None):
    """Sec. 5:  Hₐμ ← Hₐμ + ηₐμ [Σᵢ Wᵢₐ Vᵢμ/(WH)ᵢμ − Σᵢ Wᵢₐ]  (a step along −∂D/∂H).

    ``learning_rate=None`` uses the paper's ηₐμ = Hₐμ / Σᵢ Wᵢₐ (giving Theorem 2's rule); a float gives
    fixed-step projected gradient descent.
    """
    R = V.divided_by_WH(W, H, machine_eps(W))
    column_sums = W.sum(0)[:, None]                                  # Σᵢ Wᵢₐ
    eta = learning_rate if learning_rate is not None else H / _floored_copy(column_sums, tiny(H))
    return _project(H + eta * (R.Wt_times(W) - column_sums))


def gd_kl_W(V, W, H, learning_rate: float | None = None):
    """Sec. 5, W analogue:  Wᵢₐ ← Wᵢₐ + ηᵢₐ [Σμ Hₐμ Vᵢμ/(WH)ᵢμ − Σμ Hₐμ],  paper's ηᵢₐ = Wᵢₐ / Σμ Hₐμ."""
    R = V.divided_by_WH(W, H, machine_eps(W))
    row_sums = H.sum(1)[None, :]                                     # Σμ Hₐμ
    eta = learning_rate if learning_rate is not None else W / _floored_copy(row_sums, tiny(W))
    return _project(W + eta * (R.times_Ht(H) - row_sums))


MU_RULES = {"frobenius": (mu_frobenius_W, mu_frobenius_H), "kl": (mu_kl_W, mu_kl_H)}
GD_RULES = {"frobenius": (gd_frobenius_W, gd_frobenius_H), "kl": (gd_kl_W, gd_kl_H)}
