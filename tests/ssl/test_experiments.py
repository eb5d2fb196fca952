"""Every experiment at scale tiny through the CLI (on an IDX fixture), and the claim judges."""
import json

import numpy as np

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
        assert results["draws"] == [2, 1] and len(results["per_draw"]["ssl_finetune"]) == 2
        assert all(isinstance(c, bool) for c in results["supervised_converged"])
    elif experiment in ("domain", "corruption"):
        accuracies = [arm["linear"] for arm in results["arms"].values()]
        if experiment == "domain":
            assert list(results["arms"]) == ["in-domain", "far-domain", "pooled-2x", "pooled-4x"]
            assert results["arms"]["pooled-4x"]["out_of_domain"] == pytest.approx(0.75)
        else:
            assert list(results["arms"]) == ["clean", "salt_pepper", "resolution"]
            assert 4 <= results["strengths"]["resolution"] <= 14 and 0 <= results["strengths"]["salt_pepper"] <= 0.5
            assert set(results["information_loss"]) == {"salt_pepper", "resolution"}
            # the calibration kept, of every strength it tried, the one whose raw-pixel loss is closest to its target
            cal = results["calibration"]
            side_losses = dict((v, loss) for v, loss in cal["resolution"]["evaluations"])
            assert abs(cal["resolution"]["loss"] - cal["target_loss"]) == min(
                abs(loss - cal["target_loss"]) for loss in side_losses.values())
            assert side_losses[cal["resolution"]["value"]] == cal["resolution"]["loss"]
            sp = cal["salt_pepper"]["evaluations"]
            assert min(abs(loss - cal["resolution"]["loss"]) for _, loss in sp) == pytest.approx(
                abs(cal["salt_pepper"]["loss"] - cal["resolution"]["loss"]))
    else:
        assert results["levels"] == [2, 5, 10]
        accuracies = [results["by_level"][level][k] for level in ("2", "5", "10") for k in ("ssl", "ssl_knn", "supervised")]
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
                 "--set", "min_side=20"]) == 2
    assert "min_side=20 is not allowed" in capsys.readouterr().err
    assert main(["run", "ssl", "domain", "--scale", "tiny", "--out", str(data_env), "--set", "arms=in-domain,mars"]) == 2
    assert "arms=('in-domain', 'mars') is not allowed" in capsys.readouterr().err


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
    assert all({"raw_pixels", "random_init", "raw_pixels_linear"} <= set(gran["by_level"][level]) for level in ("2", "10"))
    assert claims.CLAIMS[0].id == "ssl-simclr-beats-references"
    # the same labelled set of one seed is evaluated once, then shared through the reference cache
    cached = list((data_env / "ssl" / "references").glob("*.json"))
    assert cached and len(cached) < 3 + 2 + 2      # fewer files than the evaluations that used them


def test_classifiers_record_train_accuracy_and_epoch_budget(data_env):
    """Defect 1: results.json shows each classifier's training accuracy, its steps (at most its cap: training
    stops at a validation plateau) and whether it converged."""
    labeled, run_dir = _results(data_env, "labeled-size")
    cfg = json.loads((run_dir / "config.json").read_text())["config"]
    for name in ("supervised_train", "ssl_finetune_train"):
        assert len(labeled[name]) == 2 and all(0.0 <= a <= 1.0 for a in labeled[name])
    budget = study.StudyConfig(**{k: cfg[k] for k in ("classifier_epochs", "classifier_min_steps",
                                                      "classifier_batch_size")}).classifier_settings()
    for n, steps in zip(labeled["label_sizes"], labeled["classifier_steps"]):
        assert all(1 <= s <= budget.steps_for(n) for s in steps)
    gran, _ = _results(data_env, "granularity")
    assert 0.0 <= gran["by_level"]["10"]["supervised_train"] <= 1.0 and gran["by_level"]["10"]["classifier_steps"] >= 1


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


def _labeled(small_gaps, large_gaps, converged=True):
    return {"labeled-size": [{"label_sizes": [100, 1000, 10000], "ssl_linear": [0.6, 0.8, 0.9 + 0.01 * i],
                              "random_init_linear": [0.5, 0.6, 0.7],
                              "ssl_finetune": [0.5 + a, 0.8 + 0.02 * (i - 1), 0.9 + b],
                              "supervised": [0.5, 0.8, 0.9], "supervised_train": [1.0, 1.0, 0.95],
                              "supervised_converged": [True, converged, True], "ssl_finetune_converged": [True] * 3,
                              "raw_pixels_linear": [0.55, 0.7, 0.8 + 0.01 * i], "classifier_steps": [[5], [5], [8]]}
                             for i, (a, b) in enumerate(zip(small_gaps, large_gaps))]}


