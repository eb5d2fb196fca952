"""A prior over image functions (Sec. 4.4): a set encoder maps context pixels to a latent code, a
hypernetwork maps the code to the weights of a small SIREN, and the SIREN renders the whole image.
Compared with a conditional neural process (CNP: the same encoder, a ReLU MLP decoder on [code, x]).
Trained on Fashion-MNIST (28^2 resized to 32^2 so that 1000 context pixels exist) or, where that is
not installed, scikit-learn's digits; evaluated by inpainting MSE from 10, 100 and 1000 context pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from paperlab.core.linear import Linear
from paperlab.core.plots import new_figure
from paperlab.core.constraints import (
    Interval, Options, POSITIVE, Unique, LAYER_WIDTH, LAYER_COUNT, OMEGA, LEARNING_RATE, NON_NEGATIVE, size_bound)
from paperlab.siren.data import coordinate_grid
from paperlab.siren.models import sine_weight_bound
from paperlab.siren.training import fit


@dataclass
class PriorConfig:
    """Paper: CelebA 32^2, context 10 / 100 / 1000 pixels, set encoder + hypernetwork onto a SIREN.
    Sizes here are ours (a 3 x 64 SIREN, 128-d code); Adam lr 1e-4 as in the paper's other experiments."""
    _constraints = {"dataset": Options("fashion-mnist", "digits"), "side": Interval(2, 256, why="the images are 28x28 or 8x8, upsampled"), "train_images": Interval(1),
                    "test_images": Interval(1), "batch_size": Interval(1), "steps": Interval(1), "lr": LEARNING_RATE, "log_every": Interval(1),
                    "latent": LAYER_WIDTH,
                    "encoder_hidden": LAYER_WIDTH, "siren_hidden": LAYER_WIDTH, "hyper_hidden": LAYER_WIDTH,
                    "siren_layers": size_bound(100, LAYER_COUNT.why, low=0), "latent_weight": NON_NEGATIVE, "hypo_weight": NON_NEGATIVE,
                    "cnp_hidden": LAYER_WIDTH, "omega_0": OMEGA, "min_context": Interval(1, lambda c: c.side ** 2),
                    "contexts": [Interval(1, lambda c: c.side ** 2), Unique()],
                    "methods": [Options("hypernetwork", "cnp"), Unique()]}

    dataset: str = "fashion-mnist"         # "fashion-mnist" (falls back to "digits" when not installed) or "digits"
    side: int = 32                         # images resized to side x side
    train_images: int = 60_000             # training images (the first ones of the set)
    test_images: int = 1000                # held-out images the inpainting error is measured on
    batch_size: int = 32                   # images per step
    steps: int = 20_000                    # Adam steps per method
    lr: float = 1e-4                       # Adam learning rate
    latent: int = 128                      # size of the set encoder's code
    encoder_hidden: int = 128              # width of the set encoder's MLP
    siren_hidden: int = 64                 # width of the rendered SIREN
    siren_layers: int = 2                  # hidden sine layers of the rendered SIREN
    hyper_hidden: int = 256                # width of each hypernetwork MLP
    cnp_hidden: int = 128                  # width of the CNP decoder
    omega_0: float = 30.0                  # omega_0 of the rendered SIREN
    latent_weight: float = 0.1             # authors' `kl_weight` (1e-1): an L2 penalty on the code, not a KL
    hypo_weight: float = 1e2               # authors' `fw_weight`: penalty on the mean square of the emitted SIREN parameters
    min_context: int = 10                  # fewest context pixels seen in training (log-uniform up to all)
    contexts: tuple[int, ...] = (10, 100, 1000)  # context sizes the test error is measured at
    methods: tuple[str, ...] = ("hypernetwork", "cnp")  # hypernetwork | cnp, trained alike
    log_every: int = 50                    # steps between records in metrics.jsonl
    checkpoint_every: int = 2000           # steps between checkpoints (resume points)


def load_prior_images(cfg: PriorConfig) -> tuple[np.ndarray, np.ndarray, str]:
    """(train, test) float32 [N, side, side] in [-1, 1] and the dataset actually used."""
    from paperlab.datasets import DatasetNotFoundError, load_digits_images, load_fashion_mnist, resize_images

    if cfg.dataset not in ("fashion-mnist", "digits"):
        raise ValueError(f"dataset must be 'fashion-mnist' or 'digits', got {cfg.dataset!r}")
    used = cfg.dataset
    if used == "fashion-mnist":
        try:
            train, _ = load_fashion_mnist("train")
            test, _ = load_fashion_mnist("test")
        except DatasetNotFoundError:
            used = "digits"
    if used == "digits":
        images, _ = load_digits_images(cfg.side)
        split = int(0.8 * len(images))
        train, test = images[:split], images[split:]
    train, test = train[:cfg.train_images], test[:cfg.test_images]
    if train.shape[1] != cfg.side:
        train, test = resize_images(train, cfg.side), resize_images(test, cfg.side)
    scale = lambda a: (a.astype(np.float32) / 255.0) * 2 - 1  # noqa: E731
    return scale(train), scale(test), used


