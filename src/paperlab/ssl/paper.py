"""Cole et al., "When Does Contrastive Visual Representation Learning Work?" (CVPR 2022) on
Fashion-MNIST: the paper, from its experiments, claims and plots."""
from __future__ import annotations

import torch
from torch import nn

from paperlab.core.experiment import Paper
from paperlab.ssl.claims import CLAIMS
from paperlab.ssl.experiments import EXPERIMENTS
from paperlab.ssl.models import build_encoder
from paperlab.ssl.plots import summary_plots
from paperlab.ssl.train import Normalizer, to_unit


class ImageEncoder(nn.Module):
    """A pre-trained SimCLR encoder f with its input standardisation: ``encoder(images)`` maps uint8 images
    [N, 1, 28, 28] (as Fashion-MNIST stores them) to the features h = f(x) the linear probe and kNN read."""

    def __init__(self, encoder: nn.Module, normalize: Normalizer):
        super().__init__()
        self.encoder, self.normalize = encoder, normalize

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = torch.as_tensor(images, device=self.normalize.mean.device)
        if images.dtype != torch.uint8:   # the standardisation was fitted on pixel values 0..255
            raise ValueError(f"images must be uint8 [N, 1, 28, 28] (pixel values 0..255), got {images.dtype}")
        return self.encoder(self.normalize(to_unit(images)))


def restore_encoder(spec: dict, state: dict, device: str) -> ImageEncoder:
    encoder = build_encoder(spec["encoder"], spec["in_channels"], spec["width"])
    encoder.load_state_dict(state["encoder"])
    return ImageEncoder(encoder, Normalizer(state["mean"], state["std"])).to(device).eval()


PAPER = Paper(
    name="ssl",
    title="When Does Contrastive Visual Representation Learning Work? (Cole et al., CVPR 2022)",
    experiments=EXPERIMENTS,
    claims=CLAIMS,
    summary_plots=summary_plots,
    models={"encoder": restore_encoder},
)