def test_judge_labeled_size_and_meeting_point():
    v = claims.judge_labeled_size(_labeled([0.2, 0.25, 0.22], [0.0, 0.01, -0.01]))
    assert v.verdict == REPRODUCED and v.measured["curves_meet_at_labels"] == 1000
    assert v.measured["readout"] == "fine-tune" and "fine-tune" in v.threshold
    # the linear-probe form is reported beside the judged one: (0.6 - 0.5) - (0.9 + 0.01 i - 0.9)
    assert v.measured["benefit_linear_fewest_minus_most"]["mean"] == pytest.approx(0.09)
    # a benefit that grows with labels contradicts the claim
    assert claims.judge_labeled_size(_labeled([0.05, 0.06, 0.04], [0.2, 0.25, 0.22])).verdict == NOT_REPRODUCED


def test_judge_labeled_size_preconditions():
    """No SSL benefit at the fewest labels, or a classifier stopped by its cap before a plateau: inconclusive."""
    v = claims.judge_labeled_size(_labeled([-0.2, -0.25, -0.22], [0.0, 0.0, 0.0]))
    assert v.verdict == INCONCLUSIVE and "SSL helps at the fewest labels" in v.note
    v = claims.judge_labeled_size(_labeled([0.2, 0.25, 0.22], [0.0, 0.01, -0.01], converged=False))
    assert v.verdict == INCONCLUSIVE and "converged" in v.note


ARMS = ("in-domain", "far-domain", "pooled-2x", "pooled-4x")


def _domain(deltas, learned=0.1, far=0.05):
    refs = {"raw_pixels": {"linear": 0.7, "knn": 0.6}, "random_init": {"linear": 0.8 - learned, "knn": 0.5}}
    runs = []
    for i, d in enumerate(deltas):
        drop = {"in-domain": 0.0, "far-domain": far + 0.001 * i, "pooled-2x": d, "pooled-4x": d + 0.001 * (i % 2)}
        runs.append({"arms": {a: {"linear": 0.8 - drop[a], "knn": 0.0, "images": 10} for a in ARMS},
                     "references": refs})
    return {"domain": runs}


def test_judge_domain_with_its_equivalence_margin():
    """In-domain must win by more than the 1-point margin fixed before the run; a precise zero reads
    `not reproduced`, a difference whose interval contains the margin `inconclusive`."""
    assert claims.DOMAIN_MARGIN == 0.01
    assert claims.judge_domain(_domain([0.03, 0.031, 0.029, 0.03])).verdict == REPRODUCED
    zero = claims.judge_domain(_domain([0.001, -0.001, 0.0, 0.0005]))
    assert zero.verdict == NOT_REPRODUCED and "below 0.01" in zero.note
    assert claims.judge_domain(_domain([-0.05, -0.06, -0.04])).verdict == NOT_REPRODUCED
    assert claims.judge_domain(_domain([0.0, 0.02, 0.01, 0.015])).verdict == INCONCLUSIVE
    v = claims.judge_domain(_domain([0.03, 0.031, 0.029], learned=-0.02))
    assert v.verdict == INCONCLUSIVE and "in-domain arm" in v.note
    v = claims.judge_domain(_domain([0.03, 0.031, 0.029], far=-0.01))     # the far domain is not far
    assert v.verdict == INCONCLUSIVE and "far domain is far" in v.note
    no_pool = _domain([0.05, 0.06, 0.04])
    for r in no_pool["domain"]:
        del r["arms"]["pooled-4x"]
    v = claims.judge_domain(no_pool)      # the missing-arm rule: inconclusive, naming the arm
    assert v.verdict == INCONCLUSIVE and v.note == "missing from the runs: pooled-4x"


