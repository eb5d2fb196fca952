"""BEAR (Kumar et al. 2019): offline RL with a sampled-MMD support constraint, its baselines and datasets."""
