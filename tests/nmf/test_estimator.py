"""The scikit-learn style estimator: agreement with scikit-learn, input kinds, dtypes, errors, API."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.decomposition import NMF as SklearnNMF
from sklearn.decomposition._nmf import _beta_divergence

from paperlab.nmf import NMF
from paperlab.nmf.init import initialize


@pytest.fixture
def V():
    rng = np.random.default_rng(0)
    X = rng.random((40, 30)) @ np.diag(rng.random(30))
    X[rng.random(X.shape) < 0.4] = 0.0
    return X


SK_LOSS = {"frobenius": "frobenius", "kl": "kullback-leibler"}
SK_BETA = {"frobenius": 2, "kl": 1}


@pytest.mark.parametrize("loss", ["frobenius", "kl"])
def test_objective_agrees_with_sklearn_beta_divergence(V, loss):
    model = NMF(4, loss=loss, max_iter=30, random_state=0)
    W = model.fit_transform(V)
    sk = _beta_divergence(V, W, model.components_, SK_BETA[loss])
    ours = model.loss_history_[-1]
    # scikit-learn's Frobenius divergence is ½‖V − WH‖²; its KL is D(V‖WH)
    assert ours == pytest.approx(2 * sk if loss == "frobenius" else sk, rel=1e-10)
    assert model.reconstruction_err_ == pytest.approx(_beta_divergence(V, W, model.components_, SK_BETA[loss], square_root=True), rel=1e-10)


@pytest.mark.parametrize("loss", ["frobenius", "kl"])
def test_same_iterates_as_sklearn_mu_from_same_init(V, loss):
    W0, H0 = initialize(V, 5, "nndsvda", 0, "float64")
    sk = SklearnNMF(5, solver="mu", beta_loss=SK_LOSS[loss], init="custom", max_iter=50, tol=0)
    W_sk = sk.fit_transform(V, W=W0.copy(), H=H0.copy())
    ours = NMF(5, loss=loss, max_iter=50, tol=0)
    W = ours.fit_transform(V, W=W0.copy(), H=H0.copy())
    np.testing.assert_allclose(W, W_sk, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.components_, sk.components_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("loss", ["frobenius", "kl"])
@pytest.mark.parametrize("kind", ["scipy-csr", "scipy-coo", "torch-dense", "torch-sparse"])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_all_input_kinds_and_backends_agree(V, loss, kind, backend):
    reference = NMF(3, loss=loss, max_iter=25, tol=0, random_state=1)
    W_ref = reference.fit_transform(V)
    X = {"scipy-csr": sp.csr_matrix(V), "scipy-coo": sp.coo_matrix(V), "torch-dense": torch.tensor(V),
         "torch-sparse": torch.tensor(V).to_sparse()}[kind]
    model = NMF(3, loss=loss, max_iter=25, tol=0, random_state=1, backend=backend)
    W = model.fit_transform(X)
    assert isinstance(W, torch.Tensor) == (backend == "torch")
    W = W.numpy() if backend == "torch" else W
    np.testing.assert_allclose(W, W_ref, rtol=1e-9, atol=1e-12)
    assert model.reconstruction_err_ == pytest.approx(reference.reconstruction_err_, rel=1e-10)


def test_sparse_kl_never_forms_dense_product(monkeypatch, V):
    import paperlab.nmf.matrices as matrices

    def forbidden(*args, **kwargs):
        raise AssertionError("sparse path formed a dense product")

    monkeypatch.setattr(matrices.DenseMatrix, "divided_by_WH", forbidden)
    model = NMF(3, loss="kl", max_iter=5, random_state=0).fit(sp.csr_matrix(V))
    assert np.isfinite(model.reconstruction_err_)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_float32_is_kept(V, backend):
    W = NMF(3, max_iter=10, random_state=0, backend=backend).fit_transform(V.astype(np.float32))
    assert str(W.dtype).endswith("float32")
    W64 = NMF(3, max_iter=10, random_state=0, dtype="float64", backend=backend).fit_transform(V.astype(np.float32))
    assert str(W64.dtype).endswith("float64")


def test_loss_history_is_per_iteration_and_nonincreasing(V):
    model = NMF(4, max_iter=40, tol=0, random_state=0).fit(V)
    assert model.n_iter_ == 40
    assert len(model.loss_history_) == 41
    np.testing.assert_array_equal(model.loss_history_iterations_, np.arange(41))
    assert np.all(np.diff(model.loss_history_) <= 1e-9 * model.loss_history_[0])


def test_tol_stops_early_and_eval_every(V):
    model = NMF(4, max_iter=5000, tol=1e-3, random_state=0).fit(V)
    assert model.n_iter_ < 5000
    sparse_eval = NMF(4, max_iter=30, tol=0, eval_every=10, random_state=0).fit(V)
    np.testing.assert_array_equal(sparse_eval.loss_history_iterations_, [0, 10, 20, 30])


def test_transform_and_inverse_transform(V):
    model = NMF(5, max_iter=300, tol=0, random_state=0)
    W = model.fit_transform(V)
    W_again = model.transform(V)
    assert W_again.shape == W.shape and (W_again >= 0).all()
    # H fixed, W refitted: reconstruction about as good as the fit's
    err_fit = np.linalg.norm(V - model.inverse_transform(W))
    err_transform = np.linalg.norm(V - model.inverse_transform(W_again))
    assert err_transform <= 1.05 * err_fit
    assert model.n_iter_ == 300  # transform does not overwrite fitted attributes


def test_gd_solver_with_papers_eta_equals_mu(V):
    a = NMF(3, solver="mu", max_iter=20, tol=0, random_state=0).fit(V)
    b = NMF(3, solver="gd", max_iter=20, tol=0, random_state=0).fit(V)
    np.testing.assert_allclose(a.components_, b.components_, rtol=1e-10)
    c = NMF(3, solver="gd", learning_rate=1e-3, max_iter=20, tol=0, random_state=0).fit(V)
    assert (c.components_ >= 0).all() and c.loss_history_[-1] < c.loss_history_[0]


def test_inits(V):
    for init in ("random", "nndsvd", "nndsvda"):
        W, H = initialize(V, 4, init, 0, "float64")
        assert W.shape == (40, 4) and H.shape == (4, 30) and (W >= 0).all() and (H >= 0).all()
    W, H = initialize(V, 4, "nndsvd", 0, "float64")
    assert (W == 0).any()
    W, H = initialize(V, 4, "nndsvda", 0, "float64")
    assert not (W == 0).any()


@pytest.mark.parametrize("X, message", [
    (-np.ones((4, 3)), "negative"),
    (np.array([[1.0, np.nan], [1.0, 2.0]]), "NaN"),
    (np.array([[1.0, np.inf], [1.0, 2.0]]), "NaN or infinity"),
    (np.zeros((4, 3)), "all zeros"),
    (np.ones(5), "2-D"),
    (sp.csr_matrix(-np.eye(3)), "negative"),
    (torch.tensor([[1.0, -1.0], [1.0, 1.0]]), "negative"),
])
def test_bad_input_raises_clear_error(X, message):
    with pytest.raises(ValueError, match=message):
        NMF(1).fit(X)


@pytest.mark.parametrize("params, message", [
    ({"n_components": 0}, "n_components"),
    ({"n_components": 31}, "n_components=31 must be <="),
    ({"n_components": 2.5}, "n_components"),
    ({"n_components": 2, "loss": "l1"}, "loss must be one of"),
    ({"n_components": 2, "solver": "cd"}, "solver"),
    ({"n_components": 2, "init": "svd"}, "init"),
    ({"n_components": 2, "backend": "jax"}, "backend"),
    ({"n_components": 2, "dtype": "int8"}, "dtype"),
    ({"n_components": 2, "tol": -1}, "tol"),
    ({"n_components": 2, "learning_rate": 0}, "learning_rate"),
])
def test_bad_parameters_raise_at_fit(V, params, message):
    model = NMF(**params)   # __init__ only stores
    with pytest.raises(ValueError, match=message):
        model.fit(V)


def test_transform_shape_errors(V):
    model = NMF(3, max_iter=5, random_state=0).fit(V)
    with pytest.raises(ValueError, match="30"):
        model.transform(V[:, :10])
    with pytest.raises(ValueError, match="shape"):
        model.inverse_transform(np.ones((4, 2)))
    with pytest.raises(ValueError, match="not fitted"):
        NMF(3).transform(V)


def test_estimator_api_clone_and_params():
    model = NMF(3, loss="kl", init="nndsvda", random_state=5, backend="torch", dtype="float32")
    params = model.get_params()
    assert params["loss"] == "kl" and params["n_components"] == 3 and params["dtype"] == "float32"
    copy = clone(model)
    assert copy.get_params() == params and copy is not model
    model.set_params(n_components=4)
    assert model.n_components == 4
    assert not hasattr(copy, "components_")
    assert "loss='kl'" in repr(model)


def test_sparse_input_with_duplicates_and_unsorted_indices(V):
    coo = sp.coo_matrix(V)
    # split every entry in two halves stored as duplicates, in reversed order
    rows = np.concatenate([coo.row, coo.row])[::-1]
    cols = np.concatenate([coo.col, coo.col])[::-1]
    data = np.concatenate([coo.data / 2, coo.data / 2])[::-1]
    X = sp.csr_matrix((data, (rows, cols)), shape=V.shape)
    X.has_sorted_indices = False
    for loss in ("frobenius", "kl"):
        a = NMF(3, loss=loss, max_iter=15, tol=0, random_state=0).fit(V)
        b = NMF(3, loss=loss, max_iter=15, tol=0, random_state=0).fit(X)
        np.testing.assert_allclose(b.components_, a.components_, rtol=1e-9)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_dot_log_equals_xlogy_on_kl_ratios(backend):
    from paperlab.nmf.matrices import dot_log, xlogy_sum

    rng = np.random.default_rng(0)
    V = rng.random((30, 20)) * (rng.random((30, 20)) < 0.5)      # half the entries exactly 0
    R = V / np.maximum(rng.random((30, 20)), 1e-3)               # 0 exactly where V is
    if backend == "torch":
        V, R = torch.as_tensor(V), torch.as_tensor(R)
    assert dot_log(V, R) == pytest.approx(xlogy_sum(V, R), rel=1e-14)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_kl_history_equals_the_exact_objective_at_each_iterate(V, backend):
    """The per-iteration KL values (from the W-update's ratio) equal D(V‖WH) computed from scratch."""
    full = NMF(3, loss="kl", max_iter=6, tol=0, random_state=0, backend=backend).fit(V)
    np.testing.assert_array_equal(full.loss_history_iterations_, np.arange(7))
    for n in (1, 3, 5):
        short = NMF(3, loss="kl", max_iter=n, tol=0, random_state=0, backend=backend).fit(V)
        assert full.loss_history_[n] == pytest.approx(short.loss_history_[-1], rel=1e-12)


def test_default_eval_interval_is_sklearns_under_tol(V):
    under_tol = NMF(4, max_iter=25, tol=1e-12, random_state=0).fit(V)
    np.testing.assert_array_equal(under_tol.loss_history_iterations_, [0, 10, 20, 25])
    no_tol = NMF(4, max_iter=5, tol=0, random_state=0).fit(V)
    np.testing.assert_array_equal(no_tol.loss_history_iterations_, np.arange(6))
    with pytest.raises(ValueError, match="eval_every"):
        NMF(4, eval_every=-1).fit(V)


@pytest.mark.parametrize("loss", ["frobenius", "kl"])
def test_tol_stops_at_the_same_iteration_as_sklearn(V, loss):
    """Same W0/H0, scikit-learn's defaults for tol and its check interval: the same stopping iteration."""
    W0, H0 = initialize(V, 4, "random", 0, "float64")
    for tol in (1e-2, 1e-3):
        sk = SklearnNMF(4, solver="mu", beta_loss=SK_LOSS[loss], init="custom", tol=tol, max_iter=400)
        sk.fit_transform(V, W=W0.copy(), H=H0.copy())
        ours = NMF(4, loss=loss, tol=tol, max_iter=400).fit(V, W=W0.copy(), H=H0.copy())
        assert ours.n_iter_ == sk.n_iter_
        assert ours.loss_history_iterations_[-1] == ours.n_iter_
