"""Precision/recall and density/coverage against direct loops, and their values for identical sets."""

import numpy as np
import pytest

from evaluation.density_coverage import density_coverage_from_features
from evaluation.precision_recall import precision_recall_from_features


def kth_radius_by_loop(points, i, k):
    distances = sorted(np.linalg.norm(points[i] - points[j]) for j in range(len(points)) if j != i)
    return distances[k - 1]


def inside_any_ball_by_loop(query, centres, k):
    return any(np.linalg.norm(query - centres[i]) <= kth_radius_by_loop(centres, i, k) for i in range(len(centres)))


def test_precision_and_recall_equal_the_definition_by_loops():
    rng = np.random.default_rng(0)
    real, synthetic = rng.normal(size=(40, 6)), rng.normal(0.7, 1.3, size=(30, 6))
    precision, recall, membership = precision_recall_from_features(real, synthetic, k=3)
    expected_membership = [inside_any_ball_by_loop(y, real, 3) for y in synthetic]
    assert list(membership) == expected_membership
    assert precision == pytest.approx(np.mean(expected_membership))
    assert recall == pytest.approx(np.mean([inside_any_ball_by_loop(x, synthetic, 3) for x in real]))
    assert 0 < precision < 1 and 0 < recall < 1


def test_identical_and_disjoint_sets():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(50, 8))
    assert precision_recall_from_features(features, features)[:2] == (1.0, 1.0)
    assert precision_recall_from_features(features, features + 100.0)[:2] == (0.0, 0.0)


def test_density_and_coverage_equal_the_definition_by_loops():
    rng = np.random.default_rng(2)
    real, synthetic = rng.normal(size=(40, 5)), rng.normal(0.5, 1.0, size=(25, 5))
    k = 5
    density, coverage, per_image = density_coverage_from_features(real, synthetic, k)
    radii = [kth_radius_by_loop(real, i, k) for i in range(40)]
    inside = np.array([[np.linalg.norm(y - real[i]) <= radii[i] for i in range(40)] for y in synthetic])
    assert density == pytest.approx(inside.sum() / (k * 25))
    assert coverage == pytest.approx(inside.any(axis=0).mean())
    np.testing.assert_allclose(per_image, inside.sum(axis=1) / k)
    features = rng.normal(size=(30, 5))
    assert density_coverage_from_features(features, features, k)[:2] == pytest.approx((6 / 5, 1.0))
