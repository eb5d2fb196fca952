"""Loaders: bundled and user images, WAV files (synthesised here), bad files give clear errors."""

import numpy as np
import pytest

from paperlab.siren.data import (coordinate_grid, default_audio, load_image, load_wav, signed_distance_grid,
                                 silhouette_outline, write_wav)


@pytest.mark.parametrize("name", ["camera", "astronaut", "coins", "moon", "horse"])
def test_bundled_images_load_offline_in_range(name):
    image = load_image(name, 32)
    assert image.shape == (32, 32) and image.dtype == np.float32
    assert -1.0 <= image.min() < image.max() <= 1.0


def test_user_image_file(tmp_path):
    from PIL import Image

    path = tmp_path / "gradient.png"
    Image.fromarray(np.tile(np.arange(0, 256, 4, dtype=np.uint8), (40, 1))).save(path)   # 40 x 64, cropped
    image = load_image(str(path), 16)
    assert image.shape == (16, 16)
    assert image[0, -1] > image[0, 0]


def test_bad_image_files_raise_clear_errors(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    with pytest.raises(ValueError, match="is empty"):
        load_image(str(empty), 16)
    with pytest.raises(ValueError, match="could not be decoded"):
        load_image(str(text), 16)
    with pytest.raises(ValueError, match="neither a bundled image"):
        load_image(str(tmp_path / "missing.png"), 16)
    with pytest.raises(ValueError, match="directory"):
        load_image(str(tmp_path), 16)
    with pytest.raises(ValueError, match="side"):
        load_image("camera", 1)


def test_wav_round_trip_and_default_clip(tmp_path):
    clip = default_audio(0.1, 8000)
    assert clip.shape == (800,) and np.abs(clip).max() == pytest.approx(1.0)
    path = tmp_path / "clip.wav"
    write_wav(path, clip, 8000)
    loaded, rate = load_wav(path)
    assert rate == 8000
    np.testing.assert_allclose(loaded, clip, atol=1e-3)


def test_stereo_and_8bit_wav(tmp_path):
    import wave

    path = tmp_path / "stereo8.wav"
    samples = np.array([[255, 255], [128, 128], [0, 0]], dtype=np.uint8).tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(1)
        wav.setframerate(1000)
        wav.writeframes(samples)
    loaded, rate = load_wav(path)
    assert rate == 1000 and loaded.shape == (3,)
    np.testing.assert_allclose(loaded, [127 / 128, 0.0, -1.0], atol=1e-6)   # unsigned 8-bit centred at 128


def test_bad_wav_files_raise_clear_errors(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    text = tmp_path / "text.wav"
    text.write_text("hello")
    with pytest.raises(ValueError, match="is empty"):
        load_wav(empty)
    with pytest.raises(ValueError, match="not a valid PCM WAV"):
        load_wav(corrupt)
    with pytest.raises(ValueError, match="not a valid PCM WAV"):
        load_wav(text)
    with pytest.raises(ValueError, match="does not exist"):
        load_wav(tmp_path / "missing.wav")


def test_coordinate_grid_spans_the_unit_box():
    grid = coordinate_grid(3, 4)
    assert grid.shape == (12, 2)
    assert grid[0].tolist() == [-1.0, -1.0] and grid[-1].tolist() == [1.0, 1.0]
    assert grid[1].tolist()[0] == -1.0    # axis 1 (columns) varies fastest


def test_horse_outline_normals_point_outward():
    outline = silhouette_outline("horse", side=96, points=400)
    pts, normals, inside = outline["points"], outline["normals"], outline["inside"]
    assert np.abs(pts).max() <= 0.95
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
    sdf = signed_distance_grid(inside)
    assert sdf[inside].max() <= 0 < sdf[~inside].min()
    # the signed distance grows along the normal at (almost) every outline point
    from scipy import ndimage

    def sdf_at(p):
        return ndimage.map_coordinates(sdf, ((p + 1) / 2 * 95).T, order=1)

    assert (sdf_at(pts + 0.02 * normals) > sdf_at(pts - 0.02 * normals)).mean() > 0.95
