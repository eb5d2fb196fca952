"""Reader for the IDX format used by MNIST and Fashion-MNIST (plain or .gz).

Format (LeCun's MNIST page): two zero bytes, a type code, the number of dimensions d,
then d big-endian uint32 sizes, then the data in C order.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode an IDX payload (already decompressed) into an array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{source}: not an IDX file (magic must start with two zero bytes)")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(f"{source}: unknown IDX type code 0x{type_code:02x}")
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise ValueError(f"{source}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header_end != expected:
        raise ValueError(f"{source}: IDX payload has {len(raw) - header_end} bytes, header says {expected}")
    data = np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx_bytes(path: str | Path) -> bytes:
    """Return the decompressed bytes of an IDX file ('.gz' is decompressed)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:  # a truncated or corrupt download
        raise ValueError(f"{path}: not a readable{' gzip' if path.suffix == '.gz' else ''} file "
                         f"({type(err).__name__}: {err}); download it again") from None


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (e.g. ``train-images-idx3-ubyte.gz``) into a numpy array."""
    return parse_idx(read_idx_bytes(path), source=str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX bytes (used to write fixtures)."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"encode_idx writes uint8 arrays only, got {array.dtype}")
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.tobytes()
