"""Fashion-MNIST (Xiao et al. 2017): 60k train + 10k test 28x28 grayscale images, 10 classes.

Offline sources, first hit wins:
  1. ``root`` passed by the caller;
  2. ``$PAPERLAB_DATA/fashion-mnist`` and ``$PAPERLAB_DATA``;
  3. ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu package ``dataset-fashion-mnist``).
Any folder holding the four standard IDX files (``.gz`` or not) works, so a copy of MNIST in the
same layout loads too. Nothing is downloaded unless ``fetch_fashion_mnist`` is called explicitly.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from paperlab.datasets.errors import DatasetNotFoundError
from paperlab.datasets.idx import parse_idx, read_idx_bytes

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# Coarse label set for the granularity experiment (our grouping; the paper uses iNat21's taxonomy).
# Garments are grouped by where they are worn, footwear and bags by kind:
#   tops     = T-shirt/top, Pullover, Coat, Shirt
#   bottoms  = Trouser, Dress   (dresses and trousers are both long, vertical silhouettes)
#   footwear = Sandal, Sneaker, Ankle boot
#   bags     = Bag
FASHION_COARSE_GROUPS = {
    "tops": (0, 2, 4, 6),
    "bottoms+dresses": (1, 3),
    "footwear": (5, 7, 9),
    "bags": (8,),
}
FASHION_FINE_TO_COARSE = np.zeros(10, dtype=np.int64)
for _coarse_id, _fine_ids in enumerate(FASHION_COARSE_GROUPS.values()):
    FASHION_FINE_TO_COARSE[list(_fine_ids)] = _coarse_id

# Nested label levels for the granularity experiment (our hierarchy; the paper uses iNat21's taxonomy levels):
# 2 classes > 5 > 10, each coarser class a union of finer ones.
#   2: garments = T-shirt, Trouser, Pullover, Dress, Coat, Shirt; footwear+bags = Sandal, Sneaker, Bag, Ankle boot
#   5: light tops = T-shirt, Shirt; warm tops = Pullover, Coat; trousers+dresses; footwear; bags
FASHION_LEVEL_GROUPS = {
    2: {"garments": (0, 1, 2, 3, 4, 6), "footwear+bags": (5, 7, 8, 9)},
    4: FASHION_COARSE_GROUPS,
    5: {"light tops": (0, 6), "warm tops": (2, 4), "trousers+dresses": (1, 3), "footwear": (5, 7, 9), "bags": (8,)},
    10: {name: (i,) for i, name in enumerate(FASHION_MNIST_CLASSES)},
}


def fashion_labels_at(labels: np.ndarray, classes: int) -> np.ndarray:
    """Fine Fashion-MNIST labels (0-9) mapped to the level with ``classes`` classes (FASHION_LEVEL_GROUPS)."""
    if classes not in FASHION_LEVEL_GROUPS:
        raise ValueError(f"no Fashion-MNIST label level with {classes} classes; valid: "
                         f"{', '.join(map(str, FASHION_LEVEL_GROUPS))}")
    table = np.zeros(10, dtype=np.int64)
    for group, fine in enumerate(FASHION_LEVEL_GROUPS[classes].values()):
        table[list(fine)] = group
    return table[np.asarray(labels)]


SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# SHA-256 of the *decompressed* IDX payloads, so a re-compressed copy (Debian's) verifies too.
# Computed from the files of Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1.
IDX_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
INSTALL_HINT = ("`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or `paperlab data fetch` "
                "with internet, or put the four IDX files in $PAPERLAB_DATA/fashion-mnist")


def candidate_dirs(root: str | Path | None = None) -> list[Path]:
    """Folders searched for Fashion-MNIST, in order."""
    dirs: list[Path] = []
    if root is not None:
        dirs.append(Path(root))
    env = os.environ.get("PAPERLAB_DATA")
    if env:
        dirs += [Path(env) / "fashion-mnist", Path(env)]
    dirs.append(DEBIAN_DIR)
    return dirs


def fashion_mnist_search_paths(root: str | Path | None = None) -> str:
    """Human-readable list of the folders searched, in order, marking the one that would be used."""
    lines = []
    for folder in candidate_dirs(root):
        complete = all(_find_file(folder, stem) for pair in SPLIT_FILES.values() for stem in pair)
        lines.append(f"{'found  ' if complete else 'missing'} {folder}")
    return "\n".join(lines) + f"\ninstall: {INSTALL_HINT}"


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def find_fashion_mnist_dir(root: str | Path | None = None) -> Path:
    """First candidate folder holding all four IDX files; DatasetNotFoundError otherwise."""
    searched = candidate_dirs(root)
    for folder in searched:
        if all(_find_file(folder, stem) for pair in SPLIT_FILES.values() for stem in pair):
            return folder
    raise DatasetNotFoundError("Fashion-MNIST", searched, INSTALL_HINT)


def load_idx_pair(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8 N x 28 x 28) and labels (int64 N) of one split from an IDX folder."""
    if split not in SPLIT_FILES:
        raise ValueError(f"unknown split {split!r}; valid: {sorted(SPLIT_FILES)}")
    folder = Path(folder)
    image_stem, label_stem = SPLIT_FILES[split]
    paths = [_find_file(folder, image_stem), _find_file(folder, label_stem)]
    if None in paths:
        raise DatasetNotFoundError(f"IDX split {split!r}", [folder], INSTALL_HINT)
    images = parse_idx(read_idx_bytes(paths[0]), str(paths[0]))
    labels = parse_idx(read_idx_bytes(paths[1]), str(paths[1]))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{folder}: images {images.shape} and labels {labels.shape} do not match")
    return images.astype(np.uint8), labels.astype(np.int64)


