"""Meta-training bookkeeping: checkpoints resume exactly, evaluation accumulates context per trajectory."""

import numpy as np
import torch

from paperlab.rl.pearl.config import PEARLConfig
from paperlab.rl.pearl.trainer import PEARLTrainer

SMALL = dict(task="sparse-point-robot", preset="cpu", n_train_tasks=4, n_test_tasks=3, num_tasks_sample=2,
             num_iterations=3, num_initial_steps=20, num_steps_prior=20, num_steps_posterior=40,
             num_extra_rl_steps_posterior=20, num_train_steps_per_itr=3, hidden=(8,), encoder_hidden=(8,),
             meta_batch=2, batch_size=8, embedding_batch_size=8)


def _losses_after(trainer, n):
    for _ in range(n):
        trainer.train_iteration()
    return trainer.last_losses


def test_checkpoint_resume_continues_exactly():
    torch.manual_seed(0)
    straight = PEARLTrainer(PEARLConfig(**SMALL), seed=3)
    expected = _losses_after(straight, 3)
    torch.manual_seed(0)
    first = PEARLTrainer(PEARLConfig(**SMALL), seed=3)
    _losses_after(first, 1)
    state = first.state_dict()
    resumed = PEARLTrainer(PEARLConfig(**SMALL), seed=99)   # a different seed: everything comes from the state
    resumed.load_state_dict(state)
    assert _losses_after(resumed, 2) == expected
    assert resumed.env_steps == straight.env_steps


def test_evaluation_reports_every_trajectory_and_counts_no_training_steps():
    torch.manual_seed(0)
    tr = PEARLTrainer(PEARLConfig(**SMALL, eval_trajs=4), seed=0)
    tr.train_iteration()
    steps = tr.env_steps
    ev = tr.evaluate()
    assert ev["returns"].shape == (3, 4) and ev["success"].shape == (3, 4)
    assert tr.env_steps == steps
    # sparse task: returns are sums of sparse rewards, which are 0 or in (0.8, 1] per step
    assert np.all(ev["returns"] >= 0) and np.all(ev["returns"] <= tr.horizon)
    assert np.all((ev["returns"] > 0) == ev["success"])
