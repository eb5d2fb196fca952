"""Degenerate images are refused by name before any training (they used to fail with 'math domain error')."""

import numpy as np
import pytest
from PIL import Image

from paperlab.siren.data import load_image


@pytest.mark.parametrize("pixels,needle", [(np.zeros((1, 1), np.uint8), "2x2"),
                                           (np.full((8, 8), 7, np.uint8), "constant"),
                                           (np.full((8, 8), np.nan, np.float32), "NaN|constant")])
def test_degenerate_images_are_named(tmp_path, pixels, needle):
    path = tmp_path / ("img.tiff" if pixels.dtype == np.float32 else "img.png")
    Image.fromarray(pixels).save(path)
    with pytest.raises(ValueError, match=needle) as info:
        load_image(str(path), 16)
    assert str(path) in str(info.value)
