"""Library API inputs: one clear ValueError for wrong shapes, NaN observations, bad estimator parameters
and unreadable dataset files (issue 10, section 1, 'Library API')."""

import numpy as np
import pytest
import torch


def test_nmf_parameters():
    from paperlab.nmf import NMF

    X = np.random.default_rng(0).random((6, 5))
    for kwargs, needle in [(dict(solver="gd", learning_rate=float("inf")), "learning_rate"),
                           (dict(random_state="a"), "random_state"),
                           (dict(backend="torch", device="cuda:0" if not torch.cuda.is_available() else "cuda:99"),
                            "cuda"),
                           (dict(backend="torch", device="tpu"), "tpu")]:
        with pytest.raises(ValueError, match=needle):
            NMF(2, **kwargs).fit(X)


def test_siren_and_ssl_models_name_the_expected_shape():
    from paperlab.siren.models import Siren
    from paperlab.ssl.models import SimCLR, SmallCNN, build_encoder

    with pytest.raises(ValueError, match=r"Siren: coords must have shape \(\.\.\., 2\), got \(5, 3\)"):
        Siren(2, 1, 8, 1)(torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"SmallCNN: images must have shape \(N, 1, H, W\), got \(28, 28\)"):
        SmallCNN(1, 4)(torch.zeros(28, 28))
    with pytest.raises(ValueError, match=r"SimCLR: images must have shape \(N, 1, H, W\), got \(2, 3, 28, 28\)"):
        SimCLR(SmallCNN(1, 4), 8, 4)(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="ResNet"):
        build_encoder("resnet18", 1, 0.25)(torch.zeros(2, 28, 28))


def test_rl_agents_take_one_finite_observation():
    from paperlab.rl.bear.agents import BCQ, BEAR, BCConfig, BCQConfig, BEARConfig, BehaviourCloning

    agents = [BEAR(3, 2, BEARConfig(actor_hidden=(8,), critic_hidden=(8,), vae_hidden=(8,))),
              BCQ(3, 2, BCQConfig(actor_hidden=(8,), critic_hidden=(8,), vae_hidden=(8,))),
              BehaviourCloning(3, 2, BCConfig(hidden=(8,)))]
    for agent in agents:
        assert agent.act(np.zeros(3)).shape == (2,)
        with pytest.raises(ValueError, match=r"obs .*shape \(3,\), got \(4, 3\)"):
            agent.act(np.zeros((4, 3)))
        with pytest.raises(ValueError, match="NaN"):
            agent.act(np.array([0.0, np.nan, 0.0]))


def test_context_encoders_check_the_context_shape():
    from paperlab.rl.pearl.encoder import ContextEncoder, RecurrentContextEncoder

    for encoder in (ContextEncoder(7, 2, (8,)), RecurrentContextEncoder(7, 2, (8, 8))):
        mean, var = encoder(torch.zeros(2, 5, 7))
        assert mean.shape == (2, 2)
        with pytest.raises(ValueError, match=r"context must have shape \(n_tasks, n_transitions, 7\), got \(2, 5, 6\)"):
            encoder(torch.zeros(2, 5, 6))


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04truncated"])
def test_bear_load_dataset_names_an_unreadable_npz(tmp_path, content):
    from paperlab.rl.bear.datasets import load_dataset

    path = tmp_path / "d.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=str(path)):
        load_dataset(path)


def test_bear_load_dataset_names_a_truncated_real_npz(tmp_path):
    from paperlab.rl.bear.datasets import load_dataset

    path = tmp_path / "d.npz"
    np.savez(path, observations=np.zeros((10, 3)), actions=np.zeros((10, 2)))
    path.write_bytes(path.read_bytes()[:-60])
    with pytest.raises(ValueError, match=str(path)):
        load_dataset(path)
