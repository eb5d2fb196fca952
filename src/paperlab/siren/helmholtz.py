"""Helmholtz equation with a point source in a homogeneous medium (Sec. 4.3), solved as the paper
does: a network u(x) = (Re u, Im u) is trained on the PDE residual at random collocation points,
with a perfectly matched layer (PML) absorbing outgoing waves near the border. The exact solution is
a Hankel function, so the error of every method is measured against it.

Convention: time dependence e^{-i w t}, so outgoing waves are e^{+ikr} and the free-space solution of
  Laplace(u) + k^2 u = f,   f = s * N(x; x0, v I)   (a normalised Gaussian source of amplitude s)
is, away from the source,
  u(x) = s * exp(-k^2 v / 2) * (-i/4) H0^(1)(k |x - x0|).
The factor exp(-k^2 v / 2) is exact: a radial kernel acting on a Helmholtz solution multiplies it by
the kernel's 2-D Fourier transform at |xi| = k (the mean-value property of J0), here the Gaussian's.
The authors use the conjugate convention (e^{+iwt}, H0^(2), PML factor 1 - i s/k); the two are
complex conjugates of one another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.special
import torch

from paperlab.core.constraints import (
    POSITIVE, Interval, Options, Unique, LAYER_WIDTH, LAYER_COUNT, POINTS, OMEGA, LEARNING_RATE, size_bound)
from paperlab.core.plots import new_figure, plot_loss_curves
from paperlab.siren.data import coordinate_grid
from paperlab.siren.models import METHODS, build_model
from paperlab.siren.training import fit


@dataclass
class HelmholtzConfig:
    """Authors' `train_helmholtz.py` / `SingleHelmholtzSource` / `helmholtz_pml`: wavenumber 20, one
    source at the origin of amplitude 1 + 1i, a Gaussian of variance 1e-4 (cut where below 1e-5),
    230^2 uniform collocation points per step of which 100 are redrawn in the source disc (radius
    500 v), PML of width 0.5 with a0 = 5, loss sum|r| off the source + (N / 1e3) sum|r - f| on it
    (N = points per step), 5 x 256 network with 2 outputs, Adam lr 2e-5, 50k steps."""

    _constraints = {"wavenumber": POSITIVE, "source_variance": POSITIVE, "source_cutoff": Interval(0),
                    "collocation_points": POINTS, "source_samples": Interval(1, "collocation_points"),
                    "pml_width": Interval(0, 1, closed="neither"), "pml_a0": Interval(0), "source_weight_divisor": POSITIVE,
                    "steps": Interval(1), "lr": LEARNING_RATE, "hidden_features": LAYER_WIDTH, "hidden_layers": LAYER_COUNT,
                    "omega_0": OMEGA, "rbf_centres": size_bound(65_536, "one RBF unit per centre at every point"),
                    "pe_samples": Interval(2, 100_000, why="samples of the positional encoding's frequency range"),
                    "methods": [Options(*METHODS), Unique()], "eval_side": Interval(2, 4096, why="4096^2 grid points, each through every layer"),
                    "exclude_radius": Interval(0), "log_every": Interval(1), "checkpoint_every": Interval(1)}

    wavenumber: float = 20.0               # k of the Helmholtz equation
    source_variance: float = 1e-4          # variance of the Gaussian point source
    source_real: float = 1.0               # source amplitude, real part
    source_imag: float = 1.0               # source amplitude, imaginary part
    source_cutoff: float = 1e-5            # f below this is set to 0 (authors)
    collocation_points: int = 230 * 230    # random points per step on [-1, 1]^2
    source_samples: int = 100              # of which redrawn in the source disc
    pml_width: float = 0.5                 # width of the absorbing layer at the border
    pml_a0: float = 5.0                    # PML stretching strength
    source_weight_divisor: float = 1e3     # on-source term weight N / divisor (authors)
    steps: int = 50_000                    # Adam steps per network
    lr: float = 2e-5                       # Adam learning rate
    hidden_features: int = 256             # width of the hidden layers
    hidden_layers: int = 3                 # layers between the first and the last
    omega_0: float = 30.0                  # SIREN: omega_0 of every sine layer
    rbf_centres: int = 1024                # RBF-ReLU: centres of its RBF input layer
    pe_samples: int = 230                  # ReLU+P.E. octaves by the Nyquist rule for this many samples per axis
    methods: tuple[str, ...] = ("siren", "tanh", "relu", "relu_pe", "rbf_relu")  # networks compared, trained alike
    eval_side: int = 128                   # grid side the error is evaluated on
    exclude_radius: float = 0.1            # the error is measured at |x - x0| >= this, outside the PML
    log_every: int = 20                    # steps between records in metrics.jsonl
    checkpoint_every: int = 1000           # steps between checkpoints (resume points)


def gaussian_source(coords: torch.Tensor, cfg: HelmholtzConfig) -> torch.Tensor:
    """Complex source f(x) = s N(x; 0, v I), zero where |f| components fall below the cutoff."""
    r2 = coords.square().sum(-1)
    g = torch.exp(-r2 / (2 * cfg.source_variance)) / (2 * math.pi * cfg.source_variance)
    g = torch.where(g < cfg.source_cutoff, torch.zeros_like(g), g)
    return torch.complex(cfg.source_real * g, cfg.source_imag * g)


def exact_solution(coords: np.ndarray, cfg: HelmholtzConfig) -> np.ndarray:
    """u(x) = s exp(-k^2 v / 2) (-i/4) H0^(1)(k r): exact away from the source (complex128 [N])."""
    r = np.linalg.norm(np.asarray(coords, dtype=np.float64), axis=-1)
    s = cfg.source_real + 1j * cfg.source_imag
    k = cfg.wavenumber
    return s * np.exp(-k * k * cfg.source_variance / 2) * (-0.25j) * scipy.special.hankel1(0, k * np.maximum(r, 1e-12))


def pml_factors(coords: torch.Tensor, cfg: HelmholtzConfig) -> tuple[torch.Tensor, ...]:
    """Coordinate-stretching factors e_x = 1 + i s_x / k, e_y = 1 + i s_y / k with the authors' profile
    s = k a0 (d / L)^2 (d the depth into the layer of width L at each border, 0 inside), and their
    derivatives d e_x / dx, d e_y / dy."""
    inner = 1.0 - cfg.pml_width
    depth = (coords.abs() - inner).clamp_min(0) / cfg.pml_width          # [N, 2]
    stretch = cfg.pml_a0 * depth.square()                                 # s / k
    slope = 2 * cfg.pml_a0 * depth * torch.sign(coords) / cfg.pml_width    # d(s / k) / dx
    one, zero = torch.ones_like(stretch[:, 0]), torch.zeros_like(stretch[:, 0])
    ex, ey = torch.complex(one, stretch[:, 0]), torch.complex(one, stretch[:, 1])
    return ex, ey, torch.complex(zero, slope[:, 0]), torch.complex(zero, slope[:, 1])


def field_derivatives(model, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Value [N, C], Jacobian [N, C, 2] and Hessian [N, C, 2, 2] of a pointwise model, in one pass
    (forward-over-reverse per point with torch.func), kept in the graph for training."""
    from torch.func import jacfwd, jacrev, vmap

    def value(p):
        out = model(p.unsqueeze(0))[0]
        return out, out

    def jacobian(p):
        jac, out = jacrev(value, has_aux=True)(p)
        return jac, (jac, out)

    hess, (jac, out) = vmap(jacfwd(jacobian, has_aux=True))(coords)
    return out, jac, hess


