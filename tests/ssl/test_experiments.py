"""Every experiment at scale tiny through the CLI (on an IDX fixture), and the claim judges."""
import json

import pytest

from paperlab.cli import main
from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from paperlab.ssl import claims, plots, study


@pytest.fixture(scope="module")
def data_env(tiny_reproduction, fashion_mnist_fixture, ssl_data):
    """SSL on the Fashion-MNIST fixture of tests/conftest.py for the whole module; yields the runs folder of the
    session's tiny `reproduce ssl` (one seed of every experiment, run in order, so later experiments reused
    the encoders of earlier ones; tests/test_paper_contract.py checks its claims)."""
    with ssl_data(fashion_mnist_fixture):
        done = tiny_reproduction("ssl")
        assert done.code == 0 and done.seeds == 1
        yield done.out


def _results(out, experiment):
    (path,) = list((out / "ssl" / experiment).glob("*/results.json"))
    return json.loads(path.read_text()), path.parent


@pytest.mark.parametrize("experiment", ["unlabeled-size", "labeled-size", "domain", "granularity", "corruption"])
def test_every_experiment_runs_tiny_through_cli(data_env, experiment):
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
    """granularity's 80-image encoder came from unlabeled-size (which ran first)."""
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
def test_every_evaluation_reports_raw_pixel_and_random_init_references(data_env):
    """Defect 5: raw pixels and random-init features are evaluated beside SimCLR everywhere."""
    for experiment in ("unlabeled-size", "domain", "corruption"):
        results, _ = _results(data_env, experiment)
        for ref in ("raw_pixels", "random_init"):
            assert {"linear", "knn", "knn_k"} <= set(results["references"][ref])
            assert 0.0 <= results["references"][ref]["linear"] <= 1.0
    labeled, _ = _results(data_env, "labeled-size")
    assert len(labeled["raw_pixels_linear"]) == len(labeled["random_init_linear"]) == len(labeled["label_sizes"])
    gran, _ = _results(data_env, "granularity")
    assert all({"raw_pixels", "random_init", "raw_pixels_linear"} <= set(gran[level]) for level in ("coarse", "fine"))
    assert claims.CLAIMS[0].id == "ssl-simclr-beats-references"
    # the same labelled set of one seed is evaluated once, then shared through the reference cache
    cached = list((data_env / "ssl" / "references").glob("*.json"))
    assert cached and len(cached) < 3 + 2 + 2      # fewer files than the evaluations that used them


def test_classifiers_record_train_accuracy_and_epoch_budget(data_env):
    """Defect 1: results.json shows each classifier's training accuracy and its steps/epochs."""
    labeled, run_dir = _results(data_env, "labeled-size")
    cfg = json.loads((run_dir / "config.json").read_text())["config"]
    for name in ("supervised_train", "ssl_finetune_train"):
        assert len(labeled[name]) == 2 and all(0.0 <= a <= 1.0 for a in labeled[name])
    budget = study.StudyConfig(**{k: cfg[k] for k in ("classifier_epochs", "classifier_min_steps",
                                                      "classifier_batch_size")}).classifier_settings()
    assert labeled["classifier_steps"] == [budget.steps_for(n) for n in labeled["label_sizes"]]
    gran, _ = _results(data_env, "granularity")
    assert 0.0 <= gran["fine"]["supervised_train"] <= 1.0 and gran["fine"]["classifier_steps"] >= 1


REFS = {"raw_pixels": {"linear": 0.70, "knn": 0.60}, "random_init": {"linear": 0.65, "knn": 0.55}}


def _unlabeled(gains_first, gains_last, last=None, refs=REFS):
    runs = []
    for g1, g2 in zip(gains_first, gains_last):
        linear = [0.7, 0.7 + g1, 0.7 + g1 + 0.01, 0.7 + g1 + 0.01 + g2]
        if last is not None:
            linear = [v - linear[-1] + last for v in linear]
        runs.append({"sizes": [1000, 2000, 4000, 8000], "knn": [0.6] * 4, "linear": linear, "references": refs})
    return {"unlabeled-size": runs}


GATE_OK = _unlabeled([0.10, 0.11, 0.09], [0.01, 0.0, 0.02])
# SimCLR's best arm below raw pixels: the study's first check fails
GATE_FAILS = _unlabeled([0.10, 0.11, 0.09], [0.01, 0.0, 0.02], refs={"raw_pixels": {"linear": 0.95, "knn": 0.9},
                                                                     "random_init": REFS["random_init"]})


def test_first_check_simclr_beats_references():
    assert claims.judge_beats_references(GATE_OK).verdict == REPRODUCED
    assert claims.judge_beats_references(GATE_FAILS).verdict == NOT_REPRODUCED
    single = {"unlabeled-size": GATE_OK["unlabeled-size"][:1]}
    v = claims.judge_beats_references(single)
    assert v.verdict == INCONCLUSIVE and "2 seeds" in v.note


