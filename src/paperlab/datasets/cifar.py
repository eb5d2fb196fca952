"""CIFAR-10 / CIFAR-100 in the python pickle format, read from a local folder (never downloaded).

Layouts (as distributed by Krizhevsky): ``cifar-10-batches-py/{data_batch_1..5,test_batch}`` with
keys ``data`` (N x 3072 uint8, channel-major) and ``labels``; ``cifar-100-python/{train,test}`` with
``fine_labels`` (100 classes) and ``coarse_labels`` (20 superclasses). ``path`` may be the folder
itself or its parent.

The files are Python pickles: they are read only when you call ``load_cifar`` (no experiment, default or
test does), and with an unpickler that accepts NumPy arrays and plain containers only, so a crafted
file cannot run code.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from paperlab.datasets.errors import DatasetNotFoundError

CIFAR_LAYOUT = {
    "cifar10": ("cifar-10-batches-py", {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}),
    "cifar100": ("cifar-100-python", {"train": ["train"], "test": ["test"]}),
}
CIFAR_HINT = ("download cifar-10-python.tar.gz / cifar-100-python.tar.gz from "
              "https://www.cs.toronto.edu/~kriz/cifar.html and extract it into that folder")


class _ArraysOnly(pickle.Unpickler):
    """Refuses every global but the few NumPy needs to rebuild an array."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name}: a CIFAR batch holds arrays and lists only")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as f:
        try:
            batch = _ArraysOnly(f, encoding="bytes").load()
        except (pickle.UnpicklingError, EOFError, ValueError) as err:
            raise ValueError(f"{path}: not a CIFAR python batch ({err})") from None
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in batch.items()}


def load_cifar(path: str | Path, which: str = "cifar10", split: str = "train",
               labels: str = "fine") -> tuple[np.ndarray, np.ndarray]:
    """CIFAR images as uint8 N x 32 x 32 x 3 (HWC) and int64 labels.

    ``labels="coarse"`` gives CIFAR-100's 20 superclasses (only valid for cifar100).
    """
    if which not in CIFAR_LAYOUT:
        raise ValueError(f"unknown CIFAR variant {which!r}; valid: {sorted(CIFAR_LAYOUT)}")
    folder_name, splits = CIFAR_LAYOUT[which]
    if split not in splits:
        raise ValueError(f"unknown split {split!r}; valid: {sorted(splits)}")
    if labels not in ("fine", "coarse"):
        raise ValueError(f"labels must be 'fine' or 'coarse', got {labels!r}")
    if labels == "coarse" and which != "cifar100":
        raise ValueError("coarse labels exist only for cifar100 (its 20 superclasses)")
    path = Path(path)
    folders = [path, path / folder_name]
    folder = next((f for f in folders if all((f / name).is_file() for name in splits[split])), None)
    if folder is None:
        raise DatasetNotFoundError(f"{which} ({split})", folders, CIFAR_HINT)
    key = "labels" if which == "cifar10" else f"{labels}_labels"
    images, targets = [], []
    for name in splits[split]:
        batch = _unpickle(folder / name)
        data = np.asarray(batch["data"], dtype=np.uint8)
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise ValueError(f"{folder / name}: data has shape {data.shape}, expected N x 3072")
        images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        targets.append(np.asarray(batch[key], dtype=np.int64))
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(targets)
