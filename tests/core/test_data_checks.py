"""Data files are opened and checked when the config is made, before any run folder exists (issue 27, item 5):
images, audio, meshes, videos and BEAR's cached HDF5 datasets. Nothing trains: the run stops where it would
first write."""

import struct
import zlib

import numpy as np
import pytest

import paperlab.core.runner as runner
from paperlab.cli import main


class Accepted(BaseException):
    pass


@pytest.fixture
def stop_before_writing(monkeypatch):
    def accepted(out, what="--out"):
        raise Accepted()

    monkeypatch.setattr(runner, "check_out_dir", accepted)


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels (and holds no pixel data)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + \
        chunk(b"IEND", b"")


def _files(tmp_path):
    files = {"empty.png": b"", "garbage.png": b"not an image at all", "bomb.png": _png_claiming(100_000, 100_000),
             "empty.wav": b"", "empty.obj": b"", "flat.obj": b"v 0 0 0\nv 0 0 0\nv 0 0 0\nf 1 2 3\n"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "huge.npy", np.full((3, 4, 4, 3), 1e30, dtype=np.float32))
    return tmp_path


@pytest.mark.parametrize("experiment,setting,needle", [
    ("image-fit", "image=empty.png", "empty"),
    ("image-fit", "image=garbage.png", "could not be decoded"),
    ("image-fit", "image=bomb.png", "DecompressionBombError"),
    ("poisson-blend", "images=camera,garbage.png", "garbage.png"),
    ("sdf-2d", "shape=empty.png", "empty"),
    ("audio", "wav=empty.wav", "empty"),
    ("sdf-3d", "mesh=empty.obj", "empty.obj"),
    ("sdf-3d", "mesh=flat.obj", "flat.obj"),
    ("video", "video=huge.npy", "[0, 1]"),
])
def test_bad_data_files_are_refused_before_any_folder(tmp_path, capsys, stop_before_writing, experiment, setting,
                                                      needle):
    data = _files(tmp_path)
    key, value = setting.split("=")
    value = ",".join(v if "." not in v else str(data / v) for v in value.split(","))
    out = tmp_path / "runs"
    rc = main(["run", "siren", experiment, "--scale", "tiny", "--out", str(out), "--set", f"{key}={value}"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("paperlab: error:") and "\n" not in err, err
    assert key in err and needle in err and "math domain" not in err, err
    assert not out.exists()


def test_a_corrupt_cached_bear_dataset_is_refused_before_any_folder(tmp_path, capsys, stop_before_writing):
    from paperlab.rl.bear.dataset_builder import dataset_directory
    from paperlab.rl.bear.experiments import OFFLINE_BENCHMARK, build_config

    cfg = OFFLINE_BENCHMARK.make_config("tiny", {"data_dir": str(tmp_path / "data")})
    folder = dataset_directory(build_config(cfg, cfg.envs[0]))
    folder.mkdir(parents=True)
    (folder / "expert.hdf5").write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    out = tmp_path / "runs"
    rc = main(["run", "bear", "offline-benchmark", "--scale", "tiny", "--out", str(out),
               "--set", f"data_dir={tmp_path / 'data'}"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "expert.hdf5" in err and "delete the file" in err, err
    assert not out.exists()
    (folder / "expert.hdf5").unlink()   # gone: it would be built again, so the config is fine
    with pytest.raises(Accepted):
        main(["run", "bear", "offline-benchmark", "--scale", "tiny", "--out", str(out),
              "--set", f"data_dir={tmp_path / 'data'}"])