def helmholtz_residual(model, coords: torch.Tensor, cfg: HelmholtzConfig) -> torch.Tensor:
    """r = d_x(e_y/e_x d_x u) + d_y(e_x/e_y d_y u) + e_x e_y k^2 u: the stretched-coordinate Helmholtz
    operator (authors' `helmholtz_pml`), expanded by the product rule with the analytic derivatives of
    the PML factors; equal to Laplace(u) + k^2 u inside the PML's inner edge. The model's two outputs
    are Re u and Im u."""
    out, jac, hess = field_derivatives(model, coords)
    # bf16 (under --precision bf16-mixed) has no complex type: lift it to fp32; float64 stays float64
    lift = lambda t: t.float() if t.dtype in (torch.bfloat16, torch.float16) else t  # noqa: E731
    cplx = lambda t: torch.complex(lift(t[:, 0]), lift(t[:, 1]))  # noqa: E731
    u, ux, uy = cplx(out), cplx(jac[..., 0]), cplx(jac[..., 1])
    uxx, uyy = cplx(hess[..., 0, 0]), cplx(hess[..., 1, 1])
    ex, ey, dex, dey = pml_factors(coords, cfg)
    a = ey / ex * uxx - ey * dex / ex.square() * ux
    b = ex / ey * uyy - ex * dey / ey.square() * uy
    return a + b + ex * ey * cfg.wavenumber ** 2 * u


