"""The Helmholtz and wave-equation machinery against exact solutions."""

import numpy as np
import pytest
import torch

from paperlab.siren.helmholtz import (HelmholtzConfig, evaluation_region, exact_solution, field_derivatives,
                                      helmholtz_residual)
from paperlab.siren.models import Siren
from paperlab.siren.wave import WaveConfig, collocation_points, fd_wave, initial_condition, source_radius


def test_exact_hankel_solution_has_zero_residual_away_from_the_source():
    cfg = HelmholtzConfig()
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.5, 0.5, size=(50, 2))
    x = x[np.linalg.norm(x, axis=1) > 0.1]
    h = 1e-3   # 4th-order 5-point stencil per axis on the complex128 field
    u = lambda p: exact_solution(p, cfg)  # noqa: E731
    lap = sum((-u(x + 2 * h * e) + 16 * u(x + h * e) - 30 * u(x) + 16 * u(x - h * e) - u(x - 2 * h * e)) / (12 * h * h)
              for e in np.eye(2))
    k2u = cfg.wavenumber ** 2 * u(x)
    assert np.abs(lap + k2u).max() / np.abs(k2u).max() < 1e-5


def test_exact_solution_is_outgoing_with_the_gaussian_factor():
    """Far field ~ s e^{-k^2 v/2} (-i/4) sqrt(2/(pi k r)) e^{i(kr - pi/4)}: outgoing for e^{-iwt}."""
    cfg = HelmholtzConfig()
    r = 40.0
    u = exact_solution(np.array([[r, 0.0]]), cfg)[0]
    k, s = cfg.wavenumber, cfg.source_real + 1j * cfg.source_imag
    far = s * np.exp(-k * k * cfg.source_variance / 2) * (-0.25j) * np.sqrt(2 / (np.pi * k * r)) * np.exp(1j * (k * r - np.pi / 4))
    assert abs(u - far) / abs(far) < 1e-3


class StretchedPlaneWave(torch.nn.Module):
    """exp(i k x~) with x~ = x + i a0 L d^3 / 3 sign(x): the exact solution of the PML-stretched equation."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg

    def forward(self, c):
        cfg = self.cfg
        depth = (c[:, 0].abs() - (1 - cfg.pml_width)).clamp_min(0) / cfg.pml_width
        imag = cfg.pml_a0 * cfg.pml_width * depth ** 3 / 3 * torch.sign(c[:, 0])
        amp = torch.exp(-cfg.wavenumber * imag)
        return torch.stack([amp * torch.cos(cfg.wavenumber * c[:, 0]), amp * torch.sin(cfg.wavenumber * c[:, 0])], -1)


def test_pml_operator_annihilates_the_stretched_plane_wave_everywhere():
    cfg = HelmholtzConfig()
    coords = torch.rand(300, 2, dtype=torch.float64) * 2 - 1       # inside and inside the PML (|x| > 0.5)
    model = StretchedPlaneWave(cfg)
    residual = helmholtz_residual(model, coords, cfg)
    scale = cfg.wavenumber ** 2 * model(coords).norm(dim=-1)
    assert float((residual.abs() / scale).max()) < 1e-9
    assert float(model(torch.tensor([[0.99, 0.0]], dtype=torch.float64)).norm()) < 0.01   # it decays in the layer


def test_field_derivatives_match_nested_autograd():
    torch.manual_seed(0)
    model = Siren(3, 2, 16, 1)
    x = torch.rand(20, 3) * 2 - 1
    out, jac, hess = field_derivatives(model, x)
    xg = x.clone().requires_grad_(True)
    y = model(xg)
    for c in range(2):
        g = torch.autograd.grad(y[:, c].sum(), xg, create_graph=True)[0]
        torch.testing.assert_close(jac[:, c], g, rtol=1e-4, atol=1e-4)
        for i in range(3):
            hi = torch.autograd.grad(g[:, i].sum(), xg, retain_graph=True)[0]
            torch.testing.assert_close(hess[:, c, i], hi, rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(out, y)


def test_evaluation_region_excludes_pml_and_source():
    cfg = HelmholtzConfig()
    pts = np.array([[0.0, 0.0], [0.05, 0.0], [0.3, 0.3], [0.7, 0.0], [0.0, -0.6]])
    assert evaluation_region(pts, cfg).tolist() == [False, False, True, False, False]


def test_fd_wave_solver_matches_dalembert_in_1d():
    x = np.linspace(-4, 4, 1601)
    g = lambda x: np.exp(-x ** 2 / (2 * 0.05))  # noqa: E731
    for t, u in zip([0.5, 1.0], fd_wave(g(x), x[1] - x[0], 1.0, [0.5, 1.0])):
        exact = (g(x - t) + g(x + t)) / 2
        assert np.abs(u - exact).max() < 1e-3 * exact.max()


def test_fd_wave_converges_at_second_order():
    x_coarse, x_fine = np.linspace(-4, 4, 401), np.linspace(-4, 4, 801)
    g = lambda x: np.exp(-x ** 2 / (2 * 0.05))  # noqa: E731
    errors = []
    for x in (x_coarse, x_fine):
        (u,) = fd_wave(g(x), x[1] - x[0], 1.0, [1.0])
        errors.append(np.abs(u - (g(x - 1) + g(x + 1)) / 2).max())
    assert 3.0 < errors[0] / errors[1] < 5.0


def test_fd_wave_rejects_unstable_step_and_negative_times():
    with pytest.raises(ValueError, match="unstable"):
        fd_wave(np.zeros((5, 5)), 0.1, 1.0, [0.1], cfl=0.9)
    with pytest.raises(ValueError, match="times must be >= 0"):
        fd_wave(np.zeros(5), 0.1, 1.0, [-0.1])


def test_wave_initial_condition_has_the_authors_peak():
    cfg = WaveConfig()
    assert float(initial_condition(np.zeros((1, 2)), cfg)[0]) == pytest.approx(1 / 50)
    assert float(initial_condition(np.array([[0.5, 0.0]]), cfg)[0]) == 0.0    # cut below 1e-5


@pytest.mark.parametrize("variance", [5e-4, 5e-3])
def test_wave_source_disc_radius_follows_sigma_not_variance(variance):
    """The t = 0 source points fill a disc of radius 5 sigma (quick/small), whatever the variance; the
    default reproduces the authors' 0.25 at their variance 5e-4."""
    cfg = WaveConfig(variance=variance, source_radius_sigmas=5.0, collocation_points=4000, initial_points=3000,
                     source_samples=2000, steps=10)
    coords, at_start = collocation_points(cfg, 0, torch.Generator().manual_seed(0))
    r = coords[-2000:, 1:].norm(dim=-1)
    sigma = variance ** 0.5
    assert source_radius(cfg) == pytest.approx(5 * sigma)
    assert float(r.max()) <= 5 * sigma + 1e-6 and float(r.max()) > 4.9 * sigma
    assert bool(at_start[-2000:].all()) and float(coords[at_start, 0].abs().max()) == 0.0
    # the whole nonzero support of u0 (above the cutoff) lies inside the disc
    support = float(np.sqrt(2 * variance * np.log(cfg.peak / cfg.source_cutoff)))
    assert support < 5 * sigma
    assert source_radius(WaveConfig()) == pytest.approx(0.25, rel=1e-6)