def _gran(slope=0.01, converged=True, levels=(2, 5, 10)):
    runs = []
    for e in (0.0, 0.002, -0.002, 0.001):
        by_level = {}
        for lv in levels:
            gap = slope * np.log2(lv) + e
            by_level[str(lv)] = {"ssl": 0.8, "supervised": 0.8 + gap, "gap": gap, "supervised_train": 0.95,
                                 "raw_pixels_linear": 0.7, "raw_pixels": 0.7 - e, "random_init": 0.7,
                                 "converged": converged}
        runs.append({"levels": list(levels), "by_level": by_level})
    return {"granularity": runs}


def test_gap_slope_is_the_least_squares_trend():
    assert claims.gap_slope([2, 4, 8], [0.0, 0.01, 0.02]) == pytest.approx(0.01)
    assert claims.gap_slope([2, 5, 10], [0.03, 0.03, 0.03]) == pytest.approx(0.0, abs=1e-12)


def test_judge_granularity_trend():
    v = claims.judge_granularity(_gran(0.01))
    assert v.verdict == REPRODUCED and v.measured["gap_slope_per_doubling"]["mean"] == pytest.approx(0.01)
    assert v.measured["simclr_minus_raw_pixels[10]"]["mean"] == pytest.approx(0.1 + 0.00025)
    assert claims.judge_granularity(_gran(-0.01)).verdict == NOT_REPRODUCED
    assert claims.judge_granularity(_gran(0.0)).verdict == INCONCLUSIVE
    v = claims.judge_granularity(_gran(0.01, converged=False))
    assert v.verdict == INCONCLUSIVE and "converged at every level" in v.note
    v = claims.judge_granularity(_gran(0.01, levels=(4, 10)))
    assert v.verdict == INCONCLUSIVE and "at least 3 label levels" in v.note


def _corruption(res_drops, sp_drop=0.01, loss=None):
    refs = {"raw_pixels": {"linear": 0.6}, "random_init": {"linear": 0.6}}
    loss = loss or {"salt_pepper": 0.05, "resolution": 0.052}
    return {"corruption": [{"arms": {"clean": {"linear": 0.8}, "salt_pepper": {"linear": 0.8 - sp_drop + 0.001 * i},
                                     "resolution": {"linear": 0.8 - d}},
                            "references": refs, "information_loss": loss,
                            "strengths": {"salt_pepper": 0.08, "resolution": 5}} for i, d in enumerate(res_drops)]}


def test_judge_corruption_matched_severities_and_margin():
    v = claims.judge_corruption(_corruption([0.05, 0.06, 0.055]))
    assert v.verdict == REPRODUCED and v.measured["resolution_drop_minus_salt_pepper_drop"]["mean"] == pytest.approx(0.046)
    assert claims.judge_corruption(_corruption([0.01, 0.011, 0.009])).verdict == NOT_REPRODUCED   # equal drops
    assert claims.judge_corruption(_corruption([0.01, 0.04, 0.02])).verdict == INCONCLUSIVE
    v = claims.judge_corruption(_corruption([0.05, 0.06, 0.055], loss={"salt_pepper": 0.02, "resolution": 0.06}))
    assert v.verdict == INCONCLUSIVE and "matched" in v.note
    v = claims.judge_corruption(_corruption([0.05, 0.06, 0.055], loss={"salt_pepper": 0.005, "resolution": 0.0}))
    assert v.verdict == INCONCLUSIVE and "remove label information" in v.note
    broken = _corruption([0.05, 0.06, 0.055])
    for r in broken["corruption"]:
        r["references"] = {"raw_pixels": {"linear": 0.6}, "random_init": {"linear": 0.85}}
    v = claims.judge_corruption(broken)
    assert v.verdict == INCONCLUSIVE and "clean arm" in v.note


