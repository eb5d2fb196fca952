"""2-D signed distance function from an oriented point cloud (Sec. 4.2, Eq. 6, here on the outline
of scikit-image's horse silhouette instead of 3-D scans)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from paperlab.core.plots import new_figure
from paperlab.core.constraints import (
    Interval, POSITIVE, LAYER_WIDTH, LAYER_COUNT, POINTS, OMEGA, LEARNING_RATE, NON_NEGATIVE)
from paperlab.siren.data import coordinate_grid, signed_distance_grid, silhouette_outline
from paperlab.siren.derivatives import model_derivatives
from paperlab.siren.images import IMAGE
from paperlab.siren.models import Siren
from paperlab.siren.training import evaluate_fields, fit


@dataclass
class SDFLossConfig:
    """What the 2-D and 3-D fits share: the authors' `sdf_loss` weights (3e3 surface, 1e2 off-surface,
    1e2 normals, 5e1 eikonal), the batch (1400 surface + 1400 uniform points per step), a 5 x 256
    SIREN, omega_0 = 30, Adam lr 1e-4 with the gradient clipped to norm 1 (`clip_grad=True`).

    The loss leaves the sign of Phi away from the surface free: exp(-100|Phi|) and ||grad Phi| - 1| accept
    -Phi as well as Phi, and only the normals near the surface fix the sign there. Far from the points a
    fit can settle on either sign, or on an egg-crate of both (|grad Phi| = 1, spurious zero curves):
    which one depends on the seed (a lottery measured in issue 28), so the SDF claims are judged per seed
    over several seeds."""
    _constraints = {"surface_batch": POINTS, "space_batch": POINTS, "steps": Interval(1), "lr": LEARNING_RATE,
                    "hidden_features": LAYER_WIDTH, "hidden_layers": LAYER_COUNT, "omega_0": OMEGA,
                    "first_omega_0": OMEGA, "clip_grad_norm": Interval(0),
                    "off_surface_alpha": POSITIVE, "weight_surface": NON_NEGATIVE, "weight_off_surface": NON_NEGATIVE,
                    "weight_normal": NON_NEGATIVE, "weight_eikonal": NON_NEGATIVE, "log_every": Interval(1),
                    "checkpoint_every": Interval(1)}

    surface_batch: int = 1400           # surface points (with normals) per step
    space_batch: int = 1400             # uniform points in the domain per step
    steps: int = 10_000                 # Adam steps
    lr: float = 1e-4                    # Adam learning rate
    hidden_features: int = 256          # width of the hidden layers
    hidden_layers: int = 3              # layers between the first and the last
    omega_0: float = 30.0               # omega_0 of the hidden sine layers
    first_omega_0: float = 30.0         # omega_0 of the first sine layer (authors: 30)
    clip_grad_norm: float = 1.0         # global gradient-norm clip before each Adam step; 0 = off (authors: 1)
    weight_surface: float = 3e3         # weight of |Phi| on the surface
    weight_off_surface: float = 1e2     # weight of exp(-alpha |Phi|) off it
    weight_normal: float = 1e2          # weight of 1 - cos(grad Phi, n)
    weight_eikonal: float = 5e1         # weight of ||grad Phi| - 1|
    off_surface_alpha: float = 100.0    # exp(-alpha |Phi|) penalises small |Phi| away from the surface
    log_every: int = 10                 # steps between records in metrics.jsonl
    checkpoint_every: int = 1000        # steps between checkpoints (resume points)


@dataclass
class SDFConfig(SDFLossConfig):
    """2-D: the outline of a bundled image's silhouette, evaluated on a grid against its exact SDF."""
    _constraints = {"shape": IMAGE, "outline_points": Interval(8, POINTS.high, why=POINTS.why),
                    "eval_side": Interval(8, 4096, why="4096^2 grid points, each through every layer"),
                    "near_surface": POSITIVE}

    shape: str = "horse"                # silhouette image (bundled name or file) whose outline is fitted
    outline_points: int = 4000          # points (with normals) on the outline
    eval_side: int = 128                # grid side of the evaluation (and of the true SDF)
    near_surface: float = 0.05          # |true SDF| below this counts as "at the surface" for the eikonal check

