"""PSNR matrix against skimage, pair by pair."""

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from evaluation.comparison import Comparison
from evaluation.images import ImagePixels
from evaluation.psnr import compute, psnr_matrix


def random_images(seed, count, size=16):
    return np.random.default_rng(seed).integers(0, 256, size=(count, size, size), dtype=np.uint8)


def test_psnr_matrix_equals_skimage_on_every_pair():
    synthetic, real = random_images(0, 4), random_images(1, 5)
    matrix = psnr_matrix(synthetic, real)
    for i, s in enumerate(synthetic):
        for j, r in enumerate(real):
            assert matrix[i, j] == pytest.approx(peak_signal_noise_ratio(r, s, data_range=255), rel=1e-12)


def test_identical_images_give_infinity_and_per_image_mean_and_max():
    real = random_images(2, 3)
    synthetic = np.stack([real[1], random_images(3, 1)[0]])
    result = compute(Comparison(ImagePixels(real, ("a", "b", "c")), ImagePixels(synthetic, ("copy", "new"))))
    matrix = psnr_matrix(synthetic, real)
    assert matrix[0, 1] == np.inf and np.isfinite(matrix[1]).all()
    assert result.per_image["psnr_nearest_db"][0] == np.inf
    assert result.per_image["psnr_mean_db"][1] == pytest.approx(matrix[1].mean())
    assert result.per_image["psnr_nearest_db"][1] == pytest.approx(matrix[1].max())
    assert result.values["psnr_mean_db"] == np.inf