def load_fashion_mnist(split: str = "train", root: str | Path | None = None,
                       labels: str = "fine") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images (uint8 N x 28 x 28) and labels (int64 N).

    ``labels="coarse"`` maps the 10 classes to the 4 groups of ``FASHION_COARSE_GROUPS``.
    """
    if labels not in ("fine", "coarse"):
        raise ValueError(f"labels must be 'fine' or 'coarse', got {labels!r}")
    folder = find_fashion_mnist_dir(root)
    images, y = load_idx_pair(folder, split)
    if y.size and (y.min() < 0 or y.max() > 9):
        bad = int(y[(y < 0) | (y > 9)][0])
        raise ValueError(f"{_find_file(folder, SPLIT_FILES[split][1])}: label {bad} is not a Fashion-MNIST class "
                         "(0-9); the file is corrupt or not Fashion-MNIST")
    return images, (FASHION_FINE_TO_COARSE[y] if labels == "coarse" else y)


def verify_fashion_mnist(folder: str | Path) -> dict[str, bool]:
    """SHA-256 check of each decompressed IDX file in ``folder`` against ``IDX_SHA256``."""
    folder = Path(folder)
    status = {}
    for stem, digest in IDX_SHA256.items():
        path = _find_file(folder, stem)
        status[stem] = path is not None and hashlib.sha256(read_idx_bytes(path)).hexdigest() == digest
    return status


def fetch_fashion_mnist(dest: str | Path, base_url: str = DOWNLOAD_URL) -> Path:
    """Download the four Fashion-MNIST files into ``dest`` and verify their checksums.

    Needs internet; never called by tests or by default. Files already present and valid are
    kept. A file failing its checksum is deleted and a ValueError raised.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for stem, digest in IDX_SHA256.items():
        existing = _find_file(dest, stem)
        if existing is not None and hashlib.sha256(read_idx_bytes(existing)).hexdigest() == digest:
            continue
        target = dest / (stem + ".gz")
        with tempfile.NamedTemporaryFile(dir=dest, delete=False, suffix=".part") as tmp:
            with urllib.request.urlopen(base_url + stem + ".gz", timeout=60) as response:
                shutil.copyfileobj(response, tmp)
        part = Path(tmp.name)
        got = hashlib.sha256(read_idx_bytes(part.rename(target))).hexdigest()
        if got != digest:
            target.unlink()
            raise ValueError(f"{stem}.gz from {base_url}: checksum mismatch (sha256 {got}, expected {digest})")
    return dest