def helmholtz_loss(model, coords: torch.Tensor, cfg: HelmholtzConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """Authors' loss divided by N: (sum_off |r| + (N / 1e3) sum_on |r - f|) / N, |z| = |Re z| + |Im z|."""
    f = gaussian_source(coords, cfg)
    residual = helmholtz_residual(model, coords, cfg)
    on = f != 0
    l1 = lambda z: z.real.abs() + z.imag.abs()  # noqa: E731
    n = coords.shape[0]
    off_term = torch.where(on, torch.zeros_like(f.real), l1(residual)).sum() / n
    on_term = torch.where(on, l1(residual - f), torch.zeros_like(f.real)).sum() / n
    loss = off_term + (n / cfg.source_weight_divisor) * on_term
    return loss, {"residual_off": float(off_term.detach()), "residual_on": float(on_term.detach())}


def collocation_points(cfg: HelmholtzConfig, generator: torch.Generator) -> torch.Tensor:
    """Uniform points in [-1, 1]^2, the last `source_samples` uniform in the source disc (radius 500 v)."""
    coords = torch.rand(cfg.collocation_points, 2, generator=generator) * 2 - 1
    m = min(cfg.source_samples, cfg.collocation_points)
    radius = 5e2 * cfg.source_variance * torch.rand(m, generator=generator).sqrt()
    theta = 2 * math.pi * torch.rand(m, generator=generator)
    coords[-m:] = torch.stack([radius * torch.cos(theta), radius * torch.sin(theta)], dim=-1)
    return coords


def evaluation_region(grid: np.ndarray, cfg: HelmholtzConfig) -> np.ndarray:
    """Grid points inside the PML's inner edge and at least `exclude_radius` from the source."""
    inner = 1.0 - cfg.pml_width
    return (np.abs(grid).max(-1) <= inner) & (np.linalg.norm(grid, axis=-1) >= cfg.exclude_radius)


def helmholtz(run, cfg: HelmholtzConfig) -> dict:
    grid = coordinate_grid(cfg.eval_side, cfg.eval_side)
    grid_np = grid.numpy().astype(np.float64)
    exact = exact_solution(grid_np, cfg)
    region = evaluation_region(grid_np, cfg)
    def fit_method(i: int, method: str) -> dict:
        torch.manual_seed(run.seed * 1000 + i)
        model = build_model(method, 2, 2, cfg.hidden_features, cfg.hidden_layers, cfg.omega_0, cfg.omega_0,
                            samples_per_axis=cfg.pe_samples, rbf_centres=cfg.rbf_centres).to(run.device)
        generator = torch.Generator().manual_seed(run.seed)

        def objective(model, step):
            return helmholtz_loss(model, collocation_points(cfg, generator).to(run.device), cfg)

        history = fit(model, objective, cfg.steps, cfg.lr, run, tag=method, log_every=cfg.log_every,
                      checkpoint_every=cfg.checkpoint_every)
        with torch.no_grad():
            pred = torch.cat([model(c.to(run.device)).cpu() for c in grid.split(16384)]).numpy().astype(np.float64)
        field = pred[:, 0] + 1j * pred[:, 1]
        run.save_file(f"field_{method}.npy", lambda fh: np.save(fh, field))
        err = field[region] - exact[region]
        return {
            "relative_l2_error": float(np.linalg.norm(err) / np.linalg.norm(exact[region])),
            "mse": float(np.mean(err.real ** 2 + err.imag ** 2) / 2),     # per real component, as the paper's MSE
            "curve": {"step": [r["step"] for r in history], "loss": [r["loss"] for r in history]}}

    for i, method in enumerate(cfg.methods):
        run.piece(method, lambda: fit_method(i, method))
    plot_fields(run, cfg, exact, region)
    return {"relative_l2_error": {m: run.partial[m]["relative_l2_error"] for m in cfg.methods},
            "mse": {m: run.partial[m]["mse"] for m in cfg.methods},
            "exact_mean_square": float(np.mean(np.abs(exact[region]) ** 2) / 2),
            "steps": cfg.steps, "collocation_points": cfg.collocation_points, "wavenumber": cfg.wavenumber}


def plot_fields(run, cfg: HelmholtzConfig, exact: np.ndarray, region: np.ndarray) -> None:
    side = cfg.eval_side
    rows = [("exact (Hankel)", exact)] + [(m, np.load(run.file(f"field_{m}.npy"))) for m in cfg.methods]
    scale = float(np.abs(exact[region]).max())
    fig, axes = new_figure(len(rows), 3, size=(8, 2.5 * len(rows)))
    axes = np.asarray(axes).reshape(len(rows), 3)
    inner = 1.0 - cfg.pml_width
    for r, (label, field) in enumerate(rows):
        error = np.where(region, np.abs(field - exact), np.nan)
        for c, (img, cmap, lim) in enumerate(((field.real, "RdBu", scale), (field.imag, "RdBu", scale),
                                               (error, "magma", scale))):
            ax = axes[r, c]
            im = ax.imshow(img.reshape(side, side), cmap=cmap, vmin=-lim if c < 2 else 0, vmax=lim,
                           extent=(-1, 1, -1, 1))
            ax.plot([-inner, inner, inner, -inner, -inner], [-inner, -inner, inner, inner, -inner], "k--", lw=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(("real part", "imaginary part", "|error| (evaluated region)")[c], fontsize=9)
            fig.colorbar(im, ax=ax, fraction=0.046)
        rel = "" if r == 0 else f"\nrel. L2 {run.partial[label]['relative_l2_error']:.3f}"
        axes[r, 0].set_ylabel(label + rel, fontsize=8)
    run.save_figure(fig, "helmholtz_fields")
    fig = plot_loss_curves({m: run.partial[m]["curve"] for m in cfg.methods}, "residual loss")
    run.save_figure(fig, "loss_vs_step")
