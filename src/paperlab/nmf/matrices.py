"""The data matrix V behind one interface, for dense NumPy, dense torch, scipy.sparse and torch sparse.

The update rules only ever need a few products with V:

* ``V Hᵀ`` (m×k) and ``Wᵀ V`` (k×n) -- Frobenius numerators;
* ``R = V / (WH)`` on V's support -- the KL ratio, itself a data matrix of V's shape, so that the
  numerators ``R Hᵀ`` and ``Wᵀ R`` use the same two products.

For sparse V the ratio is evaluated only at V's nonzeros (a sampled product): the dense m×n matrix WH is
never formed.  For dense V it is formed once per half-step, in place.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

# Chunk of nonzeros for the NumPy sampled product: small enough that the gathered rows of W and Hᵀ
# (chunk × k each) stay in cache, large enough to amortise the Python loop.
_SAMPLED_CHUNK = 16384


def is_torch(x: Any) -> bool:
    return isinstance(x, torch.Tensor)


def clamp_min(x, floor: float):
    """max(x, floor) elementwise, in place (x must be a fresh temporary)."""
    if is_torch(x):
        return x.clamp_(min=floor)
    return np.maximum(x, floor, out=x)


def inner(a, b) -> float:
    """Frobenius inner product <a, b> of two dense arrays of the same backend."""
    if is_torch(a):
        return float(torch.sum(a * b))
    return float(np.vdot(a, b))


def divide_into(numerator, denominator):
    """numerator / denominator written over `denominator` (a fresh temporary)."""
    if is_torch(denominator):
        return torch.div(numerator, denominator, out=denominator)
    return np.divide(numerator, denominator, out=denominator)


def xlogy_sum(x, y) -> float:
    """Σ x log y with 0 log y = 0."""
    if is_torch(x):
        return float(torch.xlogy(x, y).sum())
    from scipy.special import xlogy

    return float(xlogy(x, y).sum())


def dot_log(x, y) -> float:
    """Σ x log max(y, tiny): equals Σ x log y (0 log y = 0) when y > 0 wherever x > 0, as for the KL ratio
    R = V/(WH) (R is 0 exactly where V is).  One vectorised log and a dot product: 8x cheaper than xlogy."""
    if is_torch(x):
        floor = torch.finfo(y.dtype).tiny
        return float(torch.dot(x.reshape(-1), torch.log(y.clamp(min=floor)).reshape(-1)))
    floor = np.finfo(y.dtype).tiny
    return float(np.vdot(x, np.log(np.maximum(y, floor))))


class _DataMatrix:
    """What every data matrix shares: constants of V computed once from its stored values."""

    _cache: dict[str, float]

    def support_values(self):
        """The stored entries of V (all of them when dense, the nonzeros when sparse)."""
        raise NotImplementedError

    def _cached(self, key: str, compute) -> float:
        if key not in self._cache:
            self._cache[key] = compute(self.support_values())
        return self._cache[key]

    def sq_norm(self) -> float:
        """‖V‖²."""
        return self._cached("sq_norm", lambda v: inner(v, v))

    def total(self) -> float:
        """Σ V."""
        return self._cached("total", lambda v: float(v.sum()))

    def xlogx(self) -> float:
        """Σ V log V (constant term of the KL divergence)."""
        return self._cached("xlogx", lambda v: xlogy_sum(v, v))


class DenseMatrix(_DataMatrix):
    """Dense V (NumPy array or torch tensor)."""

    def __init__(self, V):
        self.V = V
        self.shape = tuple(V.shape)
        self._cache: dict[str, float] = {}

    def times_Ht(self, H):
        """V Hᵀ, shape (m, k); torch computes it as (H Vᵀ)ᵀ, which MKL runs ~1.4x faster here."""
        if is_torch(self.V):
            return (H @ self.V.T).T
        return self.V @ H.T

    def Wt_times(self, W):
        """Wᵀ V, shape (k, n)."""
        return W.T @ self.V

    def divided_by_WH(self, W, H, floor: float) -> "DenseMatrix":
        """R = V / max(WH, floor) (the one WH product, overwritten in place)."""
        return DenseMatrix(divide_into(self.V, clamp_min(W @ H, floor)))

    def support_values(self):
        return self.V

    def residual_sq_norm(self, W, H) -> float:
        """‖V − WH‖² computed directly from the residual (exact, for checks)."""
        R = self.V - W @ H
        return inner(R, R)

    def xlogy_WH(self, W, H) -> float:
        """Σ V log(WH) over V's support."""
        return xlogy_sum(self.V, W @ H)


