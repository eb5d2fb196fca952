"""The oneDNN fp32 linear backend equals the reference layers to fp32 rounding, forward and backward."""
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from paperlab.core import linear as lin

pytestmark = pytest.mark.skipif(not lin.onednn_available(), reason="this torch build has no oneDNN")

RTOL, ATOL = 2e-5, 2e-5   # fp32 rounding of sums over a few hundred terms with a different order


@pytest.fixture(autouse=True)
def every_layer_fast(monkeypatch):
    """The test shapes are small: take the fast path for every layer (whatever this CPU's default) so that it is
    what is tested."""
    monkeypatch.setattr(lin, "MIN_MACS", 0)
    monkeypatch.setattr(lin, "_enabled", True)


def test_pinned_private_api():
    """The fast path relies on these private torch ops; fail loudly if an upgrade changes them."""
    schema = str(torch.ops.mkldnn._linear_pointwise.default._schema)
    assert schema == ("mkldnn::_linear_pointwise(Tensor X, Tensor W, Tensor? B, str attr, Scalar?[] scalars, "
                      "str? algorithm) -> Tensor Y"), schema
    assert str(torch.ops.aten.threshold_backward.default._schema) == (
        "aten::threshold_backward(Tensor grad_output, Tensor self, Scalar threshold) -> Tensor")
    x, w, b = torch.randn(130, 7), torch.randn(5, 7), torch.randn(5)
    torch.testing.assert_close(lin._mm(x, w, b), F.linear(x, w, b), rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(lin._mm(x, w, b, relu=True), F.linear(x, w, b).relu(), rtol=RTOL, atol=ATOL)
    g = torch.randn(130, 5)   # the transposed, non-contiguous operands of the backward pass
    torch.testing.assert_close(lin._mm(g, w.t()), g @ w, rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(lin._mm(x.t(), g.t()).t(), g.t() @ x, rtol=RTOL, atol=ATOL)


def _grads(fn, *tensors):
    leaves = [t.detach().clone().requires_grad_(True) for t in tensors]
    out = fn(*leaves)
    g = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    out.backward(g)
    return out.detach(), [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("shape", [(200, 17), (3, 70, 33)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_reference(relu, shape, with_bias):
    torch.manual_seed(0)
    x, w, b = torch.randn(*shape), torch.randn(29, shape[-1]), torch.randn(29)

    def fast(x, w, b):
        return lin.linear(x, w, b if with_bias else None, relu=relu)

    def ref(x, w, b):
        y = F.linear(x, w, b if with_bias else None)
        return y.relu() if relu else y

    y_fast, g_fast = _grads(fast, x, w, b)
    y_ref, g_ref = _grads(ref, x, w, b)
    torch.testing.assert_close(y_fast, y_ref, rtol=RTOL, atol=ATOL)
    for a, r in zip(g_fast, g_ref):
        if r is None:
            assert a is None
        else:
            torch.testing.assert_close(a, r, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("shared", [False, True])
def test_ensemble_linear_matches_baddbmm(relu, shared):
    torch.manual_seed(1)
    k, rows, fan_in, fan_out = 3, 150, 19, 23
    x = torch.randn(rows, fan_in) if shared else torch.randn(k, rows, fan_in)
    w, b = torch.randn(k, fan_in, fan_out), torch.randn(k, 1, fan_out)

    def ref(x, w, b):
        xs = x.expand(k, rows, fan_in) if shared else x
        y = torch.baddbmm(b, xs, w)
        return y.relu() if relu else y

    y_fast, g_fast = _grads(lambda *t: lin.ensemble_linear(*t, relu=relu), x, w, b)
    y_ref, g_ref = _grads(ref, x, w, b)
    torch.testing.assert_close(y_fast, y_ref, rtol=RTOL, atol=ATOL)
    for a, r in zip(g_fast, g_ref):
        torch.testing.assert_close(a, r, rtol=RTOL, atol=ATOL)


def test_double_backward_is_exact():
    """create_graph=True (SIREN's derivative supervision of baselines) differentiates the backward itself."""
    torch.manual_seed(2)
    x = torch.randn(160, 3, requires_grad=True)
    w1, b1, w2 = torch.randn(40, 3, requires_grad=True), torch.randn(40, requires_grad=True), torch.randn(1, 40)
    results = []
    for fast in (True, False):
        with lin.onednn_linear(fast):
            y = lin.linear(torch.tanh(lin.linear(x, w1, b1)), w2)
            (gx,) = torch.autograd.grad(y.sum(), x, create_graph=True)
            results.append(torch.autograd.grad(gx.square().sum(), (w1, b1)))
    for a, r in zip(*results):
        torch.testing.assert_close(a, r, rtol=1e-4, atol=1e-5)


def test_fallbacks_are_the_plain_path(monkeypatch):
    torch.manual_seed(3)
    w, b = torch.randn(8, 5), torch.randn(8)
    monkeypatch.setattr(lin, "MIN_MACS", 40 * 5 * 8)
    small = torch.randn(39, 5)                 # below MIN_MACS: plain F.linear, bit for bit
    assert torch.equal(lin.linear(small, w, b), F.linear(small, w, b))
    big = torch.randn(50, 5)
    before = lin.onednn_linear_enabled()
    with lin.onednn_linear(False):
        assert not lin.onednn_linear_enabled()
        assert torch.equal(lin.linear(big, w, b, relu=True), F.linear(big, w, b).relu())
        ew, eb = torch.randn(2, 5, 8), torch.randn(2, 1, 8)
        assert torch.equal(lin.ensemble_linear(big, ew, eb), torch.baddbmm(eb, big.expand(2, *big.shape), ew))
    assert lin.onednn_linear_enabled() == before   # the context manager restores the previous setting
    assert torch.equal(lin.linear(big.double(), w.double(), b.double()), F.linear(big.double(), w.double(),
                                                                                  b.double()))


def test_fast_path_is_taken(monkeypatch):
    calls = []
    real = lin._mm
    monkeypatch.setattr(lin, "_mm", lambda *a, **k: calls.append(1) or real(*a, **k))
    lin.linear(torch.randn(5, 4), torch.randn(3, 4))   # the fixture switches the fast path on
    assert calls


@pytest.mark.parametrize("capability, expected", [("AVX512", True), ("AVX512_BF16", True), ("AVX2", False),
                                                  ("DEFAULT", False)])
def test_default_follows_the_cpu_unless_the_environment_says(monkeypatch, capability, expected):
    """oneDNN is the default only where it measured faster (AVX-512); PAPERLAB_ONEDNN_LINEAR overrides both ways."""
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.delenv(lin.ENV_VAR, raising=False)
    assert lin._default_enabled() is expected
    monkeypatch.setenv(lin.ENV_VAR, "1")
    assert lin._default_enabled() is True
    monkeypatch.setenv(lin.ENV_VAR, "0")
    assert lin._default_enabled() is False


def test_environment_variable_switches_it_off():
    code = "from paperlab.core import linear; print(linear.onednn_linear_enabled())"
    env = {**os.environ, lin.ENV_VAR: "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_linear_module_and_relu_fusion_keep_nn_linear_semantics():
    torch.manual_seed(4)
    net = torch.nn.Sequential(lin.Linear(6, 9), torch.nn.ReLU(), lin.Linear(9, 2))
    ref = torch.nn.Sequential(torch.nn.Linear(6, 9), torch.nn.ReLU(), torch.nn.Linear(9, 2))
    ref.load_state_dict(net.state_dict())
    x = torch.randn(300, 6)
    torch.testing.assert_close(lin.sequential_forward(net, x), ref(x), rtol=RTOL, atol=ATOL)


def _models():
    from paperlab.rl.common.networks import EnsembleMLP, QEnsemble, TanhGaussianPolicy
    from paperlab.siren.models import build_model
    from paperlab.ssl.models import ProjectionHead

    torch.manual_seed(5)
    yield "q_ensemble", QEnsemble(11, 3, 2, (32, 24)), lambda m, x: m(x[:, :11], x[:, 11:14])
    yield "ensemble_per_member", EnsembleMLP(2, 14, 1, (32, 32)), lambda m, x: m(torch.stack([x, x.flip(0)]))
    yield "policy", TanhGaussianPolicy(14, 3, (40, 30)), lambda m, x: torch.cat(m(x), -1)
    yield "siren", build_model("siren", 2, 1, 32, 2), lambda m, x: m(x[:, :2])
    yield "siren_laplacian", build_model("siren", 2, 1, 32, 2), \
        lambda m, x: m.forward_with_derivatives(x[:, :2])["laplacian"]
    yield "relu_mlp", build_model("relu", 2, 1, 32, 2), lambda m, x: m(x[:, :2])
    yield "projection_head", ProjectionHead(14, 64, 8), lambda m, x: m(x)


@pytest.mark.parametrize("name", [n for n, _, _ in _models()])
def test_every_model_equals_its_plain_path(name):
    """RL networks and ensembles, SIREN (incl. its analytic Laplacian), SSL head: fast path == plain path."""
    _, model, run = next(m for m in _models() if m[0] == name)
    x = torch.randn(256, 14)
    outs = []
    for fast in (True, False):
        model.zero_grad(set_to_none=True)
        with lin.onednn_linear(fast):
            y = run(model, x)
        y.square().mean().backward()
        outs.append((y.detach(), [p.grad for p in model.parameters() if p.grad is not None]))
    (y_fast, g_fast), (y_ref, g_ref) = outs
    # fp32 rounding at the scale of each tensor (SIREN's Laplacian gradients span several decades)
    for a, r in zip([y_fast, *g_fast], [y_ref, *g_ref]):
        torch.testing.assert_close(a, r, rtol=1e-4, atol=1e-5 * float(r.abs().max()))
