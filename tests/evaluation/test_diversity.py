"""MS-SSIM at small sizes and the mode-collapse diversity score."""

import numpy as np
import pytest
from scipy import ndimage
from skimage.metrics import structural_similarity

from evaluation.comparison import Comparison
from evaluation.diversity import STANDARD_WEIGHTS, compute, ms_ssim, random_pairs, scale_count
from evaluation.images import ImagePixels


def smooth_images(seed, count, size=64):
    noise = np.random.default_rng(seed).normal(size=(count, size // 8, size // 8))
    upsampled = np.kron(noise, np.ones((8, 8)))
    return np.clip(128 + 40 * upsampled, 0, 255).astype(np.uint8)


def test_scale_count_keeps_the_window_inside_the_coarsest_scale():
    assert scale_count(64) == 3 and scale_count(128) == 4 and scale_count(176) == 5 and scale_count(16) == 1


def test_one_scale_is_skimage_ssim_clipped_at_zero():
    first, second = smooth_images(0, 3), smooth_images(1, 3)
    expected = [
        structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
        for a, b in zip(first, second)
    ]
    assert min(expected) < 0  # the third pair is anti-correlated: MS-SSIM clips it to 0
    np.testing.assert_allclose(ms_ssim(first, second, scales=1), np.maximum(expected, 0), rtol=1e-10)


def reference_ms_ssim(x, y, scales):
    """MS-SSIM written out with scipy.ndimage: Gaussian filter (11 taps), 'valid' crop, 2 x 2 block means."""
    weights = np.array(STANDARD_WEIGHTS[:scales]) / sum(STANDARD_WEIGHTS[:scales])
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    x, y = x.astype(np.float64), y.astype(np.float64)
    factors = []
    for scale in range(scales):
        if scale:
            x = x.reshape(len(x) // 2, 2, -1, 2).mean(axis=(1, 3))
            y = y.reshape(len(y) // 2, 2, -1, 2).mean(axis=(1, 3))

        def blur(image):
            return ndimage.gaussian_filter(image, 1.5, truncate=3.5)[5:-5, 5:-5]

        mx, my = blur(x), blur(y)
        vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
        cs = (2 * cxy + c2) / (vx + vy + c2)
        luminance = (2 * mx * my + c1) / (mx**2 + my**2 + c1)
        factors.append(cs.mean() if scale < scales - 1 else (luminance * cs).mean())
    return np.prod(np.maximum(factors, 0) ** weights)


@pytest.mark.parametrize("size", [64, 128])
def test_multiscale_value_equals_a_scipy_reference(size):
    first, second = smooth_images(2, 2, size), smooth_images(3, 2, size)
    second[1] = np.clip(first[1].astype(int) + 30, 0, 255)  # a similar pair as well as a dissimilar one
    expected = [reference_ms_ssim(a, b, scale_count(size)) for a, b in zip(first, second)]
    np.testing.assert_allclose(ms_ssim(first, second), expected, rtol=1e-9)
    assert expected[1] > 0.5 > expected[0]
    np.testing.assert_allclose(ms_ssim(first, first), [1.0, 1.0])


def test_random_pairs_are_distinct_and_seeded():
    first, second = random_pairs(50, 300, np.random.default_rng(0))
    assert np.all(first != second) and len(first) == 300
    again = random_pairs(50, 300, np.random.default_rng(0))
    assert np.array_equal(first, again[0]) and np.array_equal(second, again[1])
    every_first, every_second = random_pairs(4, 300, np.random.default_rng(0))
    assert sorted(zip(every_first, every_second)) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]


def test_mode_collapse_raises_the_synthetic_ms_ssim():
    real = ImagePixels(smooth_images(4, 30), tuple(range(30)))
    collapsed = ImagePixels(np.repeat(smooth_images(5, 1), 30, axis=0), tuple(range(30)))
    varied = ImagePixels(smooth_images(6, 30), tuple(range(30)))
    collapsed_values = compute(Comparison(real, collapsed), pairs=100).values
    varied_values = compute(Comparison(real, varied), pairs=100).values
    assert collapsed_values["ms_ssim_synthetic"] == pytest.approx(1.0)
    assert collapsed_values["ms_ssim_excess"] > 0.5
    assert abs(varied_values["ms_ssim_excess"]) < 0.1
