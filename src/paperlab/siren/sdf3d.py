"""3-D signed distance functions from oriented point clouds (Sec. 4.2, Eq. 6), on shapes whose exact
SDF is known (a torus; a union of disjoint spheres and a box) so that the error is measurable, or on
any mesh file a user gives (loaded and sampled with trimesh). The loss is the 2-D experiment's
(`paperlab.siren.sdf.sdf_loss`, the authors' weights and averaging); the zero level set is extracted
with scikit-image's marching cubes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from paperlab.core.constraints import POSITIVE, Interval, Options, Unique, POINTS, DataFile
from paperlab.core.plots import new_figure
from paperlab.siren.models import Siren
from paperlab.siren.sdf import SDFLossConfig, sdf_loss
from paperlab.siren.training import evaluate_fields, fit

SHAPES = ("torus", "spheres-box")


def torus_sdf(p: torch.Tensor, major: float = 0.5, minor: float = 0.2) -> torch.Tensor:
    """Exact SDF of a torus around the z axis: | (|p_xy| - R, p_z) | - r."""
    ring = torch.sqrt(p[..., 0] ** 2 + p[..., 1] ** 2) - major
    return torch.sqrt(ring ** 2 + p[..., 2] ** 2) - minor


def sphere_sdf(p: torch.Tensor, centre, radius: float) -> torch.Tensor:
    return (p - p.new_tensor(centre)).norm(dim=-1) - radius


def box_sdf(p: torch.Tensor, centre, half) -> torch.Tensor:
    """Exact SDF of an axis-aligned box: |max(q, 0)| + min(max_i q_i, 0), q = |p - c| - b."""
    q = (p - p.new_tensor(centre)).abs() - p.new_tensor(half)
    return q.clamp_min(0).norm(dim=-1) + q.max(dim=-1).values.clamp_max(0)


def spheres_box_sdf(p: torch.Tensor) -> torch.Tensor:
    """Union of two spheres and a box that do not touch, so min of the exact SDFs is exact everywhere
    (inside one part the nearest boundary is that part's own)."""
    return torch.minimum(torch.minimum(sphere_sdf(p, (-0.45, 0.0, 0.0), 0.3), sphere_sdf(p, (0.45, 0.4, 0.0), 0.2)),
                         box_sdf(p, (0.4, -0.3, 0.05), (0.2, 0.15, 0.3)))


def analytic_sdf(shape: str):
    if shape == "torus":
        return torus_sdf
    if shape == "spheres-box":
        return spheres_box_sdf
    raise ValueError(f"unknown shape {shape!r}; valid: {', '.join(SHAPES)} (or a mesh file via mesh=PATH)")


def sdf_gradient(sdf, p: torch.Tensor) -> torch.Tensor:
    with torch.enable_grad():
        p = p.detach().requires_grad_(True)
        return torch.autograd.grad(sdf(p).sum(), p)[0]


def triangle_samples(vertices: np.ndarray, faces: np.ndarray, count: int, rng: np.random.Generator):
    """`count` points uniform by area on a triangle mesh, and the index of each point's face."""
    tri = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if not np.isfinite(area).all() or area.sum() <= 0:
        raise ValueError("mesh has no triangle of positive area")
    idx = rng.choice(len(faces), size=count, p=area / area.sum())
    u, v = rng.random((2, count))
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    t = tri[idx]
    return t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0]), idx


