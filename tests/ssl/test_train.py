import pytest
import torch

from paperlab.ssl.train import (
    Checkpointer, PretrainSettings, classifier_accuracy, extract_features, knn_accuracy, linear_probe,
    pretrain_simclr,
)


def _clusters(n_per_class=30, dim=6):
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(3, dim, generator=g) * 4
    x = torch.cat([c + torch.randn(2 * n_per_class, dim, generator=g) for c in centres])
    y = torch.arange(3).repeat_interleave(2 * n_per_class)
    train = torch.arange(len(x)) % 2 == 0
    return x[train], y[train], x[~train], y[~train]


def test_knn_and_linear_probe_separate_clusters():
    xtr, ytr, xte, yte = _clusters()
    assert knn_accuracy(xtr, ytr, xte, yte, k=10, temperature=0.1) > 0.9
    assert linear_probe(xtr, ytr, xte, yte) > 0.9


def test_knn_weighting_by_hand():
    bank = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    query = torch.tensor([[0.2, 1.0]])
    # k=3: two far class-0 votes vs one near class-1 vote; temperature decides
    assert knn_accuracy(bank, labels, query, torch.tensor([1]), k=3, temperature=0.1) == 1.0
    assert knn_accuracy(bank, labels, query, torch.tensor([0]), k=3, temperature=100.0) == 1.0


def _settings(steps):
    return PretrainSettings(encoder="small_cnn", width=4, head_hidden=16, head_out=8, batch_size=8, steps=steps,
                            temperature=0.5, optimizer="lars", lr=0.3, weight_decay=1e-6, warmup_fraction=0.25,
                            crop_min_scale=0.2, jitter_strength=0.5, blur_p=0.0, checkpoint_every=2)


def test_pretrain_resume_matches_uninterrupted_run():
    images = torch.randint(0, 256, (20, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    full, _ = pretrain_simclr(images, _settings(4), seed=0)

    store = {}
    saver = Checkpointer(lambda state, name: store.__setitem__(name, {k: (v.clone() if torch.is_tensor(v) else v)
                                                                       for k, v in state.items()}),
                         lambda name: store.get(name))
    pretrain_simclr(images, _settings(4), seed=0, checkpoints=Checkpointer(
        saver.save_fn, lambda name: None), progress=lambda it, **kw: list(it)[:2])   # "crash" after 2 steps
    assert store["pretrain"]["step"] == 2
    resumed, _ = pretrain_simclr(images, _settings(4), seed=0, checkpoints=saver)
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_features_and_accuracy_helpers():
    images = torch.randint(0, 256, (12, 1, 28, 28), dtype=torch.uint8)
    encoder, normalize = pretrain_simclr(images, _settings(1), seed=0)
    feats = extract_features(encoder, normalize, images, batch_size=5)
    assert feats.shape == (12, encoder.feature_dim)
    model = torch.nn.Sequential(encoder, torch.nn.Linear(encoder.feature_dim, 2))
    acc = classifier_accuracy(model, normalize, images, torch.zeros(12, dtype=torch.long))
    assert 0.0 <= acc <= 1.0
    with pytest.raises(ValueError, match="uint8"):
        pretrain_simclr(images.float(), _settings(1), seed=0)
