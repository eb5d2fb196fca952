"""The KL bottleneck keeps the authors' effective weight whatever the meta-batch (defect 2 of issue 12)."""

import pytest
import torch

from paperlab.rl.pearl.agent import LearnerSettings, PEARLLearner
from paperlab.rl.pearl.config import PEARLConfig, resolve
from paperlab.rl.pearl.trainer import PEARLTrainer


def test_kl_weight_scales_with_the_authors_meta_batch():
    authors = resolve(PEARLConfig(task="sparse-point-robot"))
    assert authors.meta_batch == 16 and authors.kl_weight == pytest.approx(authors.kl_lambda)
    cpu = resolve(PEARLConfig(task="sparse-point-robot", preset="cpu"))
    assert cpu.meta_batch == 4 and cpu.kl_weight == pytest.approx(1.0 * 16 / 4)
    assert cpu.embedding_batch_size == 1024  # the authors' context batch on the sparse task
    assert resolve(PEARLConfig(task="cheetah-dir", preset="cpu", meta_batch=2, num_tasks_sample=2)).kl_weight == pytest.approx(0.1 * 4 / 2)
    assert resolve(PEARLConfig(task="point-robot", preset="cpu", kl_weight=0.3)).kl_weight == 0.3
    tiny = dict(task="point-robot", preset="cpu", n_train_tasks=4, n_test_tasks=1, num_tasks_sample=2,
                hidden=(8,), encoder_hidden=(8,))
    assert PEARLTrainer(PEARLConfig(**tiny)).learner.s.kl_lambda == pytest.approx(0.1 * 16 / 4)


def _encoder_gradient(T, kl_weight):
    """Encoder gradient of Bellman + weight * summed KL on T copies of one task's batch and context."""
    torch.manual_seed(0)
    learner = PEARLLearner(3, 2, 6, LearnerSettings(hidden=(16,), encoder_hidden=(8,), kl_lambda=kl_weight))
    g = torch.Generator().manual_seed(1)
    one = {"obs": torch.randn(1, 8, 3, generator=g), "actions": torch.rand(1, 8, 2, generator=g) * 2 - 1,
           "rewards": torch.randn(1, 8, 1, generator=g), "next_obs": torch.randn(1, 8, 3, generator=g),
           "terminals": torch.zeros(1, 8, 1)}
    context = torch.randn(1, 5, 6, generator=g)
    noise = learner.make_noise(1, 8, generator=g)
    rep = lambda x: x.expand(T, *x.shape[1:]).contiguous()  # noqa: E731
    terms = learner.critic_losses({k: rep(v) for k, v in one.items()}, rep(context),
                                  {k: rep(v) for k, v in noise.items()})
    loss = terms["qf_loss"] + learner.s.kl_lambda * terms["kl"]
    return torch.cat([x.reshape(-1) for x in torch.autograd.grad(loss, list(learner.encoder.parameters()))])


def test_effective_bottleneck_is_independent_of_the_meta_batch():
    beta = 1.0
    authors = _encoder_gradient(16, resolve(PEARLConfig(task="sparse-point-robot", kl_lambda=beta)).kl_weight)
    small_mb = resolve(PEARLConfig(task="sparse-point-robot", preset="cpu", kl_lambda=beta, meta_batch=4))
    torch.testing.assert_close(_encoder_gradient(4, small_mb.kl_weight), authors, rtol=1e-5, atol=1e-6)
    # with the unscaled beta the bottleneck would be 4x weaker and the gradient differs
    assert not torch.allclose(_encoder_gradient(4, beta), authors, rtol=1e-3, atol=1e-5)
