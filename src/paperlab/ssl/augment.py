"""SimCLR augmentations on batched tensors, on the model's device (kornia + torch ops).

The pipeline of SimCLR (Chen et al. 2020, Appendix A): random resized crop (scale 0.08-1, ratio
3/4-4/3) -> horizontal flip (p=0.5) -> colour jitter (brightness/contrast/saturation 0.8s, hue 0.2s,
applied with p=0.8) -> grayscale (p=0.2) -> optional Gaussian blur. CIFAR settings: s=0.5, no blur.
Grayscale-aware: for 1-channel images saturation, hue and grayscale are skipped.

Parameters are sampled first (``sample_params``, from a seeded ``torch.Generator``) and then
applied to the whole batch at once (``apply_augment``). ``apply_augment_per_sample`` applies the
same parameters image by image in a Python loop, like a DataLoader's per-sample transforms: the
benchmark's reference, and a check that batching changes nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import kornia
import torch


@dataclass(frozen=True)
class AugmentConfig:
    size: int = 32
    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter_strength: float = 0.5      # s; SimCLR CIFAR setting (ImageNet uses 1.0)
    jitter_p: float = 0.8
    grayscale_p: float = 0.2
    blur_p: float = 0.0               # CIFAR: no blur (ImageNet: 0.5, sigma 0.1-2.0)
    blur_sigma: tuple[float, float] = (0.1, 2.0)


def weak_augment_config(size: int) -> AugmentConfig:
    """Crop + flip only: the augmentation of the supervised baseline and of fine-tuning."""
    return AugmentConfig(size=size, crop_scale=(0.5, 1.0), jitter_p=0.0, grayscale_p=0.0, blur_p=0.0)


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def sample_params(n: int, height: int, width: int, channels: int, cfg: AugmentConfig,
                  generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Draw every random choice of the pipeline for n images (CPU tensors)."""
    area = height * width
    scale = _uniform(n, *cfg.crop_scale, generator) * area
    log_ratio = _uniform(n, math.log(cfg.crop_ratio[0]), math.log(cfg.crop_ratio[1]), generator)
    ratio = torch.exp(log_ratio)
    crop_w = torch.sqrt(scale * ratio).clamp(1, width)
    crop_h = torch.sqrt(scale / ratio).clamp(1, height)
    x0 = torch.rand(n, generator=generator) * (width - crop_w)
    y0 = torch.rand(n, generator=generator) * (height - crop_h)
    s = cfg.jitter_strength
    params = {
        "box": torch.stack([x0, y0, crop_w, crop_h], dim=1),
        "flip": torch.rand(n, generator=generator) < cfg.flip_p,
        "jitter": torch.rand(n, generator=generator) < cfg.jitter_p,
        "brightness": _uniform(n, max(0.0, 1 - 0.8 * s), 1 + 0.8 * s, generator),
        "contrast": _uniform(n, max(0.0, 1 - 0.8 * s), 1 + 0.8 * s, generator),
        "saturation": _uniform(n, max(0.0, 1 - 0.8 * s), 1 + 0.8 * s, generator),
        "hue": _uniform(n, -0.2 * s, 0.2 * s, generator),
        "gray": (torch.rand(n, generator=generator) < cfg.grayscale_p) & (channels == 3),
        "blur": torch.rand(n, generator=generator) < cfg.blur_p,
        "sigma": _uniform(n, *cfg.blur_sigma, generator),
    }
    return params


def _select(mask: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, 1, 1, 1), new, old)


def _luminance(x: torch.Tensor) -> torch.Tensor:
    return x if x.shape[1] == 1 else kornia.color.rgb_to_grayscale(x)


def apply_augment(x: torch.Tensor, params: dict[str, torch.Tensor], cfg: AugmentConfig) -> torch.Tensor:
    """Apply sampled parameters to a float batch x (B, C, H, W) in [0, 1]; returns (B, C, size, size)."""
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"augment expects (B, 1 or 3, H, W) float images, got {tuple(x.shape)}")
    p = {k: v.to(x.device) for k, v in params.items()}
    x0, y0, w, h = p["box"].unbind(1)
    corners = torch.stack([torch.stack([x0, y0], 1), torch.stack([x0 + w - 1, y0], 1),
                           torch.stack([x0 + w - 1, y0 + h - 1], 1), torch.stack([x0, y0 + h - 1], 1)], dim=1)
    out = kornia.geometry.transform.crop_and_resize(x, corners.to(x.dtype), (cfg.size, cfg.size),
                                                    mode="bilinear", align_corners=True)
    out = _select(p["flip"], out.flip(-1), out)
    if bool(p["jitter"].any()):
        jittered = (out * p["brightness"].view(-1, 1, 1, 1)).clamp(0, 1)
        mean = _luminance(jittered).mean(dim=(1, 2, 3), keepdim=True)
        jittered = ((jittered - mean) * p["contrast"].view(-1, 1, 1, 1) + mean).clamp(0, 1)
        if x.shape[1] == 3:
            gray = kornia.color.rgb_to_grayscale(jittered)
            jittered = ((jittered - gray) * p["saturation"].view(-1, 1, 1, 1) + gray).clamp(0, 1)
            jittered = kornia.enhance.adjust_hue(jittered, p["hue"] * 2 * math.pi).clamp(0, 1)
        out = _select(p["jitter"], jittered, out)
    if x.shape[1] == 3 and bool(p["gray"].any()):
        out = _select(p["gray"], kornia.color.rgb_to_grayscale(out).expand_as(out), out)
    if bool(p["blur"].any()):
        kernel = 2 * (cfg.size // 20) + 1                    # ~10% of the side, odd (SimCLR)
        sigma = p["sigma"].to(x.dtype).unsqueeze(1).repeat(1, 2)
        blurred = kornia.filters.gaussian_blur2d(out, (kernel, kernel), sigma)
        out = _select(p["blur"], blurred, out)
    return out


def apply_augment_per_sample(x: torch.Tensor, params: dict[str, torch.Tensor], cfg: AugmentConfig) -> torch.Tensor:
    """Reference: the same augmentation, one image at a time in a Python loop."""
    return torch.cat([apply_augment(x[i:i + 1], {k: v[i:i + 1] for k, v in params.items()}, cfg)
                      for i in range(x.shape[0])])


class BatchAugment:
    """Draws parameters from its own seeded generator and augments whole batches on x's device."""

    def __init__(self, cfg: AugmentConfig, seed: int = 0):
        self.cfg = cfg
        self.generator = torch.Generator().manual_seed(seed)

    def params(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        b, c, h, w = x.shape
        return sample_params(b, h, w, c, self.cfg, self.generator)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return apply_augment(x, self.params(x), self.cfg)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
