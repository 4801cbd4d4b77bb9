"""LBP histograms of a constructed image, the chi-square distance and the rLBPv - sLBPv vector."""

import numpy as np
import pytest

from evaluation.comparison import Comparison
from evaluation.images import ImagePixels
from evaluation.lbp import chi_square_distance, compute, lbp_histograms


def test_histogram_of_a_constant_image_with_hand_derived_codes():
    # Constant 5 x 5 image. Neighbour p (bit 2^p) sits at angle 2 pi p / 8 counter-clockwise from the right;
    # a neighbour counts when >= the centre, and points outside the image read as 0 (< 100), as do diagonal
    # points interpolated with outside pixels. Interior (3 x 3): all 8 -> 255.
    # Top edge: right, left, down-left, down, down-right = 1 + 16 + 32 + 64 + 128 = 241 (3 pixels);
    # bottom edge: right, up-right, up, up-left, left = 1 + 2 + 4 + 8 + 16 = 31; left edge: right, up-right,
    # up, down, down-right = 1 + 2 + 4 + 64 + 128 = 199; right edge: up, up-left, left, down-left, down =
    # 4 + 8 + 16 + 32 + 64 = 124. Corners: top-left 1 + 64 + 128 = 193, top-right 16 + 32 + 64 = 112,
    # bottom-left 1 + 2 + 4 = 7, bottom-right 4 + 8 + 16 = 28.
    image = np.full((1, 5, 5), 100, dtype=np.uint8)
    expected = np.zeros(256)
    expected[255] = 9 / 25 * 100
    for code in (241, 31, 199, 124):
        expected[code] = 3 / 25 * 100
    for code in (193, 112, 7, 28):
        expected[code] = 1 / 25 * 100
    np.testing.assert_allclose(lbp_histograms(image)[0], expected, atol=1e-12)


def test_chi_square_distance():
    first = np.array([50.0, 50.0, 0.0])
    second = np.array([25.0, 25.0, 50.0])
    # 1/2 (0.0625 / 0.75 + 0.0625 / 0.75 + 0.25 / 0.5) on proportions
    assert chi_square_distance(first, second) == pytest.approx(0.5 * (0.0625 / 0.75 * 2 + 0.5), rel=1e-12)
    assert chi_square_distance(first, first) == 0
    assert chi_square_distance(np.array([100.0, 0.0]), np.array([0.0, 100.0])) == pytest.approx(1.0)


def test_lbp_vector_is_rlbpv_minus_slbpv_over_a_seeded_reference_sample():
    rng = np.random.default_rng(0)
    real = ImagePixels(rng.integers(0, 256, size=(12, 16, 16), dtype=np.uint8), tuple(range(12)))
    synthetic = ImagePixels(np.full((3, 16, 16), 100, dtype=np.uint8), ("a", "b", "c"))
    result = compute(Comparison(real, synthetic, seed=5), reference_count=8)
    again = compute(Comparison(real, synthetic, seed=5), reference_count=8)
    table = result.tables["lbp_vector"]
    assert list(table.element[:3]) == ["V0", "V1", "V2"] and len(table) == 256
    assert set(table.element[table.highlighted]) == {"V8", "V20", "V143", "V240"}
    np.testing.assert_allclose(table.sLBPv_percent, lbp_histograms(synthetic.pixels[:1])[0])
    np.testing.assert_allclose(table.difference_percent, table.rLBPv_percent - table.sLBPv_percent)
    # rLBPv is a mean of 8 of the 12 real histograms, the same 8 for the same seed.
    real_histograms = lbp_histograms(real.pixels)
    assert not np.allclose(table.rLBPv_percent, real_histograms.mean(axis=0))
    np.testing.assert_array_equal(table.rLBPv_percent, again.tables["lbp_vector"].rLBPv_percent)
    assert result.values["V143"] == pytest.approx(table.difference_percent[143])
    assert result.values["reference_images"] == 8
    assert result.values["chi_square"] == pytest.approx(chi_square_distance(table.sLBPv_percent, table.rLBPv_percent))
