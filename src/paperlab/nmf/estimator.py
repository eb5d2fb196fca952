"""`NMF`: a scikit-learn style estimator around the Lee & Seung update rules (:mod:`paperlab.nmf.updates`)."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, TransformerMixin

from paperlab.core.seeding import resolve_device
from paperlab.nmf import updates
from paperlab.nmf.init import INITS, initialize
from paperlab.nmf.matrices import as_data_matrix, is_torch

LOSSES = ("frobenius", "kl")
SOLVERS = ("mu", "gd")
BACKENDS = ("numpy", "torch")
DTYPES = ("float32", "float64")
SKLEARN_CHECK_INTERVAL = 10   # scikit-learn's MU checks convergence every 10 iterations


def _dtype_name(dtype) -> str | None:
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    try:
        return np.dtype(dtype).name
    except TypeError as exc:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from exc


class NMF(TransformerMixin, BaseEstimator):
    """Non-negative matrix factorization V ≈ W H (Lee & Seung, NIPS 2000).

    Parameters
    ----------
    n_components : int
        Inner dimension r (1 ≤ r ≤ min(m, n)).
    loss : {"frobenius", "kl"}
        ‖V − WH‖² (Theorem 1) or the generalized KL divergence D(V‖WH) (Theorem 2).
    solver : {"mu", "gd"}
        "mu": the paper's multiplicative updates.  "gd": the additive update of Sec. 5; with
        ``learning_rate=None`` it uses the paper's per-element step η = H/(WᵀWH) (KL: η = H/ΣᵢWᵢₐ),
        with a float it is plain fixed-step projected gradient descent.
    init : {"random", "nndsvd", "nndsvda"}
        Initial factors; the paper starts from random matrices.
    max_iter, tol : int, float
        At most ``max_iter`` iterations (each updates W, then H).  Stops, like scikit-learn, when the decrease
        of the error ‖V − WH‖_F (KL: √(2D)) since the last evaluation, relative to the initial error, falls
        below ``tol`` (``tol=0``: never); the iterate at that evaluation is returned.
    learning_rate : float or None
        Fixed step for ``solver="gd"`` (None: the paper's η).  Ignored by "mu".
    backend : {"numpy", "torch"}
        Array library for the iterations.  Inputs of the other kind are converted.
    dtype : {"float32", "float64"} or None
        None keeps the input's float32/float64 (other dtypes become float64).
    device : str or None
        torch device ("cpu", "cuda"); None keeps a torch input's device, else "cpu".
    random_state : int, numpy Generator/RandomState or None
        Seed of the random and nndsvd initialisations.
    eval_every : int or None
        Evaluate the objective every ``eval_every`` iterations (1: every iteration; 0: only at the end, and
        ``tol`` is then not used).  None (default): every 10 iterations when ``tol > 0`` (scikit-learn's
        convergence-check interval, so the defaults do the same work as scikit-learn's) and every iteration when
        ``tol = 0`` (then the only use of the objective is the full per-iteration history).  For "mu" the value
        comes from products the W-update computes anyway (Frobenius: free; KL: one log per entry of V).

    Attributes
    ----------
    components_ : H, shape (r, n)
    reconstruction_err_ : ‖V − WH‖_F for "frobenius", sqrt(2 D(V‖WH)) for "kl" (scikit-learn's convention)
    n_iter_ : iterations run
    loss_history_ : objective (‖V − WH‖² or D(V‖WH)) after 0, e, 2e, ... iterations and at the end
        (e = the evaluation interval, see ``eval_every``; with e = 1 one value per iteration, ``n_iter_ + 1``
        values in all)
    loss_history_iterations_ : the iteration count of each loss_history_ entry
    """

    def __init__(self, n_components=None, *, loss="frobenius", solver="mu", init="random", max_iter=200,
                 tol=1e-4, learning_rate=None, backend="numpy", dtype=None, device=None, random_state=None,
                 eval_every=None):
        self.n_components = n_components
        self.loss = loss
        self.solver = solver
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.backend = backend
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.eval_every = eval_every

    # ------------------------------------------------------------------ validation (fit time only)
    def _check_params(self) -> None:
        def choice(name, valid):
            value = getattr(self, name)
            if value not in valid:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}; got {value!r}")

        choice("loss", LOSSES)
        choice("solver", SOLVERS)
        choice("init", INITS)
        choice("backend", BACKENDS)
        if _dtype_name(self.dtype) not in (None, *DTYPES):
            raise ValueError(f"dtype must be float32, float64 or None; got {self.dtype!r}")
        if not isinstance(self.n_components, numbers.Integral) or isinstance(self.n_components, bool) or self.n_components < 1:
            raise ValueError(f"n_components must be an integer >= 1; got {self.n_components!r}")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 0:
            raise ValueError(f"max_iter must be an integer >= 0; got {self.max_iter!r}")
        if self.eval_every is not None and (not isinstance(self.eval_every, numbers.Integral)
                                            or isinstance(self.eval_every, bool) or self.eval_every < 0):
            raise ValueError(f"eval_every must be None or an integer >= 0; got {self.eval_every!r}")
        if not isinstance(self.tol, numbers.Real) or not self.tol >= 0:
            raise ValueError(f"tol must be a number >= 0; got {self.tol!r}")
        if self.learning_rate is not None and (not isinstance(self.learning_rate, numbers.Real)
                                               or not 0 < self.learning_rate < float("inf")):
            raise ValueError(f"learning_rate must be None or a finite number > 0; got {self.learning_rate!r}")
        rs = self.random_state
        if not (rs is None or isinstance(rs, (np.random.Generator, np.random.RandomState))
                or isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and rs >= 0):
            raise ValueError(f"random_state must be None, an integer >= 0 or a numpy Generator/RandomState; got {rs!r}")
        if self.device is not None and self.backend != "torch":
            raise ValueError(f"device={self.device!r} needs backend='torch'")
        if self.device is not None:
            resolve_device(str(self.device))

    def _check_data(self, X, name: str = "X", n_features: int | None = None):
        """Validated X in the backend's form (dense array, scipy CSR, or torch dense/sparse tensor)."""
        if is_torch(X):
            if X.layout == torch.strided:
                values, shape, kind = X, tuple(X.shape), "torch"
            else:
                X = X.coalesce() if X.layout == torch.sparse_coo else X.to_sparse_coo().coalesce()
                values, shape, kind = X.values(), tuple(X.shape), "torch-sparse"
            if not (values.dtype.is_floating_point or values.dtype in (torch.int32, torch.int64, torch.bool)):
                raise ValueError(f"{name} must be real-valued; got dtype {values.dtype}")
        elif sp.issparse(X):
            X = X.tocsr() if X.format != "csr" else X
            values, shape, kind = X.data, X.shape, "scipy-sparse"
        else:
            X = np.asarray(X)
            if X.dtype.kind not in "fiub":
                raise ValueError(f"{name} must be real-valued; got dtype {X.dtype}")
            values, shape, kind = X, X.shape, "numpy"
        if len(shape) != 2:
            raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {tuple(shape)}")
        if shape[0] < 1 or shape[1] < 1:
            raise ValueError(f"{name} is empty; got shape {tuple(shape)}")
        if n_features is not None and shape[1] != n_features:
            raise ValueError(f"{name} has {shape[1]} features but the model was fitted with {n_features}")
        finite = bool(torch.isfinite(values).all()) if is_torch(values) else bool(np.isfinite(values).all())
        if not finite:
            raise ValueError(f"{name} contains NaN or infinity")
        if (values < 0).any():
            raise ValueError(f"{name} has negative entries; NMF needs a nonnegative matrix")

        dtype = _dtype_name(self.dtype)
        if dtype is None:
            given = _dtype_name(values.dtype)
            dtype = given if given in DTYPES else "float64"
        if self.backend == "numpy":
            if kind == "torch":
                X = X.detach().cpu().numpy()
            elif kind == "torch-sparse":
                index = X.indices().cpu().numpy()
                X = sp.csr_matrix((X.values().detach().cpu().numpy(), (index[0], index[1])), shape=shape)
            X = X.astype(dtype, copy=False)
        else:
            device = self.device or (str(X.device) if is_torch(X) else "cpu")
            tdtype = getattr(torch, dtype)
            if kind == "numpy":
                X = torch.as_tensor(X, dtype=tdtype, device=device)
            elif kind == "scipy-sparse":
                coo = X.tocoo()
                X = torch.sparse_coo_tensor(np.vstack([coo.row, coo.col]), coo.data, size=shape,
                                            dtype=tdtype, device=device, check_invariants=False).coalesce()
            else:
                X = X.to(dtype=tdtype, device=device)
        return X

    @staticmethod
    def _host_copy(X):
        """NumPy / scipy.sparse view of X for the initialisation (which runs on the CPU)."""
        if not is_torch(X):
            return X
        if X.layout == torch.strided:
            return X.detach().cpu().numpy()
        index = X.indices().cpu().numpy()
        return sp.csr_matrix((X.values().detach().cpu().numpy(), (index[0], index[1])), shape=tuple(X.shape))

    def _to_backend(self, A, like):
        if is_torch(like):
            return torch.as_tensor(A, dtype=like.dtype, device=like.device)
        return np.ascontiguousarray(A, dtype=like.dtype)

    # ------------------------------------------------------------------ iterations
    def _iterate(self, V, W, H, update_H: bool):
        """Run the chosen rules from (W, H); returns (W, H, n_iter, history, history_iterations)."""
        mu = self.solver == "mu"
        update_W, update_Hrule = (updates.MU_RULES if mu else updates.GD_RULES)[self.loss]
        step = {} if mu else {"learning_rate": self.learning_rate}
        history, iterations = [], []
        n_iter = 0
        every = self._eval_interval()
        converged = False
        for it in range(self.max_iter):
            evaluate = every > 0 and it % every == 0
            if mu and evaluate:
                W_new, before = update_W(V, W, H, with_objective=True)
            else:
                before = updates.objective(V, W, H, self.loss) if evaluate else None
                W_new = update_W(V, W, H, **step)
            if evaluate:
                history.append(before)
                iterations.append(it)
                if self.tol > 0 and len(history) >= 2 and self._converged(history):
                    converged = True   # keep the iterate that met tol: `it` iterations, as scikit-learn counts
                    break
            W = W_new
            if update_H:
                H = update_Hrule(V, W, H, **step)
            n_iter = it + 1
        if not converged:
            history.append(updates.objective(V, W, H, self.loss))
            iterations.append(n_iter)
        return W, H, n_iter, history, iterations

    def _converged(self, history) -> bool:
        """scikit-learn's rule: the decrease of the error ‖V − WH‖_F (KL: √(2D)) since the last evaluation,
        relative to the initial error, is below tol (the √2 of KL cancels in the ratio)."""
        errors = [float(np.sqrt(max(h, 0.0))) for h in (history[0], history[-2], history[-1])]
        return (errors[1] - errors[2]) / errors[0] < self.tol

    def _eval_interval(self) -> int:
        if self.eval_every is not None:
            return int(self.eval_every)
        return SKLEARN_CHECK_INTERVAL if self.tol > 0 else 1

    def _record(self, V, W, H, n_iter, history, iterations) -> None:
        self.n_iter_ = n_iter
        self.loss_history_ = np.asarray(history, dtype=float)
        self.loss_history_iterations_ = np.asarray(iterations, dtype=int)
        final = history[-1]
        self.reconstruction_err_ = float(np.sqrt(max(final, 0.0) if self.loss == "frobenius" else 2.0 * max(final, 0.0)))

    # ------------------------------------------------------------------ public API
    def fit_transform(self, X, y=None, W=None, H=None):
        """Learn W, H with V ≈ WH and return W.  W and H (both or neither) replace the initialisation."""
        self._check_params()
        V_backend = self._check_data(X)
        m, n = V_backend.shape
        if self.n_components > min(m, n):
            raise ValueError(f"n_components={self.n_components} must be <= min(n_samples, n_features) = {min(m, n)}")
        V = as_data_matrix(V_backend)
        if V.sq_norm() == 0:
            raise ValueError("X is all zeros; there is nothing to factorize")
        if (W is None) != (H is None):
            raise ValueError("give both W and H for a custom initialisation, or neither")
        if W is None:
            dtype = _dtype_name(V_backend.dtype)
            W, H = initialize(self._host_copy(V_backend), self.n_components, self.init, self.random_state, dtype)
        W, H = self._host_copy(W), self._host_copy(H)
        if np.shape(W) != (m, self.n_components) or np.shape(H) != (self.n_components, n):
            raise ValueError(f"initial W, H must have shapes {(m, self.n_components)} and {(self.n_components, n)}; "
                             f"got {np.shape(W)} and {np.shape(H)}")
        if (np.asarray(W) < 0).any() or (np.asarray(H) < 0).any():
            raise ValueError("initial W and H must be nonnegative")
        like = V_backend.values() if is_torch(V_backend) and V_backend.layout != torch.strided else V_backend
        like = like if not sp.issparse(like) else like.data
        W, H = self._to_backend(W, like), self._to_backend(H, like)
        W, H, n_iter, history, iterations = self._iterate(V, W, H, update_H=True)
        self.components_ = H
        self.n_components_ = self.n_components
        self.n_features_in_ = n
        self._record(V, W, H, n_iter, history, iterations)
        return W

    def fit(self, X, y=None, **params):
        self.fit_transform(X, **params)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise ValueError("this NMF instance is not fitted yet; call fit first")

    def transform(self, X):
        """W ≥ 0 minimising the objective for the fitted H (H fixed, W-updates only)."""
        self._check_fitted()
        self._check_params()
        V_backend = self._check_data(X, n_features=self.n_features_in_)
        V = as_data_matrix(V_backend)
        H = self.components_
        scale = float(np.sqrt(max(V.total(), 0.0) / (V.shape[0] * V.shape[1]) / self.n_components_))
        W0 = np.full((V.shape[0], self.n_components_), max(scale, 1e-12))
        W = self._to_backend(W0, H)
        W, _, _, _, _ = self._iterate(V, W, H, update_H=False)  # fitted attributes stay those of fit
        return W

    def inverse_transform(self, W):
        """W H: the reconstruction of V from its codes."""
        self._check_fitted()
        k = self.n_components_
        if tuple(W.shape)[-1:] != (k,) or len(W.shape) != 2:
            raise ValueError(f"W must have shape (n_samples, {k}); got {tuple(W.shape)}")
        if is_torch(self.components_):
            return torch.as_tensor(W, dtype=self.components_.dtype, device=self.components_.device) @ self.components_
        return np.asarray(W) @ self.components_
