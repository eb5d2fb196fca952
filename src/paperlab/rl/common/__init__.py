"""Shared RL building blocks used by BEAR and PEARL.

- :mod:`~paperlab.rl.common.networks`: MLP, batched Q ensemble, tanh-Gaussian policy.
- :mod:`~paperlab.rl.common.replay`: uniform replay buffer (numpy storage, torch batches).
- :mod:`~paperlab.rl.common.optim`: fused Adam, Polyak target updates.
- :mod:`~paperlab.rl.common.sac`: Soft Actor-Critic with a learned temperature.
- :mod:`~paperlab.rl.common.envs`: gymnasium env creation, evaluation loop, episode statistics, seeding.
"""
