"""Reinforcement learning papers (BEAR, PEARL) and their shared parts in :mod:`paperlab.rl.common`."""