def test_summary_plots_one_figure_per_claim(tmp_path):
    results = {**_unlabeled([0.1, 0.1, 0.1], [0.0, 0.0, 0.0])}
    results["unlabeled-size"] = [r | {"knn": r["linear"]} for r in results["unlabeled-size"]]
    results["domain"] = [{"arms": {a: {"linear": 0.7 + 0.01 * s, "knn": 0.6} for a in ARMS}, "metric": "knn"}
                         for s in range(3)]
    results["corruption"] = [{"arms": {a: {"linear": 0.7, "knn": 0.6 + 0.01 * s} for a in ("clean", "salt_pepper")}}
                             for s in range(3)]
    results["granularity"] = _gran()["granularity"]
    paths = plots.summary_plots(results, tmp_path)
    assert sorted(p.name for p in paths) == ["corruption.png", "domain.png", "granularity.png", "unlabeled_size.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


@pytest.mark.parametrize("kill_after", [2, 4])
def test_granularity_resumes_exactly(data_env, tmp_path, kill_after):
    """Killed mid-pre-training (after a checkpoint) or between evaluations, then resumed: bit-identical."""
    from paperlab.core.testing import check_exact_resume

    check_exact_resume("ssl", "granularity", tmp_path, kill_after,
                       overrides={"cache_pretrained": "false", "pretrain_steps": "12", "levels": "2,10"})


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
    B/256 scaling, not 0.06 x B/256; it judges on the linear probe; classifiers stop at a validation plateau."""
    from paperlab.ssl.experiments import EXPERIMENTS
    for exp in EXPERIMENTS:
        cfg = exp.make_config("small")
        assert cfg.optimizer == "sgd" and cfg.weight_decay == 5e-4 and cfg.eval_metric == "linear"
        assert cfg.lr * cfg.batch_size / 256 == pytest.approx(0.06 * cfg.batch_size / 128)
        assert cfg.knn_k is None and cfg.knn_k_for(cfg.probe_labels) == 20
        assert cfg.classifier_patience is not None and cfg.validation_size == 2000


def test_the_design_is_fixed_in_the_claims():
    """Issue 29: seeds, readout and margins are constants of claims.py, quoted in each claim's text."""
    seeds = {c.id: c.seeds for c in claims.CLAIMS}
    assert seeds["ssl-benefit-shrinks-with-labels"] == 8 and seeds["ssl-in-domain-beats-pooled"] == 12
    assert seeds["ssl-gap-grows-with-granularity"] == seeds["ssl-robust-to-noise-not-resolution"] == 8
    text = {c.id: c.text for c in claims.CLAIMS}
    assert "fine-tune readout" in text["ssl-benefit-shrinks-with-labels"] and "3 label draws" in text[
        "ssl-benefit-shrinks-with-labels"]
    assert "more than 1 point" in text["ssl-in-domain-beats-pooled"]
    assert "matched-severity version" in text["ssl-robust-to-noise-not-resolution"]
    from paperlab.ssl.experiments import EXPERIMENTS
    small = {e.name: e.make_config("small") for e in EXPERIMENTS}
    domain, corruption = small["domain"], small["corruption"]
    # domain's in-domain arm is corruption's clean arm (same images and settings): one encoder per seed
    assert domain.in_domain_size == corruption.pretrain_size and domain.pretrain_settings(1) == corruption.pretrain_settings(1)
    assert small["labeled-size"].label_sizes == (100, 2500, 10000) and small["labeled-size"].few_label_draws == 3
    assert small["granularity"].levels == (2, 5, 10)


def test_gpu_preset_is_a_valid_paper_scale_override():
    """The GPU design is a set of overrides of the paper scale that every experiment behind its claims accepts."""
    from paperlab.core.reproduce import split_overrides
    from paperlab.ssl.experiments import GPU_CLAIMS, GPU_PRESET, gpu_command
    from paperlab.ssl.paper import PAPER

    per_exp = split_overrides(PAPER, {k: str(v) for k, v in GPU_PRESET.items()})
    for name in ("unlabeled-size", "domain"):
        cfg = PAPER.experiment(name).make_config("paper", per_exp[name])
        assert cfg.encoder == "resnet18" and cfg.pretrain_steps == 2000 and cfg.batch_size == 512
    command = gpu_command()
    assert "--device cuda" in command and "--scale paper" in command and ",".join(GPU_CLAIMS) in command


def test_supervised_baselines_are_shared_between_experiments(data_env):
    """labeled-size's 40 fine labels (draw 0) and granularity's 10-class level at 40 labels are one baseline."""
    labeled, _ = _results(data_env, "labeled-size")
    gran, _ = _results(data_env, "granularity")
    assert labeled["label_sizes"][-1] == 40 and gran["levels"][-1] == 10
    assert gran["by_level"]["10"]["supervised"] == labeled["supervised"][-1]
    cached = list((data_env / "ssl" / "supervised").glob("*.json"))
    assert len(cached) == 3 + 3 - 1      # 20 x 2 draws + 40 (labeled-size), 3 levels (granularity), one shared