class SetEncoder(nn.Module):
    """Mean over context points of an MLP on (x, y, value): a permutation-invariant code."""

    def __init__(self, hidden: int, latent: int):
        super().__init__()
        self.net = nn.Sequential(Linear(3, hidden), nn.ReLU(), Linear(hidden, hidden), nn.ReLU(),
                                 Linear(hidden, latent))

    def forward(self, coords: torch.Tensor, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """coords [B, P, 2], values [B, P, 1], mask [B, P] (1 = context point) -> [B, latent]."""
        features = self.net(torch.cat([coords, values], dim=-1))
        weights = mask.unsqueeze(-1)
        return (features * weights).sum(1) / weights.sum(1).clamp_min(1.0)


class HyperSiren(nn.Module):
    """Hypernetwork (one ReLU MLP per SIREN parameter, as the authors' `HyperNetwork`) emitting a
    batch of SIRENs. The last layer of each MLP starts with small weights (Kaiming / 100) and a bias
    drawn from the SIREN's own initialisation, so the emitted SIRENs start at the paper's init."""

    def __init__(self, latent: int, hyper_hidden: int, siren_hidden: int, siren_layers: int, omega_0: float):
        super().__init__()
        widths = [2] + [siren_hidden] * (siren_layers + 1) + [1]
        self.shapes = list(zip(widths[1:], widths[:-1]))          # (out, in) per layer
        self.omega_0 = omega_0
        self.heads = nn.ModuleList()
        for i, (fan_out, fan_in) in enumerate(self.shapes):
            head = nn.Sequential(Linear(latent, hyper_hidden), nn.ReLU(), Linear(hyper_hidden, fan_out * (fan_in + 1)))
            last = head[-1]
            nn.init.kaiming_normal_(last.weight, nonlinearity="relu")
            with torch.no_grad():
                last.weight /= 100.0
                bound = sine_weight_bound(fan_in, omega_0, is_first=i == 0)
                last.bias.uniform_(-bound, bound)
            self.heads.append(head)

    def forward(self, code: torch.Tensor, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """code [B, latent], coords [B, P, 2] -> (values [B, P, 1], mean square of the emitted parameters).

        The second output is the authors' `hypo_weight_loss`: the sum of squares of every emitted weight
        and bias divided by their number."""
        h = coords
        square_sum, count = 0.0, 0
        for i, ((fan_out, fan_in), head) in enumerate(zip(self.shapes, self.heads)):
            params = head(code)
            square_sum = square_sum + params.square().sum()
            count += params.numel()
            weight = params[:, :fan_out * fan_in].view(-1, fan_out, fan_in)
            bias = params[:, fan_out * fan_in:].unsqueeze(1)
            h = torch.baddbmm(bias, h, weight.transpose(1, 2))
            if i < len(self.shapes) - 1:
                h = torch.sin(self.omega_0 * h)
        return h, square_sum / count


class CNPDecoder(nn.Module):
    """Conditional neural process decoder: ReLU MLP on [code, x, y] -> value."""

    def __init__(self, latent: int, hidden: int, layers: int):
        super().__init__()
        mods: list[nn.Module] = [Linear(latent + 2, hidden), nn.ReLU()]
        for _ in range(layers):
            mods += [Linear(hidden, hidden), nn.ReLU()]
        self.net = nn.Sequential(*mods, Linear(hidden, 1))

    def forward(self, code: torch.Tensor, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(values, 0): a CNP emits no weights, so it has no weight penalty."""
        values = self.net(torch.cat([code.unsqueeze(1).expand(-1, coords.shape[1], -1), coords], dim=-1))
        return values, values.new_zeros(())


class ImagePrior(nn.Module):
    def __init__(self, method: str, cfg: PriorConfig):
        super().__init__()
        self.encoder = SetEncoder(cfg.encoder_hidden, cfg.latent)
        if method == "hypernetwork":
            self.decoder = HyperSiren(cfg.latent, cfg.hyper_hidden, cfg.siren_hidden, cfg.siren_layers, cfg.omega_0)
        elif method == "cnp":
            self.decoder = CNPDecoder(cfg.latent, cfg.cnp_hidden, cfg.siren_layers + 1)
        else:
            raise ValueError(f"unknown prior method {method!r}; valid: hypernetwork, cnp")

    def forward(self, coords, values, mask):
        """(prediction, code, weight penalty)."""
        code = self.encoder(coords, values, mask)
        prediction, weight_penalty = self.decoder(code, coords)
        return prediction, code, weight_penalty


def context_masks(batch: int, pixels: int, sizes: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """[batch, pixels] masks with sizes[i] random context pixels in row i."""
    ranks = torch.rand(batch, pixels, generator=generator).argsort(dim=1).argsort(dim=1)
    return (ranks < sizes.unsqueeze(1)).float()


@torch.no_grad()
def inpainting_mse(model: ImagePrior, images: torch.Tensor, coords: torch.Tensor, context: int, seed: int,
                   batch: int = 250) -> float:
    """MSE over all pixels of the images rendered from `context` random pixels each."""
    generator = torch.Generator().manual_seed(seed)
    errors = []
    for start in range(0, images.shape[0], batch):
        values = images[start:start + batch]
        b = values.shape[0]
        mask = context_masks(b, values.shape[1], torch.full((b,), context), generator).to(values.device)
        prediction = model(coords.expand(b, -1, -1), values, mask)[0]
        errors.append(((prediction - values) ** 2).mean(dim=(1, 2)))
    return float(torch.cat(errors).mean())


def image_prior(run, cfg: PriorConfig) -> dict:
    pixels = cfg.side * cfg.side
    train, test, used = load_prior_images(cfg)
    train_t = torch.as_tensor(train, device=run.device).reshape(len(train), pixels, 1)
    test_t = torch.as_tensor(test, device=run.device).reshape(len(test), pixels, 1)
    coords = coordinate_grid(cfg.side, cfg.side).to(run.device).unsqueeze(0)
    def train_method(i: int, method: str) -> dict:
        torch.manual_seed(run.seed * 1000 + i)
        generator = torch.Generator().manual_seed(run.seed * 1000 + i)  # own stream: resumable per method
        model = ImagePrior(method, cfg).to(run.device)

        def objective(model, step):
            idx = torch.randint(len(train_t), (cfg.batch_size,), generator=generator).to(run.device)
            values = train_t[idx]
            # context sizes log-uniform in [min_context, pixels]: every scale of context is seen
            sizes = torch.exp(torch.empty(cfg.batch_size).uniform_(math.log(cfg.min_context), math.log(pixels),
                                                                    generator=generator)).round()
            mask = context_masks(cfg.batch_size, pixels, sizes, generator).to(run.device)
            prediction, code, weight_penalty = model(coords.expand(cfg.batch_size, -1, -1), values, mask)
            mse = torch.mean((prediction - values) ** 2)
            # authors' image_hypernetwork_loss: MSE + kl_weight * mean code^2 + fw_weight * mean emitted weight^2
            loss = mse + cfg.latent_weight * code.square().mean() + cfg.hypo_weight * weight_penalty
            return loss, {"mse": float(mse.detach()), "weight_penalty": float(weight_penalty.detach())}

        objective.generators = {"batches": generator}

        fit(model, objective, cfg.steps, cfg.lr, run, tag=method, log_every=cfg.log_every,
            checkpoint_every=cfg.checkpoint_every)
        model.eval()
        mse = {str(c): inpainting_mse(model, test_t, coords, c, seed=run.seed + 7) for c in cfg.contexts}
        run.save_file(f"prior_{method}.pt", lambda fh: torch.save(model.state_dict(), fh))
        return {"mse_by_context": mse}

    for i, method in enumerate(cfg.methods):
        run.piece(method, lambda: train_method(i, method))
    plot_inpainting(run, cfg, test_t, coords)
    return {"mse_by_context": {m: run.partial[m]["mse_by_context"] for m in cfg.methods},
            "contexts": list(cfg.contexts), "dataset": used, "steps": cfg.steps, "side": cfg.side}


def plot_inpainting(run, cfg: PriorConfig, test_t: torch.Tensor, coords: torch.Tensor) -> None:
    shown = min(4, test_t.shape[0])
    values = test_t[:shown]
    rows = []
    generator = torch.Generator().manual_seed(run.seed + 11)
    for c in cfg.contexts:
        mask = context_masks(shown, values.shape[1], torch.full((shown,), c), generator).to(values.device)
        rows.append((f"context {c}", torch.where(mask.unsqueeze(-1) > 0, values, torch.full_like(values, -1.5))))
        for method in cfg.methods:
            model = ImagePrior(method, cfg).to(run.device)
            model.load_state_dict(torch.load(run.file(f"prior_{method}.pt"), map_location=run.device, weights_only=True))
            with torch.no_grad():
                rows.append((f"{method} ({c})", model(coords.expand(shown, -1, -1), values, mask)[0]))
    rows.append(("ground truth", values))
    fig, axes = new_figure(len(rows), shown, size=(1.6 * shown, 1.6 * len(rows)))
    axes = np.asarray(axes).reshape(len(rows), shown)
    for r, (label, imgs) in enumerate(rows):
        for j in range(shown):
            axes[r, j].imshow(imgs[j].reshape(cfg.side, cfg.side).cpu().numpy(), cmap="gray", vmin=-1, vmax=1)
            axes[r, j].set_xticks([])
            axes[r, j].set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=7)
    run.save_figure(fig, "inpainting")
    fig, ax = new_figure(size=(4.5, 3.5))
    for method in cfg.methods:
        mse = run.partial[method]["mse_by_context"]
        ax.loglog([int(c) for c in mse], list(mse.values()), marker="o", label=method)
    ax.set_xlabel("context pixels")
    ax.set_ylabel("inpainting MSE")
    ax.legend()
    run.save_figure(fig, "mse_vs_context")
