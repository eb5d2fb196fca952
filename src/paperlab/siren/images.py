"""Image experiments: fitting (Fig. 1), supervision by derivatives only (Sec. 4.1, Table 1 of the
supplement's Poisson experiment) and gradient-domain blending (Fig. 5)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from paperlab.core.models import save_model
from paperlab.core.plots import new_figure
from paperlab.core.constraints import (
    Check, Interval, Options, POSITIVE, Unique, LAYER_WIDTH, LAYER_COUNT, OMEGA, LEARNING_RATE, size_bound,
    DataFile)
from paperlab.siren.data import BUNDLED_IMAGES, coordinate_grid, load_image
from paperlab.siren.derivatives import bandlimited_derivatives, laplace_filter, sobel_gradient
from paperlab.siren.models import METHODS, build_model
from paperlab.siren.training import evaluate_fields, fit, psnr, supervision_objective


@dataclass
class ImageSignal:
    """An image on the [-1, 1]^2 grid with its Sobel gradient and Laplace-filter Laplacian as tensors
    (the authors' supervision targets) and the exact derivatives of its band-limited interpolant (what
    a fitted function's derivatives are scored against)."""

    image: np.ndarray            # [side, side] in [-1, 1]
    coords: torch.Tensor         # [N, 2]
    value: torch.Tensor          # [N, 1]
    gradient: torch.Tensor       # [N, 1, 2] Sobel
    laplacian: torch.Tensor      # [N, 1] 5-point Laplace filter
    bl_gradient: torch.Tensor    # [N, 1, 2] band-limited interpolant's gradient at the pixel centres
    bl_laplacian: torch.Tensor   # [N, 1] band-limited interpolant's Laplacian at the pixel centres

    @property
    def side(self) -> int:
        return self.image.shape[0]

    @classmethod
    def from_array(cls, image: np.ndarray, device: str = "cpu") -> "ImageSignal":
        side = image.shape[0]
        as_tensor = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32), device=device)  # noqa: E731
        bl_gradient, bl_laplacian = bandlimited_derivatives(image)
        return cls(image=image, coords=coordinate_grid(side, side).to(device),
                   value=as_tensor(image).reshape(-1, 1),
                   gradient=as_tensor(sobel_gradient(image)).reshape(-1, 1, 2),
                   laplacian=as_tensor(laplace_filter(image)).reshape(-1, 1),
                   bl_gradient=as_tensor(bl_gradient).reshape(-1, 1, 2),
                   bl_laplacian=as_tensor(bl_laplacian).reshape(-1, 1))

    @classmethod
    def load(cls, source: str, side: int, device: str = "cpu") -> "ImageSignal":
        return cls.from_array(load_image(source, side), device)

    def target(self, kind: str) -> torch.Tensor:
        return {"value": self.value, "gradient": self.gradient, "laplacian": self.laplacian}[kind]


@dataclass
class NetworkConfig:
    """Architecture shared by the image experiments: the authors' `SingleBVPNet` (5 x 256, omega_0 = 30)."""
    _constraints = {"hidden_features": LAYER_WIDTH, "first_omega_0": OMEGA, "hidden_omega_0": OMEGA,
                    "rbf_centres": size_bound(65_536, "one RBF unit per centre at every coordinate"),
                    "hidden_layers": size_bound(100, LAYER_COUNT.why, low=0)}

    hidden_features: int = 256      # width of the hidden layers
    hidden_layers: int = 3          # layers between the first and the last (3: the authors' 5-layer net)
    first_omega_0: float = 30.0     # SIREN: omega_0 of the first sine layer
    hidden_omega_0: float = 30.0    # SIREN: omega_0 of the other sine layers
    rbf_centres: int = 1024         # RBF-ReLU: centres of its RBF input layer


class _ImageSource(DataFile):
    """A bundled scikit-image name, or an image file decoded when the config is made (before any run folder)."""

    def check(self, value, cfg):
        if value in BUNDLED_IMAGES:
            return None
        problem = super().check(value, cfg)
        return problem and f"a bundled image ({', '.join(BUNDLED_IMAGES)}) or {problem}"


IMAGE = _ImageSource(lambda path: load_image(str(path), 2), "image file", optional=False)


