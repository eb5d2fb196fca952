import math

import pytest
import torch

from paperlab.ssl.models import ProjectionHead, SimCLR, build_encoder, resnet18, resnet50
from paperlab.ssl.optim import LARS, build_optimizer, warmup_cosine


@pytest.mark.parametrize("name,width,dim", [("small_cnn", 8, 32), ("resnet18", 0.125, 64), ("resnet50", 0.125, 256)])
def test_encoders_output_features(name, width, dim):
    enc = build_encoder(name, 1, width)
    out = enc(torch.rand(2, 1, 28, 28))
    assert out.shape == (2, dim) and enc.feature_dim == dim


def test_resnet_widths_and_cifar_stem():
    r18 = resnet18(3, 1.0)
    assert r18.feature_dim == 512 and r18.stem[0].stride == (1, 1) and r18.stem[0].kernel_size == (3, 3)
    assert sum(p.numel() for p in r18.parameters()) == pytest.approx(11.17e6, rel=0.01)
    assert resnet50(3, 1.0).feature_dim == 2048
    with pytest.raises(ValueError, match="unknown encoder"):
        build_encoder("vit", 3, 1)


def test_simclr_head_shapes():
    model = SimCLR(build_encoder("small_cnn", 3, 4), hidden_dim=32, out_dim=8)
    assert model(torch.rand(5, 3, 32, 32)).shape == (5, 8)
    assert isinstance(model.head, ProjectionHead)


def test_warmup_cosine():
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.1)
    assert warmup_cosine(9, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(55, 100, 10) == pytest.approx(0.5)
    assert warmup_cosine(100, 100, 10) == pytest.approx(0.0, abs=1e-12)


def test_lars_step_matches_hand_computation():
    w = torch.nn.Parameter(torch.tensor([[3.0, 4.0]]))     # |w| = 5
    b = torch.nn.Parameter(torch.tensor([1.0]))
    opt = LARS([{"params": [w]}, {"params": [b], "lars": False, "weight_decay": 0.0}], lr=0.5,
               weight_decay=0.1, trust_coefficient=0.01)
    w.grad = torch.tensor([[0.0, 1.0]])
    b.grad = torch.tensor([2.0])
    opt.step()
    g = torch.tensor([[0.3, 1.4]])                         # grad + wd * w
    trust = 0.01 * 5.0 / float(g.norm())
    torch.testing.assert_close(w.data, torch.tensor([[3.0, 4.0]]) - 0.5 * trust * g)
    torch.testing.assert_close(b.data, torch.tensor([0.0]))  # plain SGD: 1 - 0.5 * 2


def test_build_optimizer_excludes_biases_and_norms_from_decay():
    model = SimCLR(build_encoder("small_cnn", 1, 4), 8, 4)
    for name in ("lars", "sgd", "adam"):
        opt = build_optimizer(model, name, 0.1, 1e-4)
        decays = [g["weight_decay"] for g in opt.param_groups]
        assert decays == [1e-4, 0.0]
        assert all(p.ndim <= 1 for p in opt.param_groups[1]["params"])
    with pytest.raises(ValueError, match="unknown optimizer"):
        build_optimizer(model, "rmsprop", 0.1, 0.0)
    assert math.isfinite(warmup_cosine(3, 5, 0))
