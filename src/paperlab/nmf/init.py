"""Initial factors W₀, H₀ (NumPy, computed on the CPU; the estimator moves them to its backend).

* ``random``: |N(0, 1)| scaled by sqrt(mean(V)/r), so that W₀H₀ has V's mean scale (scikit-learn's choice).
  The paper itself starts from "random initial matrices".
* ``nndsvd``: Boutsidis & Gallopoulos (2008) nonnegative double SVD.  Leaves exact zeros, which
  multiplicative updates can never move (see the ``fixed-points`` experiment).
* ``nndsvda``: nndsvd with its zeros replaced by mean(V) (scikit-learn's default since 1.1).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd

INITS = ("random", "nndsvd", "nndsvda")


def random_init(V, n_components: int, rng: np.random.Generator, dtype) -> tuple[np.ndarray, np.ndarray]:
    m, n = V.shape
    scale = np.sqrt(V.mean() / n_components)
    W = scale * np.abs(rng.standard_normal((m, n_components)))
    H = scale * np.abs(rng.standard_normal((n_components, n)))
    return W.astype(dtype), H.astype(dtype)


def nndsvd_init(V, n_components: int, rng: np.random.Generator, dtype, fill_zeros: bool) -> tuple[np.ndarray, np.ndarray]:
    seed = int(rng.integers(2**31 - 1))
    U, S, Vt = randomized_svd(V, n_components, random_state=seed)
    W = np.zeros((V.shape[0], n_components))
    H = np.zeros((n_components, V.shape[1]))
    # The leading singular pair of a nonnegative matrix can be taken nonnegative (Perron-Frobenius).
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0, :] = np.sqrt(S[0]) * np.abs(Vt[0, :])
    for j in range(1, n_components):
        x, y = U[:, j], Vt[j, :]
        x_pos, x_neg, y_pos, y_neg = np.maximum(x, 0), np.maximum(-x, 0), np.maximum(y, 0), np.maximum(-y, 0)
        pos = np.linalg.norm(x_pos) * np.linalg.norm(y_pos)
        neg = np.linalg.norm(x_neg) * np.linalg.norm(y_neg)
        # keep the sign pattern (positive parts or negative parts) with the larger rank-1 mass
        u, v, sigma = (x_pos, y_pos, pos) if pos > neg else (x_neg, y_neg, neg)
        if sigma > 0:
            scale = np.sqrt(S[j] * sigma)
            W[:, j] = scale * u / np.linalg.norm(u)
            H[j, :] = scale * v / np.linalg.norm(v)
    eps = np.finfo(np.float64).eps
    W[W < eps] = 0.0
    H[H < eps] = 0.0
    if fill_zeros:
        mean = V.mean()
        W[W == 0] = mean
        H[H == 0] = mean
    return W.astype(dtype), H.astype(dtype)


def initialize(V, n_components: int, init: str, random_state, dtype) -> tuple[np.ndarray, np.ndarray]:
    """W₀ (m×r), H₀ (r×n) for a NumPy or scipy.sparse V."""
    if isinstance(random_state, np.random.RandomState):   # scikit-learn style generator
        random_state = int(random_state.randint(2**31 - 1))
    rng = np.random.default_rng(random_state)
    V = V if sp.issparse(V) else np.asarray(V)
    if init == "random":
        return random_init(V, n_components, rng, dtype)
    return nndsvd_init(V, n_components, rng, dtype, fill_zeros=(init == "nndsvda"))