def network_spec(method: str, cfg, in_features: int, out_features: int, samples_per_axis: int) -> dict:
    """`build_model`'s arguments for `method` under `cfg` (saved with the trained weights: `paperlab.load`)."""
    return {"method": method, "in_features": in_features, "out_features": out_features,
            "hidden_features": cfg.hidden_features, "hidden_layers": cfg.hidden_layers,
            "first_omega_0": cfg.first_omega_0, "hidden_omega_0": cfg.hidden_omega_0,
            "samples_per_axis": samples_per_axis, "rbf_centres": cfg.rbf_centres}


def make_network(method: str, cfg, in_features: int, out_features: int, samples_per_axis: int, device: str):
    return build_model(**network_spec(method, cfg, in_features, out_features, samples_per_axis)).to(device)


def field_psnrs(fields: dict[str, torch.Tensor], signal: ImageSignal) -> dict[str, float]:
    """PSNR of the fitted image (range 2) and of its exact gradient and Laplacian at the pixel centres
    against the band-limited interpolant's (range: the ground truth's peak-to-peak), the judged scores.
    Also, reported only: the same derivatives against Sobel / the Laplace filter of the pixels (the
    old score, which rewards blur: the filters damp high frequencies), and Sobel applied to the
    network's own samples against Sobel of the image."""
    side = signal.side
    samples = fields["value"].cpu().numpy().reshape(side, side)
    own_sobel = torch.as_tensor(sobel_gradient(samples), dtype=torch.float32).reshape(-1, 1, 2)
    return {"psnr_image": psnr(fields["value"], signal.value, 2.0),
            "psnr_gradient_bandlimited": psnr(fields["gradient"], signal.bl_gradient),
            "psnr_laplacian_bandlimited": psnr(fields["laplacian"], signal.bl_laplacian),
            "psnr_gradient_sobel": psnr(fields["gradient"], signal.gradient),
            "psnr_laplacian_filter": psnr(fields["laplacian"], signal.laplacian),
            "psnr_sobel_of_samples_vs_sobel": psnr(own_sobel, signal.gradient)}


def zero_floor(signal: ImageSignal) -> dict[str, float]:
    """What predicting zero scores on each derivative score: the floor every number is read against."""
    return {"gradient_bandlimited": psnr(torch.zeros_like(signal.bl_gradient), signal.bl_gradient),
            "laplacian_bandlimited": psnr(torch.zeros_like(signal.bl_laplacian), signal.bl_laplacian),
            "gradient_sobel": psnr(torch.zeros_like(signal.gradient), signal.gradient),
            "laplacian_filter": psnr(torch.zeros_like(signal.laplacian), signal.laplacian)}


def save_fields(run, name: str, fields: dict[str, torch.Tensor], side: int) -> None:
    arrays = {k: v.numpy().reshape(side, side, -1) for k, v in fields.items()}
    run.save_file(f"fields_{name}.npz", lambda fh: np.savez_compressed(fh, **arrays))


def load_fields(run, name: str) -> dict[str, np.ndarray]:
    with np.load(run.file(f"fields_{name}.npz")) as data:
        return {k: data[k] for k in data.files}


def psnr_curve(history: list[dict], key: str) -> dict[str, list]:
    return {"step": [r["step"] for r in history], "psnr": [float(r[key]) for r in history]}


# -- 1. image fitting ---------------------------------------------------------------------------------
@dataclass
class ImageFitConfig(NetworkConfig):
    """Authors' `train_img.py`: 512^2 cameraman, 10k full-batch Adam steps at lr 1e-4."""
    _constraints = {"image": IMAGE, "side": Interval(2, 4096, why="4096^2 pixels, each a coordinate through every layer"), "steps": Interval(1), "lr": LEARNING_RATE, "log_every": Interval(1),
                    "methods": [Options(*METHODS), Unique()]}

    image: str = "camera"        # a bundled scikit-image name or an image file
    side: int = 512              # pixels per side (centre-cropped, resized)
    steps: int = 10_000          # Adam steps per network
    lr: float = 1e-4             # Adam learning rate
    batch_size: int = 0          # 0 = full batch (the paper); otherwise random coordinates per step
    methods: tuple[str, ...] = ("siren", "relu", "tanh", "relu_pe", "rbf_relu")  # networks compared, trained alike
    log_every: int = 10          # steps between records in metrics.jsonl
    checkpoint_every: int = 1000  # steps between checkpoints (resume points)


