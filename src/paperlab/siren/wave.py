"""Wave equation as an initial-value problem (Sec. 4.3), solved as the paper does: a network u(t, x, y)
trained on the residual u_tt - c^2 Laplace(u) at random collocation points, with the initial condition
u(0) = Gaussian and u_t(0) = 0 imposed on points at t = 0, and a time window that grows during
training (the authors' curriculum). Checked against a finite-difference solution computed here
(second-order leapfrog), whose own error is estimated by solving again on a grid twice as coarse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from paperlab.core.constraints import (
    POSITIVE, Check, Interval, Options, Unique, LAYER_WIDTH, LAYER_COUNT, POINTS, OMEGA, LEARNING_RATE)
from paperlab.core.plots import new_figure
from paperlab.siren.helmholtz import field_derivatives
from paperlab.siren.models import METHODS, build_model
from paperlab.siren.training import fit


@dataclass
class WaveConfig:
    """Authors' `train_wave_equation.py` / `WaveSource` / `wave_pml`: c = 1 (uniform medium), initial
    Gaussian at the origin of variance 5e-4 scaled to a peak of 1/50, 340^2 collocation points per step
    with t uniform in [0, 0.4 * progress], 2000 of them at t = 0 and 1000 of those in a disc around the
    source (authors: radius 500 v = 0.25 at v = 5e-4, i.e. 11.2 sigma; here a multiple of sigma, so
    that a wider Gaussian is not sampled over a disc 10x too large); loss sum|u_tt - Laplace u| + (N/10) sum_{t=0}|u - u0|
    + (N/100) sum_{t=0}|u_t|; 5 x 512 SIREN (3 hidden layers), Adam lr 2e-5, 100k steps."""

    _constraints = {"variance": POSITIVE, "peak": POSITIVE, "speed": POSITIVE, "t_max": POSITIVE,
                    "curriculum": Interval(0, 1), "collocation_points": POINTS,
                    "initial_points": Interval(1, "collocation_points"), "source_samples": Interval(1, "initial_points"),
                    "source_cutoff": Interval(0), "source_radius_sigmas": POSITIVE, "dirichlet_divisor": POSITIVE, "neumann_divisor": POSITIVE,
                    "steps": Interval(1), "lr": LEARNING_RATE, "hidden_features": LAYER_WIDTH, "hidden_layers": LAYER_COUNT,
                    "omega_0": OMEGA, "methods": [Options(*METHODS), Unique()],
                    "fd_points": Check(lambda v, c: 3 <= v <= 10_001 and v % 2 == 1, "an odd integer in [3, 10001] (the reference grid is fd_points^2, stepped in time)"),
                    "eval_side": Interval(2, "fd_points"), "snapshots": Interval(1, 1000, why="one evaluation grid per snapshot"), "log_every": Interval(1),
                    "checkpoint_every": Interval(1)}

    variance: float = 5e-4                 # variance of the initial Gaussian
    peak: float = 1.0 / 50.0               # its height
    speed: float = 1.0                     # wave speed c
    t_max: float = 0.4                     # end of the simulated time
    curriculum: float = 1.0                # fraction of the steps over which the time window grows to t_max
    collocation_points: int = 340 * 340    # random (t, x, y) points per step
    initial_points: int = 2000             # points at t = 0 per step
    source_samples: int = 1000             # of those, drawn in the source disc
    source_cutoff: float = 1e-5            # u0 below this is set to 0 (authors)
    source_radius_sigmas: float = 500 * math.sqrt(5e-4)  # source disc radius in std devs (authors' 0.25 at v = 5e-4)
    dirichlet_divisor: float = 10.0        # weight of the u(0) = u0 term: N / divisor
    neumann_divisor: float = 100.0         # weight of the u_t(0) = 0 term: N / divisor
    steps: int = 100_000                   # Adam steps per network
    lr: float = 2e-5                       # Adam learning rate
    hidden_features: int = 512             # width of the hidden layers
    hidden_layers: int = 3                 # layers between the first and the last
    omega_0: float = 30.0                  # SIREN: omega_0 of every sine layer
    methods: tuple[str, ...] = ("siren", "tanh")  # networks compared, trained alike
    fd_points: int = 801                   # finite-difference grid per axis on [-1, 1] (odd)
    eval_side: int = 101                   # evaluation grid per axis (a subsample of the FD grid)
    snapshots: int = 5                     # evaluation times, evenly from 0 to t_max
    log_every: int = 20                    # steps between records in metrics.jsonl
    checkpoint_every: int = 1000           # steps between checkpoints (resume points)


def initial_condition(xy: np.ndarray | torch.Tensor, cfg: WaveConfig):
    """u0(x) = peak * exp(-|x|^2 / (2 v)), zero below the cutoff (authors' normalised Gaussian / 50)."""
    lib = torch if isinstance(xy, torch.Tensor) else np
    g = cfg.peak * lib.exp(-(xy ** 2).sum(-1) / (2 * cfg.variance))
    return lib.where(g < cfg.source_cutoff, 0 * g, g)


def fd_laplacian(u: np.ndarray, h: float) -> np.ndarray:
    """Second-order central-difference Laplacian in any dimension; zero on the border (Dirichlet)."""
    out = np.zeros_like(u)
    inner = tuple(slice(1, -1) for _ in range(u.ndim))
    for axis in range(u.ndim):
        fwd = tuple(slice(2, None) if a == axis else slice(1, -1) for a in range(u.ndim))
        bwd = tuple(slice(None, -2) if a == axis else slice(1, -1) for a in range(u.ndim))
        out[inner] += (u[fwd] - 2 * u[inner] + u[bwd]) / h ** 2
    return out


def fd_wave(u0: np.ndarray, h: float, speed: float, times: list[float], cfl: float = 0.5) -> list[np.ndarray]:
    """Leapfrog u^{n+1} = 2u^n - u^{n-1} + (c dt)^2 Lap_h u^n in any dimension with a zero Dirichlet
    border and u_t(0) = 0 through the Taylor start u^1 = u^0 + (c dt)^2 / 2 Lap_h u^0. One step size
    dt <= cfl h / c for which every requested time is a whole number of steps (times must be
    multiples of their smallest positive gap). Returns u at each time."""
    if cfl * math.sqrt(u0.ndim) > 1.0 + 1e-12:
        raise ValueError(f"cfl {cfl} is unstable in {u0.ndim}-D (need cfl <= 1/sqrt(d))")
    positive = sorted({t for t in times if t > 0})
    if any(t < 0 for t in times):
        raise ValueError(f"times must be >= 0, got {times}")
    if not positive:
        return [u0.astype(np.float64).copy() for _ in times]
    gap = min(b - a for a, b in zip([0.0] + positive, positive))
    dt = gap / math.ceil(gap / (cfl * h / speed) - 1e-9)
    wanted = {round(t / dt): t for t in times}
    out = {0: u0.astype(np.float64).copy()}
    prev, cur = None, u0.astype(np.float64)
    for n in range(1, max(wanted) + 1):
        step = (speed * dt) ** 2 * fd_laplacian(cur, h)
        prev, cur = cur, (cur + step / 2 if prev is None else 2 * cur - prev + step)
        if n in wanted:
            out[n] = cur.copy()
    return [out[round(t / dt)] for t in times]


def fd_reference(cfg: WaveConfig, times: list[float], points: int) -> list[np.ndarray]:
    axis = np.linspace(-1, 1, points)
    xy = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1)
    return fd_wave(initial_condition(xy, cfg), 2.0 / (points - 1), cfg.speed, times)