def analytic_point_cloud(shape: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points and unit normals on an analytic shape: area-uniform samples of its marching-cubes mesh,
    projected onto the exact surface (p <- p - Phi(p) grad Phi(p), twice), normals = grad Phi."""
    from skimage.measure import marching_cubes

    sdf = analytic_sdf(shape)
    side = 96
    axis = torch.linspace(-1, 1, side, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1)
    verts, faces, _, _ = marching_cubes(sdf(grid).numpy(), level=0.0, spacing=(2 / (side - 1),) * 3)
    points, _ = triangle_samples(verts - 1.0, faces, count, np.random.default_rng(seed))
    p = torch.as_tensor(points, dtype=torch.float64)
    for _ in range(2):
        p = p - sdf(p)[:, None] * sdf_gradient(sdf, p)
    normals = torch.nn.functional.normalize(sdf_gradient(sdf, p), dim=-1)
    return p.numpy().astype(np.float32), normals.numpy().astype(np.float32)


def load_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(vertices [V, 3], faces [F, 3]) of a mesh file trimesh reads (OBJ, PLY, STL, OFF, ...); a bad
    file raises a ValueError naming the path."""
    import trimesh

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"mesh file {str(path)!r} does not exist or is not a file")
    try:
        mesh = trimesh.load(str(path), force="mesh", process=False)
    except Exception as err:  # trimesh raises many kinds on malformed input
        raise ValueError(f"cannot read mesh {str(path)!r}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
    vertices = np.asarray(getattr(mesh, "vertices", np.zeros((0, 3))), dtype=np.float64)
    faces = np.asarray(getattr(mesh, "faces", np.zeros((0, 3))), dtype=np.int64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or len(faces) == 0 or not np.isfinite(vertices).all():
        raise ValueError(f"mesh {str(path)!r} has no triangles (need vertices and faces of a surface mesh)")
    return vertices, faces


def check_mesh(path: str | Path) -> None:
    """A mesh the 3-D experiment can sample (checked when the config is made): readable, with triangles
    that do not all sit on one point."""
    vertices, _ = load_mesh(path)
    if np.ptp(vertices, axis=0).max() <= 0:
        raise ValueError(f"mesh {str(path)!r} is degenerate (all vertices coincide)")


def mesh_point_cloud(path: str | Path, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Area-uniform surface points of a mesh with its face normals, centred on the bounding box and
    scaled (aspect kept) so that the largest coordinate is 0.9, inside the [-1, 1]^3 sampling box."""
    vertices, faces = load_mesh(path)
    vertices = vertices - (vertices.max(0) + vertices.min(0)) / 2
    extent = np.abs(vertices).max()
    if extent <= 0:
        raise ValueError(f"mesh {str(path)!r} is degenerate (all vertices coincide)")
    vertices = vertices * (0.9 / extent)
    points, idx = triangle_samples(vertices, faces, count, np.random.default_rng(seed))
    tri = vertices[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True).clip(1e-12)
    return points.astype(np.float32), normals[idx].astype(np.float32)


@dataclass
class SDF3DConfig(SDFLossConfig):
    """Authors' `train_sdf.py`: 1400 surface points (with normals) + 1400 uniform points in [-1, 1]^3 per
    step, the `sdf` loss weights (3e3, 1e2, 1e2, 5e1), 5 x 256 SIREN, Adam lr 1e-4, 10k epochs over the
    point cloud. Shapes: analytic ones with exact SDFs, or `mesh=PATH` (any file trimesh reads)."""

    _constraints = {"shapes": [Options(*SHAPES), Unique()], "mesh": DataFile(lambda path: check_mesh(path), "mesh file"),
                    "surface_points": POINTS, "band": POSITIVE, "held_out_points": POINTS,
                    "eval_side": Interval(8, 512, why="512^3 = 134M grid points, each through every layer")}

    shapes: tuple[str, ...] = SHAPES       # analytic shapes fitted, each with an exact SDF
    mesh: str = ""                         # a mesh file; when given, it replaces `shapes`
    surface_points: int = 100_000          # training point cloud per shape
    eval_side: int = 96                    # evaluation grid per axis on [-1, 1]^3
    band: float = 0.25                     # |true SDF| <= band: the region where |grad Phi| is checked
    held_out_points: int = 5000            # further surface points for the evaluation


def sdf_3d(run, cfg: SDF3DConfig) -> dict:
    shapes = [cfg.mesh] if cfg.mesh else list(cfg.shapes)
    if not cfg.mesh:
        for shape in shapes:
            analytic_sdf(shape)  # validates the names before any training
    clouds = {}
    for shape in shapes:
        make = (lambda n, s: mesh_point_cloud(cfg.mesh, n, s)) if cfg.mesh else \
            (lambda n, s, shape=shape: analytic_point_cloud(shape, n, s))
        clouds[shape] = make(cfg.surface_points + cfg.held_out_points, run.seed)
    results = {}

    def fit_shape(i: int, shape: str, key: str) -> dict:
        points, normals = (torch.as_tensor(a, device=run.device) for a in clouds[shape])
        train_p, train_n = points[:cfg.surface_points], normals[:cfg.surface_points]
        torch.manual_seed(run.seed * 1000 + i)
        model = Siren(3, 1, cfg.hidden_features, cfg.hidden_layers, cfg.first_omega_0, cfg.omega_0).to(run.device)
        generator = torch.Generator().manual_seed(run.seed)

        def objective(model, step):
            idx = torch.randint(train_p.shape[0], (cfg.surface_batch,), generator=generator).to(run.device)
            space = (torch.rand(cfg.space_batch, 3, generator=generator) * 2 - 1).to(run.device)
            return sdf_loss(model, train_p[idx], train_n[idx], space, cfg)

        fit(model, objective, cfg.steps, cfg.lr, run, tag=key, log_every=cfg.log_every,
            checkpoint_every=cfg.checkpoint_every, clip_grad_norm=cfg.clip_grad_norm)
        run.save_file(f"sdf3d_{key}.pt", lambda fh: torch.save(model.state_dict(), fh))
        return evaluate_shape(run, cfg, model, key, None if cfg.mesh else analytic_sdf(shape),
                              points[cfg.surface_points:], normals[cfg.surface_points:])

    for i, shape in enumerate(shapes):
        key = "mesh" if cfg.mesh else shape
        results[key] = run.piece(key, lambda: fit_shape(i, shape, key))
    plot_surfaces(run, cfg, list(results))
    return {"shapes": {k: {m: v for m, v in r.items() if m != "mesh_file"} for k, r in results.items()},
            "steps": cfg.steps, "eval_side": cfg.eval_side, "first_omega_0": cfg.first_omega_0,
            "clip_grad_norm": cfg.clip_grad_norm}


def evaluate_shape(run, cfg: SDF3DConfig, model, key: str, exact, held_points, held_normals) -> dict:
    """SDF error, IoU of the inside sets and |grad Phi| on the grid (analytic shapes), surface error and
    normal agreement on held-out surface points (all shapes); saves the zero level set's mesh."""
    from skimage.measure import marching_cubes

    side = cfg.eval_side
    axis = torch.linspace(-1, 1, side)
    grid = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    fields = evaluate_fields(model, grid.to(run.device), order=1)
    phi = fields["value"][:, 0].numpy()
    grad_norm = fields["gradient"][:, 0].norm(dim=-1).numpy()
    held = evaluate_fields(model, held_points, order=1)
    cos = torch.nn.functional.cosine_similarity(held["gradient"][:, 0], held_normals.cpu(), dim=-1)
    out = {"surface_abs_mean": float(held["value"].abs().mean()),
           "normal_cosine_mean": float(cos.mean()),
           "grad_norm_mean": float(grad_norm.mean()), "grad_norm_std": float(grad_norm.std()),
           "voxel": 2.0 / (side - 1)}
    if exact is not None:
        true = exact(grid.double()).numpy()
        band = np.abs(true) <= cfg.band
        inside, inside_true = phi < 0, true < 0
        out.update({"mae_vs_true_sdf": float(np.abs(phi - true).mean()),
                    "mae_vs_true_sdf_band": float(np.abs(phi - true)[band].mean()),
                    "iou": float((inside & inside_true).sum() / max((inside | inside_true).sum(), 1)),
                    "eikonal_abs_dev_mean_band": float(np.abs(grad_norm[band] - 1).mean())})
    volume = phi.reshape(side, side, side)
    if volume.min() < 0 < volume.max():
        verts, faces, _, _ = marching_cubes(volume, level=0.0, spacing=(2 / (side - 1),) * 3)
        run.save_file(f"surface_{key}.npz", lambda fh: np.savez_compressed(fh, vertices=verts - 1.0, faces=faces))
    return out


def plot_surfaces(run, cfg: SDF3DConfig, keys: list[str]) -> None:
    """Marching-cubes rendering of each fitted zero level set (up to 40k triangles drawn)."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    fig = new_figure(size=(4.5 * len(keys), 4.5))[0]
    fig.clf()
    for j, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), j + 1, projection="3d")
        path = run.file(f"surface_{key}.npz")
        if path.exists():
            data = np.load(path)
            verts, faces = data["vertices"], data["faces"]
            faces = faces[np.random.default_rng(0).permutation(len(faces))[:40_000]]
            tri = verts[faces][:, :, [0, 2, 1]]
            normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
            shade = 0.35 + 0.65 * np.abs(normal @ np.array([0.4, -0.5, 0.75])) / np.linalg.norm(normal, axis=1).clip(1e-12)
            ax.add_collection3d(Poly3DCollection(tri, facecolors=np.outer(shade, [0.55, 0.7, 0.9]), linewidths=0))
        r = run.partial[key]
        label = f"IoU {r['iou']:.3f}, " if "iou" in r else ""
        ax.set_title(f"{key}\n{label}mean |Phi| on surface {r['surface_abs_mean']:.4f}", fontsize=8)
        for setter in (ax.set_xlim, ax.set_ylim, ax.set_zlim):
            setter(-1, 1)
        ax.set_box_aspect((1, 1, 1))
        ax.set_axis_off()
    run.save_figure(fig, "sdf3d_surfaces")