def image_fit(run, cfg: ImageFitConfig) -> dict:
    signal = ImageSignal.load(cfg.image, cfg.side, run.device)

    def fit_method(i: int, method: str) -> dict:
        torch.manual_seed(run.seed * 1000 + i)
        model = make_network(method, cfg, 2, 1, cfg.side, run.device)
        objective = supervision_objective(signal.coords, signal.value, "value", cfg.batch_size, seed=run.seed)
        history = fit(model, objective, cfg.steps, cfg.lr, run, tag=method, log_every=cfg.log_every,
                      checkpoint_every=cfg.checkpoint_every)
        fields = evaluate_fields(model, signal.coords, order=2)
        save_fields(run, method, fields, cfg.side)
        save_model(run, method, "network", network_spec(method, cfg, 2, 1, cfg.side), model.state_dict(),
                   default=method == "siren")
        step_seconds = float(np.median([r["step_seconds"] for r in history])) if history else float("nan")
        return {**field_psnrs(fields, signal), "curve": psnr_curve(history, "psnr_value"),
                "median_step_seconds": step_seconds}

    for i, method in enumerate(cfg.methods):
        run.piece(method, lambda: fit_method(i, method))
    plot_psnr_curves(run, cfg.methods, "PSNR vs step (image fitting)")
    plot_field_grid(run, signal, cfg.methods, "image_gradient_laplacian")
    return {"methods": {m: {k: v for k, v in run.partial[m].items()} for m in cfg.methods},
            "zero_floor": zero_floor(signal), "image": cfg.image, "side": cfg.side, "steps": cfg.steps}