def wave_loss(model, coords: torch.Tensor, u0: torch.Tensor, at_start: torch.Tensor, cfg: WaveConfig):
    """Authors' `wave_pml` divided by N: residual u_tt - c^2 (u_xx + u_yy) everywhere, Dirichlet u = u0 and
    Neumann u_t = 0 on the t = 0 points with weights N/10 and N/100."""
    out, jac, hess = field_derivatives(model, coords)
    residual = hess[:, 0, 0, 0] - cfg.speed ** 2 * (hess[:, 0, 1, 1] + hess[:, 0, 2, 2])
    n = coords.shape[0]
    dirichlet = torch.where(at_start, (out[:, 0] - u0).abs(), torch.zeros_like(u0)).sum() / n
    neumann = torch.where(at_start, jac[:, 0, 0].abs(), torch.zeros_like(u0)).sum() / n
    pde = residual.abs().mean()
    loss = pde + n / cfg.dirichlet_divisor * dirichlet + n / cfg.neumann_divisor * neumann
    return loss, {"residual": float(pde.detach()), "dirichlet": float(dirichlet.detach())}


def source_radius(cfg: WaveConfig) -> float:
    """Radius of the disc of t = 0 points around the source: `source_radius_sigmas` standard deviations.
    The authors' 500 v scales with the variance, not with sigma: at the quick scales' v = 5e-3 it gives a
    disc of radius 2.5 (the whole domain), so the initial condition is barely sampled."""
    return cfg.source_radius_sigmas * math.sqrt(cfg.variance)


