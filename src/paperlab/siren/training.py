"""The one training loop every SIREN experiment uses, and the metrics it logs."""

from __future__ import annotations

import math
import time
from typing import Callable

import torch
from torch import nn

from paperlab.core.precision import autocast

# objective(model, step) -> (loss, metrics to log)
Objective = Callable[[nn.Module, int], tuple[torch.Tensor, dict[str, float]]]


def psnr(prediction: torch.Tensor, target: torch.Tensor, data_range: float | None = None) -> float:
    """10 log10(range^2 / MSE); the range defaults to the target's peak-to-peak (2 for images in [-1, 1])."""
    target = target.detach()
    mse = float(torch.mean((prediction.detach().to(target.device) - target) ** 2))
    if data_range is None:
        data_range = float(target.max() - target.min())
    if mse == 0.0:
        return float("inf")
    return 10.0 * math.log10(data_range ** 2 / mse)


def psnr_from_mse(mse: float, data_range: float = 2.0) -> float:
    return float("inf") if mse <= 0 else 10.0 * math.log10(data_range ** 2 / mse)


def fit(model: nn.Module, objective: Objective, steps: int, lr: float = 1e-4, run=None, tag: str = "",
        log_every: int = 1, checkpoint_every: int = 0, progress_desc: str | None = None,
        clip_grad_norm: float = 0.0) -> list[dict]:
    """Adam on `objective` for `steps` steps (Sec. 4: Adam, lr 1e-4 by default). With `clip_grad_norm` > 0
    the parameters' gradient is clipped to that global norm before each step (the authors' `clip_grad=True`
    in their SDF script: max norm 1). Logs loss, the
    objective's metrics and the step time (seconds) through `run.log` every `log_every` steps.

    With a `run` and `checkpoint_every > 0`, model and optimiser are saved under the checkpoint name
    `tag` every `checkpoint_every` steps and restored on resume, with the history so far and every RNG
    state (including the `objective.generators` of a random-batch objective), so a resumed fit gives the
    same numbers as an uninterrupted one. Returns the logged records.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if lr <= 0:
        raise ValueError(f"lr must be positive, got {lr}")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = 0
    history: list[dict] = []
    generators = getattr(objective, "generators", None)  # the objective's own samplers, checkpointed too
    if run is not None and checkpoint_every > 0:
        state = run.load_checkpoint(tag or "fit", generators=generators)
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            start, history = int(state["step"]), list(state["history"])
    steps_iter = range(start, steps)
    if run is not None:
        steps_iter = run.progress(steps_iter, desc=progress_desc or tag)
    device = next(model.parameters()).device
    for step in steps_iter:
        begin = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with autocast(device):   # --precision bf16-mixed: matmuls in bf16, the first layer and the loss in fp32
            loss, metrics = objective(model, step)
        loss = loss.float()
        loss.backward()
        if clip_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip_grad_norm)
        optimizer.step()
        seconds = time.perf_counter() - begin
        if step % log_every == 0 or step == steps - 1:
            record = {"method": tag, "step": step, "loss": float(loss.detach()), "step_seconds": seconds, **metrics}
            history.append(record)
            if run is not None:
                run.log(**record)
        if run is not None and checkpoint_every > 0 and (step + 1) % checkpoint_every == 0 and step + 1 < steps:
            run.save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step + 1,
                                 "history": history}, tag or "fit", generators=generators)
    return history


ORDERS = {"value": 0, "gradient": 1, "laplacian": 2}


def supervision_objective(coords: torch.Tensor, target: torch.Tensor, kind: str = "value", batch_size: int = 0,
                          seed: int = 0) -> Objective:
    """MSE between the model's `kind` ("value" [N, C], "gradient" [N, C, d] or "laplacian" [N, C]) and
    `target` at `coords`; full batch when batch_size is 0 (or >= N), otherwise random coordinates each step.
    Logs the PSNR of that quantity (range = the full target's peak-to-peak)."""
    from paperlab.siren.derivatives import model_derivatives

    if kind not in ORDERS:
        raise ValueError(f"kind must be one of {', '.join(ORDERS)}, got {kind!r}")
    if target.shape[0] != coords.shape[0]:
        raise ValueError(f"target has {target.shape[0]} rows but coords has {coords.shape[0]}")
    if batch_size < 0:
        raise ValueError(f"batch_size must be >= 0, got {batch_size}")
    data_range = float(target.max() - target.min()) or 1.0
    generator = torch.Generator().manual_seed(seed)
    full = batch_size == 0 or batch_size >= coords.shape[0]

    def objective(model: nn.Module, step: int):
        if full:
            c, t = coords, target
        else:
            idx = torch.randint(coords.shape[0], (batch_size,), generator=generator).to(coords.device)
            c, t = coords[idx], target[idx]
        prediction = model_derivatives(model, c, ORDERS[kind])[kind]
        mse = torch.mean((prediction - t) ** 2)
        return mse, {f"psnr_{kind}": psnr_from_mse(float(mse.detach()), data_range)}

    objective.generators = {"coordinates": generator}
    return objective


def evaluate_fields(model: nn.Module, coords: torch.Tensor, order: int = 2, chunk: int = 16384) -> dict[str, torch.Tensor]:
    """The model's value / gradient / Laplacian at every coordinate, in chunks, detached (on the CPU)."""
    from paperlab.siren.derivatives import model_derivatives

    pieces: dict[str, list[torch.Tensor]] = {}
    with torch.enable_grad():
        for start in range(0, coords.shape[0], chunk):
            out = model_derivatives(model, coords[start:start + chunk], order, create_graph=False)
            for key, value in out.items():
                pieces.setdefault(key, []).append(value.detach().cpu())
    return {key: torch.cat(values) for key, values in pieces.items()}
