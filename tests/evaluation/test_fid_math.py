"""FID and FID-infinity arithmetic on synthetic Gaussian features (no Inception forward pass)."""

import numpy as np
import pytest
import scipy.linalg

from evaluation.fid import feature_statistics, fid_from_features, frechet_distance, frechet_distance_to_samples
from evaluation.fid_infinity import fid_infinity_from_features, sample_sizes
from evaluation.images import EvaluationInputError


def gaussian(rng, count, dimension, shift=0.0, scale=1.0):
    return rng.normal(shift, scale, size=(count, dimension))


def scipy_fid(first, second):
    """The textbook formula with scipy.linalg.sqrtm, as an independent reference."""
    mu1, sigma1 = first.mean(0), np.cov(first, rowvar=False)
    mu2, sigma2 = second.mean(0), np.cov(second, rowvar=False)
    root = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2 - 2 * root))


def test_full_rank_fid_equals_the_textbook_formula():
    rng = np.random.default_rng(1)
    first, second = gaussian(rng, 400, 16), gaussian(rng, 300, 16, shift=0.3, scale=1.5)
    assert fid_from_features(first, second) == pytest.approx(scipy_fid(first, second), rel=1e-9)


def test_small_sample_path_equals_the_full_eigendecomposition():
    rng = np.random.default_rng(2)
    large, small = gaussian(rng, 500, 64), gaussian(rng, 30, 64, shift=0.5)  # 30 samples: rank 29 < 64
    mu, sigma = feature_statistics(large)
    through_samples = frechet_distance_to_samples(mu, sigma, small)
    through_full = frechet_distance(mu, sigma, *feature_statistics(small))
    # The full path takes square roots of ~35 round-off eigenvalues near 0 (each ~1e-7), hence the tolerance.
    assert through_samples == pytest.approx(through_full, rel=1e-6)
    assert fid_from_features(large, small) == pytest.approx(through_samples, rel=1e-12)


def test_gaussians_with_known_distance():
    # N(0, I) vs N(m, 4 I) in d dimensions: FID = |m|^2 + d (1 + 4 - 2 * 2) = |m|^2 + d.
    mu1, mu2 = np.zeros(8), np.full(8, 0.5)
    assert frechet_distance(mu1, np.eye(8), mu2, 4 * np.eye(8)) == pytest.approx(8 * 0.25 + 8, rel=1e-12)


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_images_is_a_clear_error(count):
    with pytest.raises(EvaluationInputError, match="covariance"):
        fid_from_features(np.ones((5, 4)), np.ones((count, 4)))


def test_fid_infinity_removes_the_small_sample_bias():
    rng = np.random.default_rng(3)
    dimension = 32
    real = gaussian(rng, 20000, dimension)
    synthetic = gaussian(rng, 800, dimension, shift=np.sqrt(1.0 / dimension))  # true FID = |m|^2 = 1
    fid_infinity, slope, table = fid_infinity_from_features(real, synthetic, np.random.default_rng(0))
    assert list(table.sample_size) == list(sample_sizes(800))
    assert table.sample_size.min() == 160 and table.sample_size.max() == 800 and len(table) == 15
    assert slope > 0  # fewer images, higher FID
    # FID at 800 images is ~1.37 here (bias ~ 290 / N); the extrapolation, whose spread over data seeds is
    # about 0.07, lands near the true 1.
    assert abs(fid_infinity - 1.0) < 0.5 * abs(table.fid.iloc[-1] - 1.0)
    assert fid_infinity == pytest.approx(1.0, abs=0.2)


def test_fid_infinity_needs_enough_images():
    with pytest.raises(EvaluationInputError, match="at least 11"):
        sample_sizes(10)
