"""Encoders and the SimCLR projection head.

* ``SmallCNN``: a 3-block conv net for CPU-scale runs on 28x28 / 32x32 images.
* ``ResNet`` with the CIFAR stem (3x3 conv, stride 1, no max-pool; SimCLR Appendix B.9), BasicBlock
  (ResNet-18) or Bottleneck (ResNet-50) blocks, and a width multiplier on the base width 64.
* ``ProjectionHead``: SimCLR's MLP g(h) = W2 ReLU(BN(W1 h)) (Sec. 2.1); evaluation uses h.
"""
from __future__ import annotations

import torch
from torch import nn

from paperlab.core.constraints import check_shape
from paperlab.core.linear import Linear


class SmallCNN(nn.Module):
    """conv-BN-ReLU blocks at widths w, 2w, 4w with 2x2 max-pooling, then global average pooling."""

    def __init__(self, in_channels: int = 1, width: int = 32):
        super().__init__()
        layers, channels = [], in_channels
        for i, out in enumerate((width, 2 * width, 4 * width)):
            layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            if i < 2:
                layers.append(nn.MaxPool2d(2))
            channels = out
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.feature_dim = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_shape(x, ("N", self.features[0].in_channels, "H", "W"), "images", "SmallCNN")
        return self.features(x)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(inplace=True),
            nn.Conv2d(planes, planes, 3, 1, 1, bias=False), nn.BatchNorm2d(planes),
        )
        self.shortcut = _shortcut(in_planes, planes * self.expansion, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(in_planes, planes, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(inplace=True),
            nn.Conv2d(planes, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(inplace=True),
            nn.Conv2d(planes, out, 1, bias=False), nn.BatchNorm2d(out),
        )
        self.shortcut = _shortcut(in_planes, out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def _shortcut(in_planes: int, out_planes: int, stride: int) -> nn.Module:
    if stride == 1 and in_planes == out_planes:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride, bias=False), nn.BatchNorm2d(out_planes))


class ResNet(nn.Module):
    """ResNet with the CIFAR stem; ``width`` multiplies the stage widths 64/128/256/512."""

    def __init__(self, block: type[nn.Module], blocks: tuple[int, ...], in_channels: int = 3, width: float = 1.0):
        super().__init__()
        base = max(1, int(round(64 * width)))
        self.stem = nn.Sequential(nn.Conv2d(in_channels, base, 3, 1, 1, bias=False), nn.BatchNorm2d(base),
                                  nn.ReLU(inplace=True))
        stages, in_planes = [], base
        for i, n in enumerate(blocks):
            planes = base * 2 ** i
            for j in range(n):
                stages.append(block(in_planes, planes, stride=2 if (i > 0 and j == 0) else 1))
                in_planes = planes * block.expansion
        self.stages = nn.Sequential(*stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.feature_dim = in_planes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_shape(x, ("N", self.stem[0].in_channels, "H", "W"), "images", "ResNet")
        return self.pool(self.stages(self.stem(x)))


def resnet18(in_channels: int = 3, width: float = 1.0) -> ResNet:
    return ResNet(BasicBlock, (2, 2, 2, 2), in_channels, width)


def resnet50(in_channels: int = 3, width: float = 1.0) -> ResNet:
    return ResNet(Bottleneck, (3, 4, 6, 3), in_channels, width)


ENCODERS = {"small_cnn": None, "resnet18": resnet18, "resnet50": resnet50}


def build_encoder(name: str, in_channels: int, width: float) -> nn.Module:
    """``small_cnn`` (width = channels of the first block, e.g. 32) or ``resnet18``/``resnet50``
    (width = multiplier of the base 64 channels, e.g. 1.0)."""
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; valid: {', '.join(ENCODERS)}")
    if name == "small_cnn":
        return SmallCNN(in_channels, int(width))
    return ENCODERS[name](in_channels, float(width))


class ProjectionHead(nn.Module):
    """SimCLR projection head: Linear -> BN -> ReLU -> Linear (lightly's SimCLRProjectionHead)."""

    def __init__(self, in_dim: int, hidden_dim: int = 2048, out_dim: int = 128):
        super().__init__()
        # Linear: paperlab.core.linear's oneDNN fp32 backend (the convolutions already run on oneDNN)
        self.net = nn.Sequential(Linear(in_dim, hidden_dim, bias=False), nn.BatchNorm1d(hidden_dim),
                                 nn.ReLU(inplace=True), Linear(hidden_dim, out_dim))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


class SimCLR(nn.Module):
    """Encoder f and projection head g; ``forward`` returns z = g(f(x))."""

    def __init__(self, encoder: nn.Module, hidden_dim: int = 2048, out_dim: int = 128):
        super().__init__()
        self.encoder = encoder
        self.head = ProjectionHead(encoder.feature_dim, hidden_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = next(m for m in self.encoder.modules() if isinstance(m, nn.Conv2d))
        check_shape(x, ("N", first.in_channels, "H", "W"), "images", "SimCLR")
        return self.head(self.encoder(x))
