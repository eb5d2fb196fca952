"""The one fp32 linear-layer backend of every torch model in paperlab (RL networks and ensembles, SIREN, SSL heads).

On this project's CPU (AMD EPYC Zen 4, AVX-512 on two 256-bit FMA pipes, so an fp32 peak of ~32 FLOP/cycle,
~100 GFLOP/s per core), torch 2.13's default fp32 matmul (MKL) reaches 50-95 GFLOP/s on one thread on the
shapes of the five papers, oneDNN's fp32 kernels 90-105 (``benchmarks/linear_backend.py`` measures it side by
side). The gain is largest on widths that are not multiples of 16 (PEARL's 300-wide nets: ~1.3-1.5x per
layer, forward and dX) and small at 256; oneDNN's dW product measured slower than MKL's, so dW stays on the
default matmul; below ``MIN_MACS`` per layer oneDNN's per-call overhead loses, so small layers keep the plain
path. (2x over the default, as once reported, is above this CPU's fp32 peak; only bf16 arithmetic gets there.)

The fast path is a custom autograd function around ``torch.ops.mkldnn._linear_pointwise`` (the op torch's own
inductor emits for CPU linears) with the ReLU optionally fused into the forward. It computes in fp32 --
no ``torch.backends.mkldnn.matmul.fp32_precision = "bf16"``, whose contract allows bf16 arithmetic -- so
results equal ``torch.nn.functional.linear`` to fp32 rounding (only the summation order differs).
Backward uses the same kernel for dX, and plain differentiable ops when a graph of the gradient is
being built (``create_graph=True``, e.g. SIREN's derivative supervision of baselines), so double backward
stays exact.

The plain path (``F.linear`` / ``torch.baddbmm``) is used on CUDA, for non-fp32 tensors, where oneDNN is not
available, for small layers, by default on CPUs without AVX-512 (where oneDNN measured no faster overall:
:func:`onednn_faster_here`), and everywhere when switched off: environment variable
``PAPERLAB_ONEDNN_LINEAR=0`` (``=1`` forces it on) or :func:`set_onednn_linear` / :func:`onednn_linear`
(a context manager).
``tests/core/test_linear.py`` pins the private op's signature so a torch upgrade that changes it fails loudly.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

ENV_VAR = "PAPERLAB_ONEDNN_LINEAR"
# Below this many multiply-adds per layer (rows x in x out) oneDNN's per-call overhead exceeds what its faster
# kernel saves. Measured here (forward + backward with ReLU, one thread, CPU time): 0.5-0.9x at 1-17 M
# (256 x 256 x 256: 0.84x), 1.1-1.2x at 64-270 M, 1.5x at 4096 x 300 x 300; so small networks (BEAR's batch-256
# layers, the CPU presets) and acting on single states stay on the plain path.
# ``PAPERLAB_ONEDNN_MIN_MACS`` overrides it (0: every fp32 CPU layer, used to check results with and without).
MIN_MACS = int(os.environ.get("PAPERLAB_ONEDNN_MIN_MACS", 2 ** 25))


def onednn_faster_here() -> bool:
    """Whether oneDNN's fp32 kernels should be the default on this CPU, by its vector ISA (torch's dispatch
    level). Measured with ``benchmarks/linear_backend.py`` (one thread, forward + backward with ReLU): on AVX-512
    (AMD Zen 4) oneDNN wins on large layers (above); on AVX2 only (AMD Zen 3) the result was mixed, 0.86-1.13x
    per layer over two runs (SIREN's 65536-row layer 1.11x, PEARL's 4096 x 300 policy 1.05-1.13x, BEAR's 10-sample
    target critic 0.86-0.89x, the SSL head 0.90-0.91x;
    ``benchmarks/results/linear_backend-avx2.json``), and BEAR's authors'-size update ran ~7% faster without it
    (18.4 vs 17.2 updates/s, one measurement), so there the plain path, bit-equal to ``F.linear``, is the
    default."""
    return torch.backends.cpu.get_cpu_capability().upper().startswith("AVX512")


def _default_enabled() -> bool:
    """``PAPERLAB_ONEDNN_LINEAR`` when set (1/0), else whether oneDNN is the faster backend on this CPU."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value:
        return value not in ("0", "false", "off", "no")
    return onednn_faster_here()


_enabled = _default_enabled()


def onednn_available() -> bool:
    """Whether this torch build has oneDNN and the fused linear op the fast path calls."""
    return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def onednn_linear_enabled() -> bool:
    """Whether the oneDNN fast path is switched on (it still only runs where :func:`onednn_available`)."""
    return _enabled


def set_onednn_linear(enabled: bool) -> None:
    """Switch the oneDNN fast path on or off for the whole process (overrides ``PAPERLAB_ONEDNN_LINEAR``)."""
    global _enabled
    _enabled = bool(enabled)


@contextmanager
def onednn_linear(enabled: bool) -> Iterator[None]:
    """Run a block with the fast path switched on or off, restoring the previous setting afterwards."""
    previous = _enabled
    set_onednn_linear(enabled)
    try:
        yield
    finally:
        set_onednn_linear(previous)


