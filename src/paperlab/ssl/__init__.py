"""SimCLR from small parts and the study grid of Cole et al. (CVPR 2022) on offline data."""
from paperlab.ssl.augment import AugmentConfig, BatchAugment, apply_augment, apply_augment_per_sample, sample_params
from paperlab.ssl.losses import nt_xent_loss
from paperlab.ssl.models import ProjectionHead, SimCLR, SmallCNN, build_encoder, resnet18, resnet50
from paperlab.ssl.optim import LARS, build_optimizer, warmup_cosine

__all__ = ["AugmentConfig", "BatchAugment", "LARS", "ProjectionHead", "SimCLR", "SmallCNN", "apply_augment",
           "apply_augment_per_sample", "build_encoder", "build_optimizer", "nt_xent_loss", "resnet18", "resnet50",
           "sample_params", "warmup_cosine"]
