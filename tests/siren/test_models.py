"""SIREN initialisation, activation statistics and the baselines' construction."""

import math

import numpy as np
import pytest
import torch

from paperlab.siren.activations import build_stack, layer_statistics
from paperlab.siren.models import (METHODS, PositionalEncoding, Siren, SineLayer, build_model, nyquist_frequencies,
                                   sine_weight_bound)


def test_siren_init_bounds_follow_the_paper():
    torch.manual_seed(0)
    model = Siren(2, 1, hidden_features=256, hidden_layers=3, first_omega_0=30, hidden_omega_0=30)
    first = model.sine_layers[0].linear.weight
    assert first.abs().max() <= 1 / 2 + 1e-7          # U(-1/fan_in, 1/fan_in), fan_in = 2
    assert first.abs().max() > 0.4                      # and actually spans the interval
    bound = math.sqrt(6 / 256) / 30
    for layer in list(model.sine_layers[1:]) + [model.last]:
        w = (layer.weight if isinstance(layer, torch.nn.Linear) else layer.linear.weight).detach()
        assert w.abs().max() <= bound + 1e-7
        assert w.abs().max() > 0.95 * bound
        tolerance = 0.05 if w.numel() > 10_000 else 0.25
        assert abs(float(w.var()) - bound ** 2 / 3) < tolerance * bound ** 2 / 3   # variance of U(-a, a) is a^2/3
    assert sine_weight_bound(4, 30, True) == 0.25


def test_sine_layer_folds_omega_into_the_matmul():
    torch.manual_seed(0)
    layer = SineLayer(3, 5, omega_0=30.0)
    x = torch.rand(7, 3) * 2 - 1
    straightforward = torch.sin(30.0 * layer.linear(x))
    torch.testing.assert_close(layer(x), straightforward, atol=2e-5, rtol=0)


def test_paper_init_keeps_arcsine_activations_and_naive_init_collapses():
    torch.manual_seed(0)
    inputs = torch.linspace(-1, 1, 2048).reshape(-1, 1)
    paper, _ = layer_statistics(build_stack("paper", depth=12, width=512, omega_0=30), inputs)
    for row in paper[1:]:
        assert 0.44 <= row["act_var"] <= 0.56            # arcsine law: variance 1/2
        assert row["act_ks_arcsine"] < 0.06
        # omega_0 W x ~ N(0, 1) plus the default bias (variance 300/width)
        assert 0.8 <= row["pre_std"] <= math.sqrt(1 + 300 / 512) * 1.15
    naive, _ = layer_statistics(build_stack("default_sin1", depth=12, width=512, omega_0=30), inputs)
    assert naive[-1]["act_var"] < 0.02 < naive[0]["act_var"]
    wide, _ = layer_statistics(build_stack("default_sin30", depth=4, width=512, omega_0=30), inputs)
    assert min(r["pre_std"] for r in wide[1:]) > 5      # far wider than N(0, 1)


def test_nyquist_frequencies_match_the_authors_rule():
    assert nyquist_frequencies(128) == 5      # floor(log2(128 / 4))
    assert nyquist_frequencies(512) == 7
    assert nyquist_frequencies(8000) == 10
    with pytest.raises(ValueError, match="at least 4"):
        nyquist_frequencies(3)


def test_positional_encoding_values():
    enc = PositionalEncoding(2, 3)
    x = torch.tensor([[0.25, -0.5]])
    out = enc(x)
    assert out.shape == (1, 2 * (1 + 2 * 3))
    angles = np.array([0.25 * math.pi * 2 ** k for k in range(3)] + [-0.5 * math.pi * 2 ** k for k in range(3)])
    np.testing.assert_allclose(out[0, 2:8].numpy(), np.sin(angles), atol=1e-6)
    np.testing.assert_allclose(out[0, 8:].numpy(), np.cos(angles), atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_maps_coordinates_to_outputs(method):
    torch.manual_seed(0)
    model = build_model(method, 2, 3, hidden_features=16, hidden_layers=2, samples_per_axis=32, rbf_centres=8)
    out = model(torch.rand(5, 2) * 2 - 1)
    assert out.shape == (5, 3) and torch.isfinite(out).all()


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown method 'gelu'"):
        build_model("gelu", 2, 1)
    with pytest.raises(ValueError, match="hidden_features"):
        Siren(2, 1, hidden_features=0)


def test_rbf_layer_matches_the_broadcast_distance_form_in_value_and_gradients():
    """The matmul form of |x - c|^2 gives the outputs and the gradients (coordinates, centres, widths) of the
    direct [N, K, d] difference form."""
    from paperlab.siren.models import RBFLayer

    torch.manual_seed(0)
    layer = RBFLayer(2, 64).double()
    x = (torch.rand(500, 2, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    direct = torch.exp(-(x.unsqueeze(-2) - layer.centres).square().sum(-1) * layer.sigmas.square())
    fast = layer(x)
    torch.testing.assert_close(fast, direct, atol=1e-12, rtol=1e-10)
    weights = torch.rand_like(direct)
    g_direct = torch.autograd.grad((direct * weights).sum(), [x, layer.centres, layer.sigmas])
    g_fast = torch.autograd.grad((fast * weights).sum(), [x, layer.centres, layer.sigmas])
    for a, b in zip(g_fast, g_direct):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-8)
