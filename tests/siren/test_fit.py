"""A 32^2 image fit with the shared training loop reaches a PSNR threshold; the baselines do not."""

import torch

from paperlab.siren.images import ImageSignal
from paperlab.siren.models import build_model
from paperlab.siren.training import evaluate_fields, fit, psnr, supervision_objective


def _fit(method: str, kind: str = "value", steps: int = 150, seed: int = 0):
    torch.manual_seed(seed)
    signal = ImageSignal.load("camera", 32)
    model = build_model(method, 2, 1, hidden_features=128, hidden_layers=3, samples_per_axis=32, rbf_centres=64)
    history = fit(model, supervision_objective(signal.coords, signal.target(kind), kind), steps, lr=1e-4)
    return signal, model, history


def test_siren_fits_a_32px_image_and_beats_relu():
    signal, siren, history = _fit("siren")
    siren_psnr = psnr(evaluate_fields(siren, signal.coords, order=0)["value"], signal.value, 2.0)
    assert siren_psnr > 30.0
    assert history[-1]["psnr_value"] > history[0]["psnr_value"] + 15
    assert all(r["step_seconds"] > 0 for r in history)
    _, relu, _ = _fit("relu")
    relu_psnr = psnr(evaluate_fields(relu, signal.coords, order=0)["value"], signal.value, 2.0)
    assert siren_psnr > relu_psnr + 8.0


def test_gradient_supervision_recovers_the_image_up_to_a_constant():
    signal, siren, _ = _fit("siren", kind="gradient", steps=150)
    value = evaluate_fields(siren, signal.coords, order=0)["value"]
    shifted = value + (signal.value - value).mean()
    assert psnr(shifted, signal.value, 2.0) > 20.0


def test_random_coordinate_batches_train():
    torch.manual_seed(0)
    signal = ImageSignal.load("camera", 32)
    model = build_model("siren", 2, 1, hidden_features=64, hidden_layers=2)
    history = fit(model, supervision_objective(signal.coords, signal.value, "value", batch_size=256, seed=0), 60, lr=1e-4)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