def plot_psnr_curves(run, keys, title: str) -> None:
    fig, ax = new_figure(size=(5.5, 3.8))
    for key in keys:
        curve = run.partial[key]["curve"]
        ax.plot(curve["step"], curve["psnr"], label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(title)
    ax.legend()
    run.save_figure(fig, "psnr_vs_step")


def plot_field_grid(run, signal: ImageSignal, methods, name: str) -> None:
    """Figure 1 of the paper: image, gradient magnitude and Laplacian, ground truth (the band-limited
    interpolant's derivatives) first, one row per method; titles: PSNR against that ground truth."""
    side = signal.side
    rows = [("ground truth", signal.image,
             np.linalg.norm(signal.bl_gradient.cpu().numpy().reshape(side, side, 2), axis=-1),
             signal.bl_laplacian.cpu().numpy().reshape(side, side))]
    for method in methods:
        f = load_fields(run, method)
        rows.append((method, f["value"][..., 0], np.linalg.norm(f["gradient"].reshape(side, side, 2), axis=-1),
                     f["laplacian"][..., 0]))
    grad_max = np.percentile(rows[0][2], 99)
    lap_lim = np.percentile(np.abs(rows[0][3]), 99)
    fig, axes = new_figure(len(rows), 3, size=(7.5, 2.5 * len(rows)))
    for r, (label, image, grad, lap) in enumerate(rows):
        axes[r, 0].imshow(image, cmap="gray", vmin=-1, vmax=1)
        axes[r, 1].imshow(grad, cmap="gray", vmin=0, vmax=grad_max)
        axes[r, 2].imshow(lap, cmap="gray", vmin=-lap_lim, vmax=lap_lim)
        axes[r, 0].set_ylabel(label)
        if r > 0 and label in run.partial:
            p = run.partial[label]
            for c, key in enumerate(("psnr_image", "psnr_gradient_bandlimited", "psnr_laplacian_bandlimited")):
                if key in p:
                    axes[r, c].set_title(f"{p[key]:.1f} dB", fontsize=9)
    for c, title in enumerate(("image", "|gradient|", "Laplacian")):
        axes[0, c].set_title(title)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    run.save_figure(fig, name)


# -- 2. supervision by derivatives only ---------------------------------------------------------------
@dataclass
class DerivativeSupervisionConfig(NetworkConfig):
    """Supplement, Poisson image reconstruction: fit only the gradient (or only the Laplacian) of the
    cameraman; the authors' script trains full-batch with Adam at lr 1e-4 for 10k steps at 256^2."""
    _constraints = {"image": IMAGE, "side": Interval(2, 4096, why="4096^2 pixels, each a coordinate through every layer"), "steps": Interval(1), "lr": LEARNING_RATE,
                    "log_every": Interval(1), "highpass_sigma": POSITIVE,
                    "gradient_methods": [Options(*METHODS), Unique()], "laplacian_methods": [Options(*METHODS), Unique()]}

    image: str = "camera"           # a bundled scikit-image name or an image file
    side: int = 256                 # pixels per side (centre-cropped, resized)
    steps: int = 10_000             # Adam steps per network
    lr: float = 1e-4                # Adam learning rate
    batch_size: int = 0             # 0 = full batch; otherwise random coordinates per step
    gradient_methods: tuple[str, ...] = ("siren", "tanh", "relu_pe")  # fitted to the gradient only
    laplacian_methods: tuple[str, ...] = ("siren",)  # fitted to the Laplacian only
    log_every: int = 10             # steps between records in metrics.jsonl
    checkpoint_every: int = 1000    # steps between checkpoints (resume points)
    highpass_sigma: float = 2.0     # pixels; Gaussian removed to compare the high-frequency content


def remove_unobservable(prediction: np.ndarray, image: np.ndarray, kind: str) -> np.ndarray:
    """Least-squares fit of what the supervision cannot see, added to the prediction: a constant for
    gradient supervision; a constant and a linear ramp (a + b x + c y) for Laplacian supervision."""
    side = image.shape[0]
    residual = (image - prediction).reshape(-1)
    if kind == "gradient":
        return prediction + residual.mean()
    grid = coordinate_grid(side, side).numpy().astype(np.float64)
    basis = np.column_stack([np.ones(side * side), grid])
    coef, *_ = np.linalg.lstsq(basis, residual, rcond=None)
    return prediction + (basis @ coef).reshape(side, side)


def highpass_correlation(prediction: np.ndarray, image: np.ndarray, sigma: float) -> float:
    """Pearson correlation of the two images after subtracting a Gaussian blur of width `sigma` pixels."""
    from scipy import ndimage

    hp_pred = prediction - ndimage.gaussian_filter(prediction, sigma)
    hp_img = image - ndimage.gaussian_filter(image, sigma)
    return float(np.corrcoef(hp_pred.ravel(), hp_img.ravel())[0, 1])


def derivative_supervision(run, cfg: DerivativeSupervisionConfig) -> dict:
    signal = ImageSignal.load(cfg.image, cfg.side, run.device)
    arms = [(m, "gradient") for m in cfg.gradient_methods] + [(m, "laplacian") for m in cfg.laplacian_methods]
    mean_predictor = float(np.mean((signal.image - signal.image.mean()) ** 2))

    def fit_arm(i: int, method: str, kind: str, key: str) -> dict:
        torch.manual_seed(run.seed * 1000 + i)
        model = make_network(method, cfg, 2, 1, cfg.side, run.device)
        objective = supervision_objective(signal.coords, signal.target(kind), kind, cfg.batch_size, seed=run.seed)
        history = fit(model, objective, cfg.steps, cfg.lr, run, tag=key, log_every=cfg.log_every,
                      checkpoint_every=cfg.checkpoint_every)
        fields = evaluate_fields(model, signal.coords, order=2)
        save_fields(run, key, fields, cfg.side)
        raw = fields["value"].numpy().reshape(cfg.side, cfg.side)
        recovered = remove_unobservable(raw, signal.image, kind)
        run.save_file(f"recovered_{key}.npy", lambda fh: np.save(fh, recovered))
        return {
            **field_psnrs(fields, signal),
            "psnr_image": psnr(torch.as_tensor(recovered), torch.as_tensor(signal.image), 2.0),
            "psnr_image_raw": psnr(torch.as_tensor(raw), torch.as_tensor(signal.image), 2.0),
            "highpass_correlation": highpass_correlation(recovered, signal.image, cfg.highpass_sigma),
            "curve": psnr_curve(history, f"psnr_{kind}"),
        }

    for i, (method, kind) in enumerate(arms):
        key = f"{method}-{kind}"
        run.piece(key, lambda: fit_arm(i, method, kind, key))
    plot_recoveries(run, signal, [f"{m}-{k}" for m, k in arms])
    return {"arms": {f"{m}-{k}": run.partial[f"{m}-{k}"] for m, k in arms},
            "psnr_mean_predictor": 10 * np.log10(4.0 / mean_predictor), "side": cfg.side, "steps": cfg.steps}


def plot_recoveries(run, signal: ImageSignal, keys) -> None:
    fig, axes = new_figure(1, len(keys) + 1, size=(2.6 * (len(keys) + 1), 2.9))
    axes = np.atleast_1d(axes).ravel()
    axes[0].imshow(signal.image, cmap="gray", vmin=-1, vmax=1)
    axes[0].set_title("ground truth")
    for ax, key in zip(axes[1:], keys):
        ax.imshow(np.load(run.file(f"recovered_{key}.npy")), cmap="gray", vmin=-1, vmax=1)
        ax.set_title(f"{key}\n{run.partial[key]['psnr_image']:.1f} dB", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    run.save_figure(fig, "recovered_images")


# -- 3. gradient-domain blending ----------------------------------------------------------------------
@dataclass
class PoissonBlendConfig(NetworkConfig):
    """Fig. 5: fit a SIREN to the composite gradient 0.5 grad(a) + 0.5 grad(b) of two images
    (the authors' `CompositeGradients` weights), notebook resolution 128^2."""
    _constraints = {"side": Interval(2, 4096, why="4096^2 pixels, each a coordinate through every layer"), "steps": Interval(1), "lr": LEARNING_RATE, "log_every": Interval(1),
                    "images": IMAGE,
                    "weights": Check(lambda w, c: len(w) == len(c.images) >= 2, "one weight per image (>= 2 images)",
                                     whole=True)}

    images: tuple[str, ...] = ("camera", "astronaut")  # the images blended (bundled names or files)
    weights: tuple[float, ...] = (0.5, 0.5)  # weight of each image's gradient
    side: int = 128                 # pixels per side (centre-cropped, resized)
    steps: int = 10_000             # Adam steps per network
    lr: float = 1e-4                # Adam learning rate
    batch_size: int = 0             # 0 = full batch; otherwise random coordinates per step
    log_every: int = 10             # steps between records in metrics.jsonl
    checkpoint_every: int = 1000    # steps between checkpoints (resume points)


def poisson_blend(run, cfg: PoissonBlendConfig) -> dict:
    images = [load_image(name, cfg.side) for name in cfg.images]
    # gradients are linear, so the composite field is the gradient of the weighted sum: that sum (up to a
    # constant) is the exact answer the fit is compared with
    reference = sum(w * im for w, im in zip(cfg.weights, images))
    signal = ImageSignal.from_array(reference, run.device)
    def fit_siren() -> dict:
        model = make_network("siren", cfg, 2, 1, cfg.side, run.device)
        objective = supervision_objective(signal.coords, signal.gradient, "gradient", cfg.batch_size, seed=run.seed)
        history = fit(model, objective, cfg.steps, cfg.lr, run, tag="siren", log_every=cfg.log_every,
                      checkpoint_every=cfg.checkpoint_every)
        fields = evaluate_fields(model, signal.coords, order=1)
        blended = remove_unobservable(fields["value"].numpy().reshape(cfg.side, cfg.side), reference, "gradient")
        run.save_file("blended.npy", lambda fh: np.save(fh, blended))
        return {
            "psnr_gradient": psnr(fields["gradient"], signal.gradient),
            "psnr_image_vs_weighted_sum": psnr(torch.as_tensor(blended), torch.as_tensor(reference), 2.0),
            "curve": psnr_curve(history, "psnr_gradient"),
        }

    fitted = run.piece("siren", fit_siren)
    blended = np.load(run.file("blended.npy"))
    fig, axes = new_figure(1, len(images) + 1, size=(3.0 * (len(images) + 1), 3.2))
    axes = axes.ravel()
    for ax, name, im in zip(axes, cfg.images, images):
        ax.imshow(im, cmap="gray", vmin=-1, vmax=1)
        ax.set_title(name)
    axes[-1].imshow(blended, cmap="gray")
    axes[-1].set_title(f"SIREN fit to composite gradient\n{fitted['psnr_gradient']:.1f} dB (gradient)",
                       fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    run.save_figure(fig, "poisson_blend")
    return {**fitted, "images": list(cfg.images), "side": cfg.side, "steps": cfg.steps}
