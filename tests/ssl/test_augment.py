import pytest
import torch

from paperlab.ssl.augment import (
    AugmentConfig, BatchAugment, apply_augment, apply_augment_per_sample, sample_params,
)


@pytest.mark.parametrize("channels,size,out", [(1, 28, 28), (3, 32, 32), (3, 32, 24)])
def test_shapes_and_range(channels, size, out):
    x = torch.rand(16, channels, size, size)
    y = BatchAugment(AugmentConfig(size=out, blur_p=0.5), seed=0)(x)
    assert y.shape == (16, channels, out, out)
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_deterministic_under_seed_and_views_differ():
    x = torch.rand(8, 3, 32, 32)
    cfg = AugmentConfig(size=32, blur_p=0.5)
    a, b = BatchAugment(cfg, seed=3), BatchAugment(cfg, seed=3)
    first = a(x)
    torch.testing.assert_close(first, b(x))
    assert not torch.allclose(first, a(x))          # the next draw (second view) differs
    assert not torch.allclose(first, BatchAugment(cfg, seed=4)(x))


def test_batched_equals_per_sample_loop():
    x = torch.rand(10, 3, 32, 32)
    cfg = AugmentConfig(size=32, blur_p=0.5)
    params = sample_params(10, 32, 32, 3, cfg, torch.Generator().manual_seed(0))
    torch.testing.assert_close(apply_augment(x, params, cfg), apply_augment_per_sample(x, params, cfg),
                               atol=1e-5, rtol=1e-5)


def test_params_follow_the_recipe():
    cfg = AugmentConfig(size=28)
    p = sample_params(4000, 28, 28, 3, cfg, torch.Generator().manual_seed(1))
    x0, y0, w, h = p["box"].unbind(1)
    assert bool((x0 >= 0).all() and (x0 + w <= 28 + 1e-4).all() and (y0 + h <= 28 + 1e-4).all())
    area = (w * h) / 28 ** 2
    assert float(area.min()) >= 0.08 - 1e-3 and float(area.max()) <= 1.0 + 1e-4
    assert abs(float(p["flip"].float().mean()) - 0.5) < 0.03
    assert abs(float(p["jitter"].float().mean()) - 0.8) < 0.03
    assert abs(float(p["gray"].float().mean()) - 0.2) < 0.03
    gray = sample_params(100, 28, 28, 1, cfg, torch.Generator().manual_seed(1))
    assert not bool(gray["gray"].any())               # grayscale-aware: no RGB->gray on 1 channel


def test_identity_when_every_op_is_off():
    x = torch.rand(4, 1, 28, 28)
    cfg = AugmentConfig(size=28, crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_p=0.0, jitter_p=0.0,
                        grayscale_p=0.0, blur_p=0.0)
    torch.testing.assert_close(BatchAugment(cfg)(x), x, atol=1e-5, rtol=1e-5)


def test_flip_only_mirrors():
    x = torch.rand(4, 1, 28, 28)
    cfg = AugmentConfig(size=28, crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_p=1.0, jitter_p=0.0,
                        grayscale_p=0.0)
    torch.testing.assert_close(BatchAugment(cfg)(x), x.flip(-1), atol=1e-5, rtol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="augment expects"):
        BatchAugment(AugmentConfig())(torch.rand(2, 2, 8, 8))
