"""Every experiment runs end to end at the tiny scale through the CLI; resume works; bad values are refused."""

import json

import pytest

from paperlab.cli import main
from paperlab.siren.paper import PAPER

EXPERIMENTS = [e.name for e in PAPER.experiments]


@pytest.fixture(scope="module")
def tiny_runs(tiny_reproduction):
    """Each experiment's run (seed 0) of the session's tiny `reproduce siren` (its claims are checked by
    tests/test_paper_contract.py)."""
    done = tiny_reproduction("siren")
    assert done.code == 0
    dirs = {}
    for name in EXPERIMENTS:
        (dirs[name],) = done.run_dirs("siren", name)
    return dirs


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_tiny_run_writes_results_and_plots(tiny_runs, name):
    run_dir = tiny_runs[name]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["_meta"]["scale"] == "tiny"
    assert list((run_dir / "plots").glob("*.png")), f"{name} saved no plot"
    assert (run_dir / "metrics.jsonl").read_text().strip()


def test_image_fit_records_every_method(tiny_runs):
    results = json.loads((tiny_runs["image-fit"] / "results.json").read_text())
    assert set(results["methods"]) == {"siren", "relu", "tanh", "relu_pe", "rbf_relu"}
    for row in results["methods"].values():
        assert {"psnr_image", "psnr_gradient_bandlimited", "psnr_laplacian_bandlimited", "psnr_gradient_sobel",
                "psnr_laplacian_filter"} <= set(row)
    assert set(results["zero_floor"]) == {"gradient_bandlimited", "laplacian_bandlimited", "gradient_sobel",
                                          "laplacian_filter"}


def test_resume_skips_finished_arms(tiny_runs):
    run_dir = tiny_runs["audio"]
    lines_before = len((run_dir / "metrics.jsonl").read_text().splitlines())
    (run_dir / "results.json").unlink()
    assert main(["run", "--resume", str(run_dir)]) == 0
    assert (run_dir / "results.json").exists()
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == lines_before


@pytest.mark.parametrize("setting, message", [
    ("methods=gelu", "methods=('gelu',) is not allowed: expected items that are each one of 'siren'"),
    ("image=/no/such.png", "/no/such.png' is not allowed: expected a bundled image")])
def test_bad_config_values_give_clear_errors(tmp_path, capsys, setting, message):
    code = main(["run", "siren", "image-fit", "--scale", "tiny", "--out", str(tmp_path), "--set", setting])
    assert code == 2
    assert message in capsys.readouterr().err


def _garbage(path):
    path.write_bytes(b"\x00\x01 this is not a mesh or a video \xff" * 4)
    return path


@pytest.mark.parametrize("experiment, key, make, message", [
    ("sdf-3d", "mesh", lambda d: d / "missing.obj", "is missing"),
    ("sdf-3d", "mesh", lambda d: _garbage(d / "broken.ply"), "broken.ply"),
    ("sdf-3d", "mesh", lambda d: (d / "empty.obj").write_text("# nothing\n") and d / "empty.obj", "has no triangles"),
    ("video", "video", lambda d: d / "missing.npy", "is missing"),
    ("video", "video", lambda d: _garbage(d / "broken.npy"), "cannot read video"),
    ("video", "video", lambda d: _garbage(d / "broken.gif"), "cannot read video"),
])
def test_bad_mesh_and_video_files_give_one_line_errors(tmp_path, capsys, experiment, key, make, message):
    path = make(tmp_path)
    out = tmp_path / "runs"
    assert main(["run", "siren", experiment, "--scale", "tiny", "--out", str(out), "--set", f"{key}={path}"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and str(path.name) in err and len(err.splitlines()) == 1
    assert not list(out.rglob("results.json"))