def test_judge_unlabeled_size():
    v = claims.judge_unlabeled_size(GATE_OK)
    assert v.verdict == REPRODUCED
    assert list(v.measured)[0] == "size_mapping" and v.measured["size_mapping"].startswith("1000 ~ 50K")
    assert claims.judge_unlabeled_size(_unlabeled([0.01, 0.0, 0.02], [0.10, 0.11, 0.09])).verdict == NOT_REPRODUCED
    assert claims.judge_unlabeled_size(_unlabeled([0.05, -0.05, 0.0], [0.0, 0.0, 0.0])).verdict == INCONCLUSIVE


def test_judge_unlabeled_size_needs_a_gain_to_saturate():
    """Defect 2: a flat curve (no gain from more data at all) is inconclusive, not 'not reproduced'."""
    flat = _unlabeled([-0.01, 0.0, -0.005], [0.01, 0.0, 0.015], last=0.8)
    v = claims.judge_unlabeled_size(flat)
    assert v.verdict == INCONCLUSIVE and "more unlabelled data helps" in v.note
    assert not all(v.measured["preconditions"].values())


def test_every_judge_is_inconclusive_when_simclr_does_not_beat_the_references():
    """Defect 5: SimCLR below raw pixels (or random features) on a claim's own evaluation makes that
    claim inconclusive, with the reason, instead of 'not reproduced'."""
    v = claims.judge_unlabeled_size(GATE_FAILS)
    assert v.verdict == INCONCLUSIVE and "beat raw pixels and random-init" in v.note
    assert v.measured["preconditions"][claims.BEATS_REFERENCES] is False
    domain = _domain([-0.05, -0.06, -0.04])          # would be 'not reproduced' ...
    for r in domain["domain"]:
        r["references"]["raw_pixels"]["linear"] = 0.9  # ... but in-domain SimCLR (0.8) is below raw pixels
    v = claims.judge_domain(domain)
    assert v.verdict == INCONCLUSIVE and "in-domain arm" in v.note


def _labeled(small_gaps, large_gaps, supervised_last=0.9, raw_last=0.8):
    return {"labeled-size": [{"label_sizes": [100, 1000, 10000], "ssl_linear": [0.6, 0.8, 0.9 + 0.01 * i],
                              "random_init_linear": [0.5, 0.6, 0.7],
                              "ssl_finetune": [0.5 + a, 0.8 + 0.02 * (i - 1), supervised_last + b],
                              "supervised": [0.5, 0.8, supervised_last], "supervised_train": [1.0, 1.0, 0.95],
                              "raw_pixels_linear": [0.55, 0.7, raw_last + 0.01 * i], "classifier_steps": [5, 5, 8]}
                             for i, (a, b) in enumerate(zip(small_gaps, large_gaps))]}


def test_judge_labeled_size_and_meeting_point():
    v = claims.judge_labeled_size(_labeled([0.2, 0.25, 0.22], [0.0, 0.01, -0.01]))
    assert v.verdict == REPRODUCED and v.measured["curves_meet_at_labels"] == 1000
    # a benefit that grows with labels contradicts the claim
    assert claims.judge_labeled_size(_labeled([0.05, 0.06, 0.04], [0.2, 0.25, 0.22])).verdict == NOT_REPRODUCED


def test_judge_labeled_size_preconditions():
    """Defect 2: no SSL benefit at the fewest labels, or an unfitted supervised baseline: inconclusive."""
    v = claims.judge_labeled_size(_labeled([-0.2, -0.25, -0.22], [0.0, 0.0, 0.0]))
    assert v.verdict == INCONCLUSIVE and "SSL helps at the fewest labels" in v.note
    v = claims.judge_labeled_size(_labeled([0.2, 0.25, 0.22], [0.0, 0.01, -0.01], supervised_last=0.74, raw_last=0.8))
    assert v.verdict == INCONCLUSIVE and "supervised baseline has fitted" in v.note


def _domain(deltas, learned=0.1):
    arms = ("in-domain", "cross-domain", "pooled-equal", "pooled-2x", "pooled-3-domains")
    refs = {"raw_pixels": {"linear": 0.7, "knn": 0.6}, "random_init": {"linear": 0.8 - learned, "knn": 0.5}}
    return {"domain": [{"arms": {a: {"linear": 0.8 - (d if a != "in-domain" else 0.0), "knn": 0.0} for a in arms},
                        "references": refs} for d in deltas]}