class _SparseSupport:
    """Nonzero pattern of a sparse V in canonical CSR form (sorted, no duplicates), shared by V and every ratio
    R = V/(WH) built on it.  The transposes Vᵀ, Rᵀ are CSC views of the same arrays (no copy)."""

    def __init__(self, csr: sp.csr_matrix):
        self.shape = csr.shape
        self.indptr, self.indices = csr.indptr, csr.indices
        self._rows = None
        self._transpose = None

    @property
    def rows(self) -> np.ndarray:
        """Row index of every nonzero (needed by the sampled product only)."""
        if self._rows is None:
            self._rows = np.repeat(np.arange(self.shape[0], dtype=self.indices.dtype), np.diff(self.indptr))
        return self._rows

    @property
    def transpose(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(perm, indptr, indices) of Vᵀ in CSR form: Vᵀ's data is V's data[perm] (for torch, which lacks CSC
        products); built by scipy's C transpose of a matrix holding 0..nnz-1."""
        if self._transpose is None:
            positions = sp.csr_matrix((np.arange(len(self.indices), dtype=np.int64), self.indices, self.indptr),
                                      shape=self.shape)
            transposed = positions.T.tocsr()
            self._transpose = (transposed.data, transposed.indptr, transposed.indices)
        return self._transpose


def canonical_csr(V) -> sp.csr_matrix:
    """V as CSR with sorted indices and no duplicates; copies only when V is not already like that."""
    csr = V.tocsr() if not sp.isspmatrix_csr(V) and not isinstance(V, sp.csr_array) else V
    if not csr.has_canonical_format:
        csr = csr.copy()
        csr.sum_duplicates()
    return csr


class _SparseMatrix(_DataMatrix):
    """Objective pieces of a sparse V that never form the dense product WH."""

    def WH_at_support(self, W, H):
        """(WH)ᵢⱼ at every nonzero (i, j) of V, in V's storage order (a sampled product)."""
        raise NotImplementedError

    def with_values(self, values) -> "_SparseMatrix":
        """A matrix with V's nonzero pattern and other values."""
        raise NotImplementedError

    def divided_by_WH(self, W, H, floor: float) -> "_SparseMatrix":
        """R = V / max(WH, floor) at V's nonzeros only."""
        return self.with_values(divide_into(self.support_values(), clamp_min(self.WH_at_support(W, H), floor)))

    def residual_sq_norm(self, W, H) -> float:
        """‖V − WH‖² = ‖V‖² − 2<V Hᵀ, W> + <WᵀW, HHᵀ>."""
        return self.sq_norm() - 2.0 * inner(self.times_Ht(H), W) + inner(W.T @ W, H @ H.T)

    def xlogy_WH(self, W, H) -> float:
        """Σ V log(WH) over V's nonzeros."""
        return xlogy_sum(self.support_values(), self.WH_at_support(W, H))


class ScipySparseMatrix(_SparseMatrix):
    """scipy.sparse V in CSR form; Vᵀ products use the CSC view V.T (no transposed copy)."""

    def __init__(self, V, support: _SparseSupport | None = None, data=None):
        if support is None:
            csr = canonical_csr(V)
            support, data = _SparseSupport(csr), csr.data
        self.support = support
        self.data = data
        self.shape = self.support.shape
        self._csr = None
        self._cache: dict[str, float] = {}

    def csr(self) -> sp.csr_matrix:
        if self._csr is None:
            s = self.support
            self._csr = sp.csr_matrix((self.data, s.indices, s.indptr), shape=s.shape, copy=False)
        return self._csr

    def times_Ht(self, H):
        return self.csr() @ H.T

    def Wt_times(self, W):
        return (self.csr().T @ W).T

    def WH_at_support(self, W, H):
        """(WH)ᵢⱼ for every nonzero (i, j) of V, in chunks: never the dense m×n product."""
        s = self.support
        Ht = np.ascontiguousarray(H.T)
        out = np.empty(len(s.indices), dtype=W.dtype)
        for start in range(0, len(out), _SAMPLED_CHUNK):
            stop = start + _SAMPLED_CHUNK
            # ndarray.take is about twice as fast as fancy indexing for these row gathers
            np.einsum("ij,ij->i", W.take(s.rows[start:stop], axis=0), Ht.take(s.indices[start:stop], axis=0),
                      out=out[start:stop])
        return out

    def support_values(self):
        return self.data

    def with_values(self, data) -> "ScipySparseMatrix":
        return ScipySparseMatrix(None, self.support, data)


class TorchSparseMatrix(_SparseMatrix):
    """torch sparse V (CSR tensors of V and Vᵀ; sampled products with torch.sparse.sampled_addmm)."""

    def __init__(self, V: torch.Tensor | None, support: tuple | None = None, values: torch.Tensor | None = None):
        if support is None:
            V = V.coalesce() if V.layout == torch.sparse_coo else V.to_sparse_coo().coalesce()
            index = V.indices().cpu().numpy()
            csr = sp.csr_matrix((np.ones(index.shape[1]), (index[0], index[1])), shape=tuple(V.shape))
            sup = _SparseSupport(canonical_csr(csr))
            perm, t_indptr, t_indices = sup.transpose
            # COO coalesced order is row-major, i.e. already CSR order.
            device = V.device
            as_long = lambda a: torch.as_tensor(a.astype(np.int64), device=device)  # noqa: E731
            support = (tuple(V.shape), as_long(sup.indptr), as_long(sup.indices), as_long(t_indptr),
                       as_long(t_indices), as_long(perm))
            values = V.values()
        self.support = support
        self.values = values
        self.shape = support[0]
        self._csr = None
        self._csr_t = None
        self._cache: dict[str, float] = {}

    @staticmethod
    def _make_csr(indptr, indices, values, shape):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
            return torch.sparse_csr_tensor(indptr, indices, values, size=shape, check_invariants=False)

    def csr(self):
        if self._csr is None:
            shape, indptr, indices = self.support[:3]
            self._csr = self._make_csr(indptr, indices, self.values, shape)
        return self._csr

    def csr_t(self):
        if self._csr_t is None:
            shape, _, _, t_indptr, t_indices, perm = self.support
            self._csr_t = self._make_csr(t_indptr, t_indices, self.values[perm], (shape[1], shape[0]))
        return self._csr_t

    def times_Ht(self, H):
        return self.csr() @ H.T.contiguous()

    def Wt_times(self, W):
        return (self.csr_t() @ W).T

    def WH_at_support(self, W, H):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.sparse.sampled_addmm(self.csr(), W, H, beta=0.0).values()

    def support_values(self):
        return self.values

    def with_values(self, values) -> "TorchSparseMatrix":
        return TorchSparseMatrix(None, self.support, values)


def as_data_matrix(V):
    """Wrap an already validated V (backend and dtype final) in the matching data-matrix class."""
    if sp.issparse(V):
        return ScipySparseMatrix(V)
    if is_torch(V) and V.layout != torch.strided:
        return TorchSparseMatrix(V)
    return DenseMatrix(V)
