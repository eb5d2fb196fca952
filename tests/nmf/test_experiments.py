"""Every experiment runs at scale `tiny` through the CLI, and the claims are judged from its results."""

import json

import pytest

from paperlab.cli import main
from paperlab.nmf.experiments import compare_printed, hoyer_sparsity, negative_mass

EXPERIMENTS = ["example", "monotone", "gd-equivalence", "fixed-points", "parts"]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_cli_runs_experiment_tiny(name, tmp_path):
    assert main(["run", "nmf", name, "--scale", "tiny", "--out", str(tmp_path)]) == 0
    run_dir = next((tmp_path / "nmf" / name).iterdir())
    results = json.loads((run_dir / "results.json").read_text())
    assert (run_dir / "config.json").exists()
    if name != "monotone":
        assert list((run_dir / "plots").glob("*.png"))
    if name == "example":
        assert results["error_relative_difference"] < 1e-6
        assert results["svd"]["error"] == pytest.approx(4.5011254, rel=1e-6)
    if name == "monotone":
        assert results["frobenius"]["largest_relative_increase"] <= 1e-12


def test_mathematical_facts_hold_at_tiny_scale(tiny_reproduction):
    """Verdicts of the session's tiny `reproduce nmf` (tests/test_paper_contract.py checks the rest of it)."""
    verdicts = {c["id"]: c["verdict"] for c in tiny_reproduction("nmf").document()["claims"]}
    # mathematical facts hold at any scale
    assert verdicts["mu-is-rescaled-gd"] == "reproduced"
    assert verdicts["kl-preserves-sums"] == "reproduced"
    assert verdicts["example-same-error"] == "reproduced"
    # the summary prints -6.48 where the rank-1 SVD gives -6.65
    assert verdicts["example-printed-numbers"] == "not reproduced"
    assert verdicts["fixed-point-iff-stationary"] == "not reproduced"


def test_compare_printed():
    assert compare_printed("0.386", 0.38630) == "agrees"
    assert compare_printed("0.388", 0.38873) == "last digit"
    assert compare_printed("-6.48", -6.6488) == "differs"


def test_sparsity_measures():
    import numpy as np

    assert hoyer_sparsity(np.ones(16)) == pytest.approx(0.0)
    assert hoyer_sparsity(np.eye(16)[0]) == pytest.approx(1.0)
    assert negative_mass(np.array([[1.0, -1.0], [2.0, 0.0]])) == pytest.approx(0.25)
