import math

import pytest
import torch

from paperlab.ssl.models import build_encoder
from paperlab.ssl.train import (
    Checkpointer, ClassifierSettings, Normalizer, PretrainSettings, channel_stats, classifier_accuracy,
    extract_features, knn_accuracy, knn_k_for_bank, linear_probe, pixel_features, pretrain_simclr,
    recompute_bn_stats, train_classifier,
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


def test_linear_probe_does_not_depend_on_the_global_rng_state():
    """Its accuracy must not change with what ran before it (e.g. whether an encoder came from the cache or
    was trained, which leaves the global RNG in another state): the probe starts from zero, not at random.
    Few L-BFGS iterations on overlapping classes, where a random start changed the answer before the fix."""
    g = torch.Generator().manual_seed(1)
    xtr, xte = torch.randn(60, 8, generator=g), torch.randn(200, 8, generator=g)
    ytr, yte = torch.randint(0, 3, (60,), generator=g), torch.randint(0, 3, (200,), generator=g)
    accuracies = set()
    for state in range(5):
        torch.manual_seed(state)
        accuracies.add(linear_probe(xtr, ytr, xte, yte, max_iter=2))
    assert len(accuracies) == 1


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


def test_classifier_budget_follows_label_count():
    """Defect 1: epochs over the labelled set, with a floor of steps for few labels."""
    budget = ClassifierSettings(epochs=5, min_steps=300, batch_size=64, lr=1e-3, weight_decay=0.0)
    assert budget.steps_for(100) == 300                       # floor
    assert budget.steps_for(10_000) == math.ceil(5 * 10_000 / 64)
    assert budget.steps_for(60_000) == 4688               # 5 epochs, not a fraction of one
    seen = []
    images = torch.randint(0, 256, (40, 1, 28, 28), dtype=torch.uint8)
    small = ClassifierSettings(epochs=2, min_steps=3, batch_size=8, lr=1e-3, weight_decay=0.0)
    train_classifier(build_encoder("small_cnn", 1, 4), Normalizer(torch.zeros(1), torch.ones(1)), images,
                     torch.arange(40) % 2, small, seed=0, progress=lambda it, **kw: seen.extend(it) or seen)
    assert len(seen) == small.steps_for(40) == 10


def test_knn_k_follows_bank_size():
    """Defect 3: lightly's k=200 for a 50K bank, k=20 for ~10K; small banks never vote with k=200."""
    assert knn_k_for_bank(50_000) == knn_k_for_bank(60_000) == 200
    assert knn_k_for_bank(10_000) == knn_k_for_bank(5_000) == 20
    assert knn_k_for_bank(40) == 4 and knn_k_for_bank(3) == 1
    from paperlab.ssl.study import StudyConfig
    assert StudyConfig().knn_k_for(5000) == 20 and StudyConfig(knn_k=7).knn_k_for(5000) == 7
    from paperlab.core.constraints import validate_config
    for bad in (-1, 0):   # None (the default) is "by bank size"; 0 is no longer a sentinel
        with pytest.raises(ValueError, match="knn_k"):
            validate_config(StudyConfig(knn_k=bad))


def test_recompute_bn_stats_for_the_random_reference():
    """Defect 4: an untrained encoder's BN running statistics become those of the data."""
    torch.manual_seed(0)
    encoder = build_encoder("small_cnn", 1, 4)
    images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    normalize = Normalizer(*channel_stats(images))
    first_conv, first_bn = encoder.features[0], encoder.features[1]
    assert torch.equal(first_bn.running_mean, torch.zeros(4))          # the init's statistics
    with torch.no_grad():
        pre = first_conv(normalize(images.float() / 255))
    recompute_bn_stats(encoder, normalize, images, batch_size=64)
    torch.testing.assert_close(first_bn.running_mean, pre.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(first_bn.running_var, pre.var(dim=(0, 2, 3), unbiased=True), rtol=1e-4, atol=1e-6)
    assert not encoder.training and first_bn.momentum == 0.1
    feats = pixel_features(images)
    assert feats.shape == (64, 784) and 0.0 <= float(feats.min()) and float(feats.max()) <= 1.0


def test_random_init_reference_uses_recomputed_bn():
    from paperlab.ssl.study import EvalData, StudyConfig, random_init_encoder
    x = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8)
    data = EvalData(x, torch.arange(32) % 2, x[:8], torch.arange(8) % 2)
    encoder, _ = random_init_encoder(StudyConfig(encoder="small_cnn", width=4), data, seed=0, device="cpu")
    bn = encoder.features[1]
    assert int(bn.num_batches_tracked) == 1 and not torch.equal(bn.running_var, torch.ones(4))


# ---- issue 29: the convergence criterion of every classifier, in one place ------------------------------------
def test_plateau_stops_after_patience_checks_without_improvement():
    from paperlab.ssl.train import Plateau

    plateau = Plateau(patience=3, min_delta=0.01)
    curve = [0.50, 0.70, 0.80, 0.805, 0.79, 0.809, 0.81]     # rises, then improvements under min_delta
    stops = [plateau.update(acc, step) for step, acc in enumerate(curve)]
    assert stops == [False, False, False, False, False, True, True]
    assert plateau.best == 0.80 and plateau.best_step == 2
    plateau.restart()                                         # after an lr drop: wait for the next plateau
    assert not plateau.update(0.83, 7) and plateau.best_step == 7
    assert [Plateau(patience=1).update(a, 0) for a in (0.5,)] == [False]
    with pytest.raises(ValueError, match="patience"):
        Plateau(patience=0)


def test_fit_classifier_trains_to_a_validation_plateau_and_restores_the_best():
    from paperlab.ssl.train import fit_classifier

    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(64) % 2
    images = torch.randint(0, 40, (64, 1, 12, 12), dtype=torch.uint8, generator=gen)
    images[labels == 1, :, :, :4] += 200                      # a learnable stripe
    cfg = ClassifierSettings(epochs=50, min_steps=10, batch_size=16, lr=3e-3, weight_decay=0.0, patience=2,
                             eval_steps=4, lr_drops=1)
    normalize = Normalizer(*channel_stats(images))
    model, info = fit_classifier(build_encoder("small_cnn", 1, 4), normalize, images[:48], labels[:48], cfg,
                                 seed=0, validation=(images[48:], labels[48:]))
    assert info["converged"] and info["steps"] < cfg.steps_for(48)        # stopped by the plateau, not the cap
    checks = info["val_checks"]
    assert checks and all(step % cfg.eval_every(48) == 0 for step, _ in checks)
    assert info["val_best"] == max(acc for _, acc in checks)
    # the weights returned are the best check's: their validation accuracy is the best one
    assert classifier_accuracy(model, normalize, images[48:], labels[48:]) == pytest.approx(info["val_best"])
    capped = ClassifierSettings(epochs=1, min_steps=3, batch_size=16, lr=3e-3, weight_decay=0.0, patience=50)
    _, info = fit_classifier(build_encoder("small_cnn", 1, 4), normalize, images[:48], labels[:48], capped,
                             seed=0, validation=(images[48:], labels[48:]))
    assert not info["converged"] and info["steps"] == capped.steps_for(48)   # the cap came first: reported
