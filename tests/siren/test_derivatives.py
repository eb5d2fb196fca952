"""Derivatives: a sine layer's derivative is a phase-shifted sine; SIREN's analytic derivatives equal
autograd's; the autograd operators and the grid filters agree with known functions and finite differences."""

import math

import numpy as np
import pytest
import torch

from paperlab.siren.data import coordinate_grid
from paperlab.siren.derivatives import gradient, laplace_filter, laplacian, model_derivatives, sobel_gradient
from paperlab.siren.models import Siren, SineLayer, build_model


def test_derivative_of_a_sine_layer_is_a_phase_shifted_sine_layer():
    torch.manual_seed(0)
    layer = SineLayer(1, 8, omega_0=30.0, is_first=True)
    x = torch.linspace(-1, 1, 50).reshape(-1, 1).requires_grad_(True)
    y = layer(x)
    dydx = torch.stack([torch.autograd.grad(y[:, k].sum(), x, retain_graph=True)[0][:, 0] for k in range(8)], 1)
    w, b = layer.linear.weight[:, 0].detach(), layer.linear.bias.detach()
    # d/dx sin(w0 (w x + b)) = w0 w sin(w0 (w x + b) + pi / 2)
    analytic = 30.0 * w * torch.sin(30.0 * (x.detach() * w + b) + math.pi / 2)
    torch.testing.assert_close(dydx, analytic, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("out_features", [1, 3])
def test_siren_forward_mode_derivatives_equal_autograd(out_features):
    torch.manual_seed(0)
    model = Siren(2, out_features, hidden_features=64, hidden_layers=2).double()
    x = (torch.rand(200, 2, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    analytic = model.forward_with_derivatives(x, order=2)
    y = model(x)
    torch.testing.assert_close(analytic["value"], y)
    torch.testing.assert_close(analytic["gradient"], gradient(y, x))
    torch.testing.assert_close(analytic["laplacian"], laplacian(y, x))


def test_analytic_derivatives_train_like_double_backward():
    """Used as a loss, the forward-mode Laplacian gives the parameters the same gradients as nested autograd."""
    torch.manual_seed(0)
    model = Siren(2, 1, hidden_features=32, hidden_layers=2).double()
    x = (torch.rand(64, 2, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    loss_a = model.forward_with_derivatives(x, 2)["laplacian"].square().mean()
    grads_a = torch.autograd.grad(loss_a, list(model.parameters()), allow_unused=True)
    loss_b = laplacian(model(x), x).square().mean()
    grads_b = torch.autograd.grad(loss_b, list(model.parameters()), allow_unused=True)
    for ga, gb in zip(grads_a, grads_b):       # the output bias does not reach the Laplacian: None in both
        assert (ga is None) == (gb is None)
        if ga is not None:
            torch.testing.assert_close(ga, gb)


class KnownFunction(torch.nn.Module):
    """f(x, y) = sin(2x) cos(3y) + x^2 y."""

    def forward(self, c):
        x, y = c[:, :1], c[:, 1:]
        return torch.sin(2 * x) * torch.cos(3 * y) + x ** 2 * y


def test_autograd_operators_match_the_analytic_derivatives_of_a_known_function():
    x = (torch.rand(100, 2, dtype=torch.float64) * 2 - 1)
    out = model_derivatives(KnownFunction(), x, order=2)
    a, b = x[:, 0], x[:, 1]
    grad = torch.stack([2 * torch.cos(2 * a) * torch.cos(3 * b) + 2 * a * b,
                        -3 * torch.sin(2 * a) * torch.sin(3 * b) + a ** 2], dim=1)
    lap = -13 * torch.sin(2 * a) * torch.cos(3 * b) + 2 * b
    torch.testing.assert_close(out["gradient"][:, 0], grad)
    torch.testing.assert_close(out["laplacian"][:, 0], lap)


@pytest.mark.parametrize("method", ["siren", "tanh", "relu_pe"])
def test_operators_match_finite_differences(method):
    torch.manual_seed(0)
    model = build_model(method, 2, 1, hidden_features=32, hidden_layers=2, samples_per_axis=16).double()
    x = torch.rand(30, 2, dtype=torch.float64) * 1.6 - 0.8
    out = model_derivatives(model, x, order=2)
    h = 1e-4
    with torch.no_grad():
        f0 = model(x)[:, 0]
        fd_grad, fd_lap = [], 0
        for i in range(2):
            e = torch.zeros(2, dtype=torch.float64)
            e[i] = h
            fp, fm = model(x + e)[:, 0], model(x - e)[:, 0]
            fd_grad.append((fp - fm) / (2 * h))
            fd_lap = fd_lap + (fp - 2 * f0 + fm) / h ** 2
    torch.testing.assert_close(out["gradient"][:, 0], torch.stack(fd_grad, 1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out["laplacian"][:, 0], fd_lap, atol=2e-2, rtol=1e-3)


def test_sobel_and_laplace_filters_are_in_grid_units():
    side = 129
    grid = coordinate_grid(side, side).numpy().astype(np.float64)
    r, c = grid[:, 0].reshape(side, side), grid[:, 1].reshape(side, side)
    image = np.sin(2 * r) + 0.5 * c ** 2
    grad = sobel_gradient(image)
    inner = (slice(2, -2), slice(2, -2))
    np.testing.assert_allclose(grad[..., 0][inner], 2 * np.cos(2 * r)[inner], atol=2e-3)
    np.testing.assert_allclose(grad[..., 1][inner], c[inner], atol=2e-3)
    np.testing.assert_allclose(laplace_filter(image)[inner], (-4 * np.sin(2 * r) + 1.0)[inner], atol=2e-3)
    with pytest.raises(ValueError, match="2-D"):
        sobel_gradient(np.zeros((4, 4, 3)))


def test_gradient_requires_coordinates_that_track_gradients():
    model = Siren(2, 1, 8, 1)
    x = torch.rand(4, 2)
    with pytest.raises(ValueError, match="requires_grad"):
        gradient(model(x), x)
