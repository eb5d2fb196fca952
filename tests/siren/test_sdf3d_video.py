"""Analytic SDFs, the mesh loader and sampler, and the video loader."""

import numpy as np
import pytest
import torch

from paperlab.siren.sdf3d import (SHAPES, analytic_point_cloud, analytic_sdf, box_sdf, load_mesh, mesh_point_cloud,
                                  sdf_gradient)
from paperlab.siren.video import load_video, synthetic_video, video_coordinates


@pytest.mark.parametrize("shape", SHAPES)
def test_analytic_sdfs_have_unit_gradient(shape):
    sdf = analytic_sdf(shape)
    p = torch.rand(2000, 3, dtype=torch.float64) * 2 - 1
    grad = sdf_gradient(sdf, p)
    assert torch.allclose(grad.norm(dim=-1), torch.ones(2000, dtype=torch.float64), atol=1e-9)


def test_box_sdf_values():
    p = torch.tensor([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [2.0, 2.0, 0.0], [0.5, 0.0, 0.0]], dtype=torch.float64)
    d = box_sdf(p, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    assert torch.allclose(d, torch.tensor([-1.0, 1.0, np.sqrt(2.0), -0.5], dtype=torch.float64))


@pytest.mark.parametrize("shape", SHAPES)
def test_analytic_point_clouds_lie_on_the_surface_with_unit_normals(shape):
    points, normals = analytic_point_cloud(shape, 500, seed=0)
    sdf = analytic_sdf(shape)
    assert float(sdf(torch.as_tensor(points, dtype=torch.float64)).abs().max()) < 1e-5
    assert np.allclose(np.linalg.norm(normals, axis=1), 1, atol=1e-5)


def _write_cube_obj(path):
    v = [(x, y, z) for x in (0, 2) for y in (0, 2) for z in (0, 2)]
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    lines = [f"v {x} {y} {z}" for x, y, z in v]
    for a, b, c, d in quads:   # outward-facing triangles (1-based)
        lines += [f"f {a + 1} {b + 1} {c + 1}", f"f {a + 1} {c + 1} {d + 1}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_mesh_loader_reads_a_tiny_obj_and_samples_its_surface(tmp_path):
    path = _write_cube_obj(tmp_path / "cube.obj")
    vertices, faces = load_mesh(path)
    assert vertices.shape == (8, 3) and faces.shape == (12, 3)
    points, normals = mesh_point_cloud(path, 600, seed=1)
    assert np.abs(points).max() == pytest.approx(0.9, abs=1e-6)        # centred and scaled into the box
    on_face = np.isclose(np.abs(points).max(axis=1), 0.9, atol=1e-5)
    assert on_face.all()                                                # every sample on the cube's surface
    # each normal is the axis of the face the point lies on, pointing outwards
    axis = np.abs(points).argmax(axis=1)
    expected = np.zeros_like(points)
    expected[np.arange(len(points)), axis] = np.sign(points[np.arange(len(points)), axis])
    assert np.allclose(normals, expected, atol=1e-5)
    counts = np.bincount(axis, minlength=3)
    assert counts.min() > 150                                           # area-uniform over the 6 equal faces


def test_synthetic_video_is_deterministic_and_moves():
    a, b = synthetic_video(4, 16, seed=3), synthetic_video(4, 16, seed=3)
    assert a.shape == (4, 16, 16, 3) and np.array_equal(a, b)
    assert 0.0 <= a.min() and a.max() <= 1.0
    assert np.abs(a[0] - a[-1]).mean() > 0.02
    assert not np.array_equal(synthetic_video(4, 16, seed=4), a)


def test_video_loader_reads_npy_and_gif(tmp_path):
    video = (np.random.default_rng(0).random((3, 8, 10, 3)) * 255).astype(np.uint8)
    np.save(tmp_path / "v.npy", video)
    loaded = load_video(tmp_path / "v.npy")
    assert loaded.shape == (3, 8, 10, 3) and loaded.dtype == np.float32 and np.allclose(loaded, video / 255.0)
    import imageio.v3 as iio
    iio.imwrite(tmp_path / "v.gif", video[..., 0])
    assert load_video(tmp_path / "v.gif").shape[:3] == (3, 8, 10)
    np.save(tmp_path / "one.npy", video[:1])
    with pytest.raises(ValueError, match="need \\[frames >= 2"):
        load_video(tmp_path / "one.npy")


def test_video_coordinates_cover_the_cube():
    c = video_coordinates((2, 3, 4))
    assert c.shape == (24, 3) and float(c.min()) == -1.0 and float(c.max()) == 1.0