def test_judge_domain():
    assert claims.judge_domain(_domain([0.05, 0.06, 0.04])).verdict == REPRODUCED
    assert claims.judge_domain(_domain([-0.05, -0.06, -0.04])).verdict == NOT_REPRODUCED
    assert claims.judge_domain(_domain([0.05, -0.06, 0.0])).verdict == INCONCLUSIVE
    v = claims.judge_domain(_domain([0.05, 0.06, 0.04], learned=-0.02))
    assert v.verdict == INCONCLUSIVE and "in-domain arm" in v.note
    no_pooled = _domain([0.05, 0.06, 0.04])
    for r in no_pooled["domain"]:
        del r["arms"]["pooled-2x"]
    v = claims.judge_domain(no_pooled)      # the missing-arm rule: inconclusive, naming the arm
    assert v.verdict == INCONCLUSIVE and v.note == "missing from the runs: pooled-2x"


def _gran(supervised_fine=0.8, raw=0.6):
    return {"granularity": [{"coarse": {"ssl": 0.9, "supervised": 0.92, "gap": 0.02, "supervised_train": 0.95,
                                        "raw_pixels_linear": 0.85, "raw_pixels": 0.85, "random_init": 0.8},
                             "fine": {"ssl": 0.7, "supervised": supervised_fine + e, "gap": supervised_fine - 0.7 + e,
                                      "supervised_train": 0.9, "raw_pixels_linear": raw, "raw_pixels": 0.6 - e,
                                      "random_init": 0.6}}
                            for e in (0, 0.01, 0.02)]}


def test_judge_granularity_and_corruption():
    v = claims.judge_granularity(_gran())
    assert v.verdict == REPRODUCED
    # the references' keys keep their names ("simclr_minus_raw_pixels", not "simclrinus_raw_pixels")
    assert v.measured["simclr_minus_raw_pixels[fine]"]["mean"] == pytest.approx(0.1 + 0.01)
    assert v.measured["raw_pixels[fine]"]["mean"] == pytest.approx(0.59)
    v = claims.judge_granularity(_gran(supervised_fine=0.72, raw=0.75))     # supervised below raw pixels
    assert v.verdict == INCONCLUSIVE and "fitted on fine labels" in v.note
    refs = {"raw_pixels": {"linear": 0.6}, "random_init": {"linear": 0.6}}
    corr = {"corruption": [{"arms": {"clean": {"linear": 0.8}, "salt_pepper:2": {"linear": 0.79},
                                     "resolution:2": {"linear": 0.7 + e}, "jpeg:2": {"linear": 0.78}},
                            "references": refs} for e in (0, 0.01, -0.01)]}
    v = claims.judge_corruption(corr)
    assert v.verdict == REPRODUCED and v.measured["resolution_drop_minus_salt_pepper_drop"]["mean"] == pytest.approx(0.09)
    for r in corr["corruption"]:
        r["references"] = {"raw_pixels": {"linear": 0.6}, "random_init": {"linear": 0.85}}
    v = claims.judge_corruption(corr)
    assert v.verdict == INCONCLUSIVE and "clean arm" in v.note


def test_summary_plots_one_figure_per_claim(tmp_path):
    results = {**_unlabeled([0.1, 0.1, 0.1], [0.0, 0.0, 0.0])}
    results["unlabeled-size"] = [r | {"knn": r["linear"]} for r in results["unlabeled-size"]]
    arms = ("in-domain", "cross-domain", "pooled-2x", "pooled-3-domains")
    results["domain"] = [{"arms": {a: {"linear": 0.7 + 0.01 * s, "knn": 0.6} for a in arms}, "metric": "knn"}
                         for s in range(3)]
    results["corruption"] = [{"arms": {a: {"linear": 0.7, "knn": 0.6 + 0.01 * s} for a in ("clean", "salt_pepper:1")}}
                             for s in range(3)]
    paths = plots.summary_plots(results, tmp_path)
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


def test_small_preset_follows_lightlys_simclr_recipe():
    """Defect 6: the small scale's lr is lightly's 0.06 x B/128 (SGD, wd 5e-4) after pretrain_simclr's
    B/256 scaling, not 0.06 x B/256; it judges on the linear probe; 5 seeds for domain and corruption."""
    from paperlab.ssl.experiments import EXPERIMENTS
    for exp in EXPERIMENTS:
        cfg = exp.make_config("small")
        assert cfg.optimizer == "sgd" and cfg.weight_decay == 5e-4 and cfg.eval_metric == "linear"
        assert cfg.lr * cfg.batch_size / 256 == pytest.approx(0.06 * cfg.batch_size / 128)
        assert cfg.knn_k is None and cfg.knn_k_for(cfg.probe_labels) == 20
    seeds = {c.id: c.seeds for c in claims.CLAIMS}
    assert seeds["ssl-in-domain-beats-pooled"] == seeds["ssl-robust-to-noise-not-resolution"] == 5
    corruption = next(e for e in EXPERIMENTS if e.name == "corruption").make_config("small")
    assert corruption.corruptions == ("salt_pepper:3", "resolution:3")