def _fast(x: torch.Tensor, weight: torch.Tensor, rows: int) -> bool:
    macs = rows * weight.shape[-1] * weight.shape[-2]
    # under bf16 autocast (--precision bf16-mixed) the plain path, which autocast casts to bf16
    return (_enabled and macs >= MIN_MACS and x.device.type == "cpu" and x.dtype == torch.float32
            and weight.dtype == torch.float32 and x.layout == torch.strided and onednn_available()
            and not torch.is_autocast_enabled("cpu"))


def _mm(a: torch.Tensor, w_out_in: torch.Tensor, bias: torch.Tensor | None = None, relu: bool = False
        ) -> torch.Tensor:
    """``a @ w_out_in.T (+ bias) (relu)`` with oneDNN's fp32 kernel; ``w_out_in`` is (out, in), any strides."""
    return torch.ops.mkldnn._linear_pointwise(a, w_out_in, bias, "relu" if relu else "none", [], "")


class _OneDNNLinear(torch.autograd.Function):
    """``y = x W^T + b`` (then ReLU when ``relu``) on 2-D ``x``; ``W`` is (out, in) like ``nn.Linear``."""

    @staticmethod
    def forward(ctx, x, weight, bias, relu):
        y = _mm(x, weight, bias, relu)
        ctx.save_for_backward(x, weight, y if relu else None)
        ctx.relu, ctx.has_bias = relu, bias is not None
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, y = ctx.saved_tensors
        if ctx.relu:  # the same rule as torch.relu's backward: pass the gradient where the output is > 0
            grad = torch.ops.aten.threshold_backward(grad, y, 0)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gb = None
        if need_x:  # under create_graph=True differentiable ops, so double backward is exact
            gx = grad @ weight if torch.is_grad_enabled() else _mm(grad, weight.t())
        # dW = g^T x: torch's default matmul measured faster than oneDNN's for this transposed product
        gw = grad.t() @ x if need_w else None
        if need_b and ctx.has_bias:
            gb = grad.sum(0)
        return gx, gw, gb, None


class _OneDNNEnsembleLinear(torch.autograd.Function):
    """K members ``y[k] = x[k] W[k] + b[k]`` (then ReLU); ``W`` is (K, in, out), ``b`` (K, 1, out).

    ``x`` is (K, B, in), or (B, in) shared by every member (its gradient is then the sum over members).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, relu):
        shared = x.dim() == 2
        y = torch.stack([_mm(x if shared else x[k], weight[k].t(), bias[k, 0], relu)
                         for k in range(weight.shape[0])])
        ctx.save_for_backward(x, weight, y if relu else None)
        ctx.relu, ctx.shared = relu, shared
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, y = ctx.saved_tensors
        if ctx.relu:
            grad = torch.ops.aten.threshold_backward(grad, y, 0)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xs = x.unsqueeze(0).expand(weight.shape[0], *x.shape) if ctx.shared else x
        gx = gb = None
        if need_x:
            if torch.is_grad_enabled():
                gx = torch.bmm(grad, weight.transpose(1, 2))
            else:
                gx = torch.stack([_mm(grad[k], weight[k]) for k in range(weight.shape[0])])
        gw = torch.bmm(xs.transpose(1, 2), grad) if need_w else None   # as in _OneDNNLinear: default matmul
        if gx is not None and ctx.shared:
            gx = gx.sum(0)
        if need_b:
            gb = grad.sum(1, keepdim=True)
        return gx, gw, gb, None


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, relu: bool = False
           ) -> torch.Tensor:
    """``F.linear(x, weight, bias)`` (then ReLU when ``relu``) for any leading shape of ``x``."""
    rows = x.numel() // max(x.shape[-1], 1)
    if not _fast(x, weight, rows):
        y = F.linear(x, weight, bias)
        return torch.relu(y) if relu else y
    y = _OneDNNLinear.apply(x.reshape(rows, x.shape[-1]), weight, bias, relu)
    return y.view(*x.shape[:-1], weight.shape[0])


def ensemble_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, relu: bool = False) -> torch.Tensor:
    """K independent layers ``x[k] @ weight[k] + bias[k]`` (then ReLU): ``weight`` (K, in, out), ``bias``
    (K, 1, out), ``x`` (K, B, in) or (B, in) shared by every member; returns (K, B, out)."""
    if not _fast(x, weight, x.shape[-2]):
        xs = x.unsqueeze(0).expand(weight.shape[0], *x.shape) if x.dim() == 2 else x
        y = torch.baddbmm(bias, xs, weight)
        return torch.relu(y) if relu else y
    return _OneDNNEnsembleLinear.apply(x, weight, bias, relu)


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters, init and state-dict keys) computed by :func:`linear`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)


def sequential_forward(layers: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """Run ``layers`` in order, fusing each :class:`Linear` with a directly following ``nn.ReLU``."""
    modules = list(layers)
    i = 0
    while i < len(modules):
        module = modules[i]
        if isinstance(module, Linear) and i + 1 < len(modules) and type(modules[i + 1]) is nn.ReLU:
            x = linear(x, module.weight, module.bias, relu=True)
            i += 2
        else:
            x = module(x)
            i += 1
    return x
