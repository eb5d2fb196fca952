"""SimCLR pre-training, supervised training / fine-tuning, and the three evaluations.

Images travel as uint8 tensors (N, C, H, W) on the model's device; each batch is converted to
float in [0, 1], augmented on the device, then normalised with the pre-training set's mean/std.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from paperlab.core.linear import Linear
from paperlab.core.precision import autocast
from paperlab.ssl.augment import AugmentConfig, BatchAugment, weak_augment_config
from paperlab.ssl.losses import nt_xent_loss
from paperlab.ssl.models import SimCLR, build_encoder
from paperlab.ssl.optim import build_optimizer, set_lr, warmup_cosine


@dataclass
class PretrainSettings:
    """What one SimCLR pre-training needs (filled from an experiment config)."""
    encoder: str
    width: float
    head_hidden: int
    head_out: int
    batch_size: int
    steps: int
    temperature: float
    optimizer: str
    lr: float                 # base lr, scaled by batch_size / 256 (SimCLR Sec. B.1)
    weight_decay: float
    warmup_fraction: float
    crop_min_scale: float
    jitter_strength: float
    blur_p: float
    checkpoint_every: int
    amp: bool = True          # mixed precision on CUDA only


@dataclass
class ClassifierSettings:
    """Supervised training of encoder + linear layer (from scratch, or fine-tuning).

    With ``patience`` set (every scale here), training runs until validation accuracy reaches a plateau
    (``Plateau``, on a held-out labelled split): Adam at constant ``lr``; at each plateau the best weights
    are restored and, ``lr_drops`` times, the lr is divided by 10 and training goes on to the next plateau.
    ``epochs`` passes over the labelled set (but at least ``min_steps`` steps) is then only a cap, reported
    when hit. With ``patience`` None: exactly that many steps with a cosine schedule (the older rule)."""
    epochs: float
    min_steps: int
    batch_size: int
    lr: float
    weight_decay: float
    patience: int | None = None     # validation checks without improvement that make a plateau; None: no early stop
    min_delta: float = 0.0          # an improvement of validation accuracy must exceed this to count
    eval_steps: int = 100           # validation every epoch, but at most every this many steps
    lr_drops: int = 0               # plateaus after which the lr is divided by 10 and training continues

    def steps_for(self, n_labels: int) -> int:
        """The step budget: ``epochs`` passes over the labels, at least ``min_steps`` (a cap with ``patience``)."""
        batch = min(self.batch_size, n_labels)
        return max(self.min_steps, math.ceil(self.epochs * n_labels / batch))

    def eval_every(self, n_labels: int) -> int:
        """Steps between validation checks: one epoch, but at least ``eval_steps``."""
        return max(self.eval_steps, math.ceil(n_labels / min(self.batch_size, n_labels)))


@dataclass
class Plateau:
    """The convergence criterion of every classifier in this study, in one place: training has converged
    when validation accuracy has not beaten its best by more than ``min_delta`` for ``patience`` checks in
    a row. ``best`` and ``best_step`` are the check to restore."""
    patience: int
    min_delta: float = 0.0
    best: float = -math.inf
    best_step: int = -1
    waited: int = 0

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise ValueError(f"patience must be >= 1, got {self.patience}")

    def update(self, accuracy: float, step: int) -> bool:
        """Record one validation accuracy at ``step``; True once the plateau is reached."""
        if accuracy > self.best + self.min_delta:
            self.best, self.best_step, self.waited = float(accuracy), step, 0
        else:
            self.waited += 1
        return self.waited >= self.patience

    def restart(self) -> None:
        """Wait for the next plateau from the current best (after a learning-rate drop)."""
        self.waited = 0


class Normalizer(nn.Module):
    """uint8 (or [0, 1] float) batch -> standardised float batch."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean.view(1, -1, 1, 1))
        self.register_buffer("std", std.view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images (N, C, H, W), in [0, 1] units."""
    x = images.float() / 255.0
    return x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3)).clamp_min(1e-3)


def to_unit(batch: torch.Tensor) -> torch.Tensor:
    return batch.float() / 255.0


class Checkpointer:
    """Named checkpoint hooks (a Run's save/load), or nothing."""

    def __init__(self, save: Callable[[dict, str], object] | None = None,
                 load: Callable[[str], dict | None] | None = None):
        self.save_fn, self.load_fn = save, load

    def save(self, state: dict, name: str) -> None:
        if self.save_fn is not None:
            self.save_fn(state, name)

    def load(self, name: str) -> dict | None:
        return self.load_fn(name) if self.load_fn is not None else None


def _progress_passthrough(iterable, **_):
    return iterable


def pretrain_simclr(images: torch.Tensor, cfg: PretrainSettings, seed: int, name: str = "pretrain",
                    checkpoints: Checkpointer | None = None, progress=_progress_passthrough,
                    log: Callable[..., None] | None = None) -> tuple[nn.Module, Normalizer]:
    """Pre-train SimCLR on uint8 images (N, C, H, W) already on the target device.

    Returns the encoder f (the projection head is discarded, SimCLR Sec. 2.1) and the normaliser.
    A checkpoint named ``name`` is written every ``checkpoint_every`` steps and at the end, and is
    resumed from when present.
    """
    if images.ndim != 4 or images.dtype != torch.uint8:
        raise ValueError(f"pretrain_simclr expects uint8 images (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
    if len(images) < 2:
        raise ValueError("pretraining needs at least 2 images")
    checkpoints = checkpoints or Checkpointer()
    device = images.device
    torch.manual_seed(seed)
    encoder = build_encoder(cfg.encoder, images.shape[1], cfg.width)
    model = SimCLR(encoder, cfg.head_hidden, cfg.head_out).to(device)
    normalize = Normalizer(*channel_stats(images)).to(device)
    batch_size = min(cfg.batch_size, len(images))
    base_lr = cfg.lr * batch_size / 256
    optimizer = build_optimizer(model, cfg.optimizer, base_lr, cfg.weight_decay)
    augment = BatchAugment(AugmentConfig(size=images.shape[-1], crop_scale=(cfg.crop_min_scale, 1.0),
                                         jitter_strength=cfg.jitter_strength, blur_p=cfg.blur_p), seed=seed)
    order_gen = torch.Generator().manual_seed(seed + 1)
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    start, order, cursor = 0, torch.randperm(len(images), generator=order_gen), 0
    state = checkpoints.load(name)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        augment.load_state_dict(state["augment"])
        order_gen.set_state(state["order_gen"])
        start, order, cursor = state["step"], state["order"], state["cursor"]
    warmup = int(cfg.warmup_fraction * cfg.steps)
    model.train()
    bar = progress(range(start, cfg.steps), total=cfg.steps, initial=start, desc=name)
    tick = time.perf_counter()
    for step in bar:
        if cursor + batch_size > len(images):               # new epoch: reshuffle
            order, cursor = torch.randperm(len(images), generator=order_gen), 0
        index = order[cursor:cursor + batch_size].to(device)
        cursor += batch_size
        x = to_unit(images[index])
        set_lr(optimizer, base_lr * warmup_cosine(step, cfg.steps, warmup))
        v1, v2 = normalize(augment(x)), normalize(augment(x))   # augmentation stays fp32 in every precision
        # cfg.amp: fp16 on CUDA with loss scaling; else --precision (bf16-mixed: autocast, no scaler needed)
        with torch.autocast(device.type, enabled=True) if use_amp else autocast(device):
            z1 = model(v1)
            z2 = model(v2)
            loss = nt_xent_loss(z1.float(), z2.float(), cfg.temperature)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        now = time.perf_counter()
        images_per_s = 2 * batch_size / max(now - tick, 1e-9)
        tick = now
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{loss.item():.3f}", img_s=f"{images_per_s:.0f}")
        if log is not None and (step % 10 == 0 or step == cfg.steps - 1):
            log(phase="pretrain", arm=name, step=step, loss=float(loss.item()), images_per_s=images_per_s)
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
            checkpoints.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                              "augment": augment.state_dict(), "order_gen": order_gen.get_state(),
                              "step": step + 1, "order": order, "cursor": cursor}, name)
    model.eval()
    return model.encoder, normalize


@torch.no_grad()
def extract_features(encoder: nn.Module, normalize: Normalizer, images: torch.Tensor,
                     batch_size: int = 1024) -> torch.Tensor:
    """Frozen features h = f(x) of un-augmented images (encoder in eval mode)."""
    encoder.eval()
    return torch.cat([encoder(normalize(to_unit(images[i:i + batch_size])))
                      for i in range(0, len(images), batch_size)])


@torch.no_grad()
def recompute_bn_stats(encoder: nn.Module, normalize: Normalizer, images: torch.Tensor,
                       batch_size: int = 1024) -> nn.Module:
    """Replace every BatchNorm layer's running mean/variance by statistics of ``images`` (un-augmented;
    the average of per-batch statistics, exact when one batch holds them all), leaving all weights alone. An untrained encoder's BN statistics are the init's
    (mean 0, var 1), which mis-scale every layer; recomputing them is what makes a random-init
    reference fair. Returns the encoder in eval mode."""
    bns = [m for m in encoder.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None                     # cumulative average over all batches seen
    encoder.train()
    for i in range(0, len(images), batch_size):
        encoder(normalize(to_unit(images[i:i + batch_size])))
    for m, momentum in zip(bns, saved):
        m.momentum = momentum
    return encoder.eval()


def pixel_features(images: torch.Tensor) -> torch.Tensor:
    """The raw-pixel reference: each image flattened to [0, 1] values."""
    return to_unit(images).flatten(1)


def linear_probe(train_features: torch.Tensor, train_labels: torch.Tensor, test_features: torch.Tensor,
                 test_labels: torch.Tensor, weight_decay: float = 1e-4, max_iter: int = 200) -> float:
    """Multinomial logistic regression on frozen, standardised features (full-batch L-BFGS);
    returns test accuracy."""
    mean, std = train_features.mean(0), train_features.std(0).clamp_min(1e-6)
    xtr, xte = (train_features - mean) / std, (test_features - mean) / std
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    layer = Linear(xtr.shape[1], n_classes).to(xtr.device)
    # start from zero (a convex problem; scikit-learn does the same): with a random start the accuracy
    # would depend on the global RNG state, i.e. on which cached artifacts earlier experiments left behind
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    optimizer = torch.optim.LBFGS(layer.parameters(), lr=1.0, max_iter=max_iter, history_size=20,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(layer(xtr), train_labels) + weight_decay * layer.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    with torch.no_grad():
        return float((layer(xte).argmax(1) == test_labels).float().mean())


def knn_k_for_bank(n_bank: int) -> int:
    """k of the weighted kNN for a bank of n_bank labelled features: 200 from 50K up (lightly's CIFAR-10
    benchmark), else 20; a large k on a small bank averages over far neighbours and favours the largest
    classes (on 10K Fashion-MNIST labels, raw pixels: 0.797 at k=20, 0.730 at k=200). Tiny banks use
    at most a tenth of the bank."""
    if n_bank < 1:
        raise ValueError(f"the kNN bank must hold at least 1 image, got {n_bank}")
    return 200 if n_bank >= 50_000 else max(1, min(20, n_bank // 10))


@torch.no_grad()
def knn_accuracy(train_features: torch.Tensor, train_labels: torch.Tensor, test_features: torch.Tensor,
                 test_labels: torch.Tensor, k: int = 200, temperature: float = 0.1, chunk: int = 1024) -> float:
    """Weighted kNN (Wu et al. 2018, as in lightly / solo-learn): cosine similarity, the k nearest
    training features vote for their class with weight exp(sim / temperature)."""
    bank = F.normalize(train_features, dim=1)
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    k = min(k, len(bank))
    correct = 0
    for i in range(0, len(test_features), chunk):
        query = F.normalize(test_features[i:i + chunk], dim=1)
        sim, idx = (query @ bank.T).topk(k, dim=1)
        weights = (sim / temperature).exp()
        votes = torch.zeros(len(query), n_classes, device=query.device)
        votes.scatter_add_(1, train_labels[idx], weights)
        correct += int((votes.argmax(1) == test_labels[i:i + chunk]).sum())
    return correct / len(test_features)


def train_classifier(encoder: nn.Module, normalize: Normalizer, images: torch.Tensor, labels: torch.Tensor,
                     cfg: ClassifierSettings, seed: int, progress=_progress_passthrough,
                     desc: str = "classifier") -> nn.Module:
    """``fit_classifier`` without validation (a fixed budget: ``cfg.steps_for``); returns the classifier."""
    return fit_classifier(encoder, normalize, images, labels, cfg, seed, progress=progress, desc=desc)[0]


def fit_classifier(encoder: nn.Module, normalize: Normalizer, images: torch.Tensor, labels: torch.Tensor,
                   cfg: ClassifierSettings, seed: int, validation: tuple[torch.Tensor, torch.Tensor] | None = None,
                   progress=_progress_passthrough, desc: str = "classifier") -> tuple[nn.Module, dict]:
    """Train encoder + linear layer end to end with cross-entropy (crop + flip augmentation, Adam).
    A freshly built encoder gives the supervised-from-scratch baseline; a pre-trained one gives SimCLR
    fine-tuning. With ``cfg.patience`` and a ``validation`` split it trains to a plateau of validation
    accuracy (``ClassifierSettings``); otherwise for ``cfg.steps_for`` steps on a cosine schedule.
    Returns the classifier (encoder + head, eval mode) and {"steps", "converged", "val_best", "val_checks"}."""
    device = images.device
    torch.manual_seed(seed)
    n_classes = int(labels.max()) + 1
    if validation is not None:
        n_classes = max(n_classes, int(validation[1].max()) + 1)
    model = nn.Sequential(encoder, Linear(encoder.feature_dim, n_classes)).to(device)
    optimizer = build_optimizer(model, "adam", cfg.lr, cfg.weight_decay)
    augment = BatchAugment(weak_augment_config(images.shape[-1]), seed=seed)
    gen = torch.Generator().manual_seed(seed + 2)
    batch_size = min(cfg.batch_size, len(images))
    steps = cfg.steps_for(len(images))
    early = cfg.patience is not None and validation is not None
    plateau = Plateau(cfg.patience, cfg.min_delta) if early else None
    every, drops, lr, best_state, checks, converged = cfg.eval_every(len(images)), 0, cfg.lr, None, [], not early
    model.train()
    step = 0
    for step in progress(range(steps), desc=desc):
        index = torch.randint(len(images), (batch_size,), generator=gen).to(device)
        set_lr(optimizer, lr if early else cfg.lr * warmup_cosine(step, steps, 0))
        loss = F.cross_entropy(model(normalize(augment(to_unit(images[index])))), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if early and ((step + 1) % every == 0 or step + 1 == steps):
            accuracy = classifier_accuracy(model, normalize, *validation)
            model.train()
            checks.append((step + 1, accuracy))
            if accuracy > plateau.best + plateau.min_delta:
                best_state = copy.deepcopy(model.state_dict())
            if plateau.update(accuracy, step + 1):
                model.load_state_dict(best_state)
                if drops == cfg.lr_drops:
                    converged = True
                    break
                drops, lr = drops + 1, lr / 10
                plateau.restart()
    if early and not converged and best_state is not None:   # the cap came first: keep the best weights seen
        model.load_state_dict(best_state)
    model.eval()
    info = {"steps": step + 1, "converged": converged, "val_best": plateau.best if early else None,
            "val_checks": checks}
    return model, info


@torch.no_grad()
def classifier_accuracy(model: nn.Module, normalize: Normalizer, images: torch.Tensor, labels: torch.Tensor,
                        batch_size: int = 1024) -> float:
    model.eval()
    correct = sum(int((model(normalize(to_unit(images[i:i + batch_size]))).argmax(1)
                       == labels[i:i + batch_size]).sum()) for i in range(0, len(images), batch_size))
    return correct / len(images)
