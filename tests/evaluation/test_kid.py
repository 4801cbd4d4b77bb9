"""KID against a direct double-loop implementation of the unbiased MMD^2 estimate."""

import numpy as np
import pytest

from evaluation.images import EvaluationInputError
from evaluation.kid import default_subset_size, kid_from_features


def unbiased_mmd_by_loops(x, y):
    def kernel(a, b):
        return (np.dot(a, b) / len(a) + 1.0) ** 3

    m = len(x)
    within_x = sum(kernel(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    within_y = sum(kernel(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    between = sum(kernel(x[i], y[j]) for i in range(m) for j in range(m)) / m**2
    return within_x + within_y - 2 * between


def test_kid_equals_the_loop_estimate_on_the_same_subsets():
    data = np.random.default_rng(0)
    real, synthetic = data.normal(size=(30, 5)), data.normal(0.5, 1.0, size=(25, 5))
    mean, std = kid_from_features(real, synthetic, np.random.default_rng(7), subsets=4, subset_size=10)
    draws = np.random.default_rng(7)
    estimates = []
    for _ in range(4):
        real_index = draws.choice(30, 10, replace=False)
        synthetic_index = draws.choice(25, 10, replace=False)
        estimates.append(unbiased_mmd_by_loops(real[real_index], synthetic[synthetic_index]))
    assert mean == pytest.approx(np.mean(estimates), rel=1e-10)
    assert std == pytest.approx(np.std(estimates), rel=1e-10)


def test_kid_separates_different_distributions():
    data = np.random.default_rng(1)
    real, synthetic = data.normal(size=(200, 16)), data.normal(1.0, 1.0, size=(200, 16))
    mean, std = kid_from_features(real, synthetic, np.random.default_rng(0))
    assert mean > 10 * std > 0


def test_default_subset_size_is_half_the_smaller_set_at_most_1000():
    assert default_subset_size(999, 800) == 400
    assert default_subset_size(5000, 4000) == 1000
    with pytest.raises(EvaluationInputError, match="subset size"):
        kid_from_features(np.ones((5, 3)), np.ones((4, 3)), np.random.default_rng(0), subset_size=5)