def sdf_loss(model, surface: torch.Tensor, normals: torch.Tensor, space: torch.Tensor, cfg: SDFLossConfig):
    """Eq. 6: |Phi| on the surface, exp(-alpha|Phi|) off it, 1 - cos(grad Phi, n) on it, ||grad Phi| - 1| everywhere.

    As in the authors' `sdf` loss, every term is averaged over *all* points of the batch (surface and
    off-surface), with zeros where a term does not apply; with equal batches the surface, normal and
    off-surface terms thus carry half the weight they would have if averaged over their own subset.
    Works in any dimension (2-D outlines, 3-D shapes)."""
    coords = torch.cat([surface, space])
    out = model_derivatives(model, coords, order=1)
    phi, grad = out["value"][:, 0], out["gradient"][:, 0]
    n_surf, n_all = surface.shape[0], coords.shape[0]
    surface_term = phi[:n_surf].abs().sum() / n_all
    off_surface_term = torch.exp(-cfg.off_surface_alpha * phi[n_surf:].abs()).sum() / n_all
    normal_term = (1 - torch.nn.functional.cosine_similarity(grad[:n_surf], normals, dim=-1)).sum() / n_all
    eikonal_term = (grad.norm(dim=-1) - 1).abs().mean()
    loss = (cfg.weight_surface * surface_term + cfg.weight_off_surface * off_surface_term
            + cfg.weight_normal * normal_term + cfg.weight_eikonal * eikonal_term)
    return loss, {"surface": float(surface_term.detach()), "normal": float(normal_term.detach()),
                  "eikonal": float(eikonal_term.detach())}


def sdf_2d(run, cfg: SDFConfig) -> dict:
    outline = silhouette_outline(cfg.shape, cfg.eval_side, cfg.outline_points)
    points = torch.as_tensor(outline["points"], device=run.device)
    normals = torch.as_tensor(outline["normals"], device=run.device)
    generator = torch.Generator().manual_seed(run.seed)
    model = Siren(2, 1, cfg.hidden_features, cfg.hidden_layers, cfg.first_omega_0, cfg.omega_0).to(run.device)

    def objective(model, step):
        idx = torch.randint(points.shape[0], (cfg.surface_batch,), generator=generator).to(run.device)
        space = (torch.rand(cfg.space_batch, 2, generator=generator) * 2 - 1).to(run.device)
        return sdf_loss(model, points[idx], normals[idx], space, cfg)

    objective.generators = {"points": generator}

    def fit_siren() -> dict:
        history = fit(model, objective, cfg.steps, cfg.lr, run, tag="siren", log_every=cfg.log_every,
                      checkpoint_every=cfg.checkpoint_every, clip_grad_norm=cfg.clip_grad_norm)
        run.save_file("sdf_model.pt", lambda fh: torch.save(model.state_dict(), fh))
        return {"final_loss": history[-1]["loss"] if history else float("nan")}

    run.piece("siren", fit_siren)
    model.load_state_dict(torch.load(run.file("sdf_model.pt"), map_location=run.device, weights_only=True))
    grid = coordinate_grid(cfg.eval_side, cfg.eval_side).to(run.device)
    fields = evaluate_fields(model, grid, order=1)
    phi = fields["value"].numpy().reshape(cfg.eval_side, cfg.eval_side)
    grad_norm = fields["gradient"][:, 0].norm(dim=-1).numpy().reshape(cfg.eval_side, cfg.eval_side)
    true_sdf = signed_distance_grid(outline["inside"])
    away = np.abs(true_sdf) > cfg.near_surface
    on_surface = evaluate_fields(model, points, order=0)["value"].numpy().ravel()
    results = {
        "surface_abs_mean": float(np.abs(on_surface).mean()),
        "surface_abs_p95": float(np.percentile(np.abs(on_surface), 95)),
        "eikonal_abs_dev_mean_away": float(np.abs(grad_norm[away] - 1).mean()),
        "eikonal_abs_dev_median_away": float(np.median(np.abs(grad_norm[away] - 1))),
        "sign_agreement": float(np.mean(np.sign(phi[away]) == np.sign(true_sdf[away]))),
        "mae_vs_true_sdf": float(np.abs(phi - true_sdf).mean()),
        "pixel_size": 2.0 / (cfg.eval_side - 1), "steps": cfg.steps,
        "first_omega_0": cfg.first_omega_0, "clip_grad_norm": cfg.clip_grad_norm,
    }
    fig, axes = new_figure(1, 2, size=(10, 4.6))
    axes = axes.ravel()
    levels = np.linspace(-0.5, 0.5, 21)
    cs = axes[0].contourf(grid[:, 1].cpu().numpy().reshape(phi.shape), -grid[:, 0].cpu().numpy().reshape(phi.shape),
                          phi, levels=levels, cmap="RdBu", extend="both")
    axes[0].contour(grid[:, 1].cpu().numpy().reshape(phi.shape), -grid[:, 0].cpu().numpy().reshape(phi.shape),
                    phi, levels=[0.0], colors="k", linewidths=1.5)
    axes[0].plot(outline["points"][:, 1], -outline["points"][:, 0], "y.", markersize=0.6)
    axes[0].set_title("level sets of Phi (black: zero set, yellow: outline)")
    fig.colorbar(cs, ax=axes[0])
    im = axes[1].imshow(grad_norm, cmap="viridis", vmin=0, vmax=2)
    axes[1].set_title(f"|grad Phi| (mean ||grad|-1| away: {results['eikonal_abs_dev_mean_away']:.3f})")
    fig.colorbar(im, ax=axes[1])
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    run.save_figure(fig, "sdf_level_sets")
    return results