def collocation_points(cfg: WaveConfig, step: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(t, x, y) points: t uniform in [0, t_max * progress]; the last `initial_points` at t = 0, the last
    `source_samples` of them in the source disc. Returns coords and the t = 0 mask."""
    n = cfg.collocation_points
    progress = min(1.0, (step + 1) / max(1.0, cfg.curriculum * cfg.steps))
    coords = torch.rand(n, 3, generator=generator)
    coords[:, 0] *= cfg.t_max * progress
    coords[:, 1:] = coords[:, 1:] * 2 - 1
    m = min(cfg.source_samples, n)
    radius = source_radius(cfg) * torch.rand(m, generator=generator).sqrt()
    theta = 2 * math.pi * torch.rand(m, generator=generator)
    coords[n - m:, 1:] = torch.stack([radius * torch.cos(theta), radius * torch.sin(theta)], -1)
    at_start = torch.zeros(n, dtype=torch.bool)
    at_start[n - min(cfg.initial_points, n):] = True
    coords[at_start, 0] = 0.0
    return coords, at_start


def wave(run, cfg: WaveConfig) -> dict:
    if cfg.fd_points % 2 == 0 or (cfg.fd_points - 1) % (cfg.eval_side - 1) != 0:
        raise ValueError(f"fd_points must be odd and fd_points - 1 a multiple of eval_side - 1, got "
                         f"{cfg.fd_points}, {cfg.eval_side}")
    times = [float(t) for t in np.linspace(0, cfg.t_max, cfg.snapshots)]
    fine = fd_reference(cfg, times, cfg.fd_points)
    coarse = fd_reference(cfg, times, (cfg.fd_points - 1) // 2 + 1)
    stride = (cfg.fd_points - 1) // (cfg.eval_side - 1)
    reference = [u[::stride, ::stride] for u in fine]
    fd_error = max(float(np.linalg.norm(c - f[::2, ::2]) / np.linalg.norm(f[::2, ::2])) for c, f in zip(coarse, fine))
    axis = torch.linspace(-1, 1, cfg.eval_side)
    xy = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)

    def fit_method(i: int, method: str) -> dict:
        torch.manual_seed(run.seed * 1000 + i)
        model = build_model(method, 3, 1, cfg.hidden_features, cfg.hidden_layers, cfg.omega_0, cfg.omega_0).to(run.device)
        generator = torch.Generator().manual_seed(run.seed)

        def objective(model, step):
            coords, at_start = collocation_points(cfg, step, generator)
            u0 = initial_condition(coords[:, 1:], cfg)
            return wave_loss(model, coords.to(run.device), u0.to(run.device), at_start.to(run.device), cfg)

        history = fit(model, objective, cfg.steps, cfg.lr, run, tag=method, log_every=cfg.log_every,
                      checkpoint_every=cfg.checkpoint_every)
        snaps = []
        with torch.no_grad():
            for t in times:
                coords = torch.cat([torch.full((xy.shape[0], 1), t), xy], -1).to(run.device)
                snaps.append(model(coords)[:, 0].cpu().numpy().reshape(cfg.eval_side, cfg.eval_side))
        run.save_file(f"snapshots_{method}.npy", lambda fh: np.save(fh, np.stack(snaps)))
        errors = [float(np.linalg.norm(s - r) / np.linalg.norm(r)) for s, r in zip(snaps, reference)]
        return {"relative_l2_by_time": errors,
                "curve": {"step": [r["step"] for r in history], "loss": [r["loss"] for r in history]}}

    for i, method in enumerate(cfg.methods):
        run.piece(method, lambda: fit_method(i, method))
    plot_snapshots(run, cfg, times, reference)
    return {"times": times, "relative_l2_by_time": {m: run.partial[m]["relative_l2_by_time"] for m in cfg.methods},
            "fd_coarse_vs_fine_relative_l2": fd_error, "steps": cfg.steps, "variance": cfg.variance,
            "source_radius": source_radius(cfg)}


def plot_snapshots(run, cfg: WaveConfig, times: list[float], reference: list[np.ndarray]) -> None:
    rows = [("finite differences", np.stack(reference))] + [(m, np.load(run.file(f"snapshots_{m}.npy")))
                                                           for m in cfg.methods]
    lim = float(np.abs(reference[0]).max())
    fig, axes = new_figure(len(rows), len(times), size=(2.1 * len(times), 2.2 * len(rows)))
    axes = np.asarray(axes).reshape(len(rows), len(times))
    for r, (label, snaps) in enumerate(rows):
        for c, t in enumerate(times):
            ax = axes[r, c]
            ax.imshow(snaps[c], cmap="RdBu", vmin=-lim / 4, vmax=lim / 4, extent=(-1, 1, -1, 1))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"t = {t:.2f}", fontsize=9)
            if r > 0:
                ax.set_xlabel(f"rel. L2 {run.partial[label]['relative_l2_by_time'][c]:.2f}", fontsize=7)
        axes[r, 0].set_ylabel(label, fontsize=8)
    run.save_figure(fig, "wave_snapshots")
