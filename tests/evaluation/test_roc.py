"""Empirical AUC, ROC curve and DeLong covariance against hand computations, scipy and a brute-force U-statistic."""

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from evaluation.roc import auc, auc_interval, delong, placement_values, roc_curve

# 3 positive and 4 negative cases; positive 0.4 ties negative 0.4.
TRUTH = np.array([1, 1, 1, 0, 0, 0, 0])
SCORE = np.array([0.9, 0.6, 0.4, 0.7, 0.4, 0.3, 0.1])
# A second reader of the same cases; positive 0.5 ties negative 0.5.
SECOND_SCORE = np.array([0.8, 0.5, 0.7, 0.2, 0.6, 0.5, 0.3])

# Placement values by hand. V10 of a positive: its share of negatives scored lower (ties 1/2); V01 of a
# negative: the share of positives scored higher (ties 1/2).
#   0.9 beats all 4 -> 1;  0.6 beats 0.4, 0.3, 0.1 -> 3/4;  0.4 ties 0.4, beats 0.3, 0.1 -> 5/8
#   0.7 is beaten by 0.9 -> 1/3;  0.4 by 0.9, 0.6 and tied by 0.4 -> 5/6;  0.3, 0.1 by all -> 1, 1
V10 = [Fraction(1), Fraction(3, 4), Fraction(5, 8)]
V01 = [Fraction(1, 3), Fraction(5, 6), Fraction(1), Fraction(1)]
#   second reader: 0.8 -> 1;  0.5 beats 0.2, 0.3, ties 0.5 -> 5/8;  0.7 -> 1
#   0.2 -> 1;  0.6 beaten by 0.8, 0.7 -> 2/3;  0.5 by 0.8, 0.7, tied by 0.5 -> 5/6;  0.3 -> 1
SECOND_V10 = [Fraction(1), Fraction(5, 8), Fraction(1)]
SECOND_V01 = [Fraction(1), Fraction(2, 3), Fraction(5, 6), Fraction(1)]


def mean(values):
    return sum(values) / len(values)


def sample_covariance(a, b):
    """Exact sample covariance (denominator n - 1) of two lists of Fractions."""
    mean_a, mean_b = mean(a), mean(b)
    return sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b)) / (len(a) - 1)


def brute_force_delong(truth, scores):
    """DeLong et al. (1988) written out: the psi kernel over every (positive, negative) pair, with loops."""
    scores = np.atleast_2d(scores)
    positives, negatives = np.flatnonzero(truth == 1), np.flatnonzero(truth == 0)
    m, n = len(positives), len(negatives)
    v10 = np.zeros((len(scores), m))
    v01 = np.zeros((len(scores), n))
    for row, score in enumerate(scores):
        for i, positive in enumerate(positives):
            for j, negative in enumerate(negatives):
                psi = 1.0 if score[positive] > score[negative] else 0.5 if score[positive] == score[negative] else 0.0
                v10[row, i] += psi / n
                v01[row, j] += psi / m
    aucs = v10.mean(axis=1)
    s10 = np.array([[np.sum((a - a.mean()) * (b - b.mean())) / (m - 1) for b in v10] for a in v10])
    s01 = np.array([[np.sum((a - a.mean()) * (b - b.mean())) / (n - 1) for b in v01] for a in v01])
    return aucs, s10 / m + s01 / n


def test_placement_values_auc_and_delong_variance_by_hand():
    # AUC = mean V10 = mean V01 = 19/24. S10 = 7/192, S01 = 43/432, Var = S10/3 + S01/4 = 1/27.
    assert mean(V10) == mean(V01) == Fraction(19, 24)
    assert sample_covariance(V10, V10) / 3 + sample_covariance(V01, V01) / 4 == Fraction(1, 27)
    aucs, v10, v01 = placement_values(TRUTH, SCORE)
    np.testing.assert_allclose(v10[0], [float(value) for value in V10], rtol=0, atol=1e-15)
    np.testing.assert_allclose(v01[0], [float(value) for value in V01], rtol=0, atol=1e-15)
    assert auc(TRUTH, SCORE) == pytest.approx(19 / 24, abs=1e-15)
    aucs, covariance = delong(TRUTH, SCORE)
    assert aucs == pytest.approx([19 / 24], abs=1e-15)
    assert covariance == pytest.approx(np.array([[1 / 27]]), abs=1e-15)


def test_delong_covariance_of_two_readers_by_hand():
    expected = np.array(
        [
            [
                float(sample_covariance(a10, b10) / 3 + sample_covariance(a01, b01) / 4)
                for b10, b01 in ((V10, V01), (SECOND_V10, SECOND_V01))
            ]
            for a10, a01 in ((V10, V01), (SECOND_V10, SECOND_V01))
        ]
    )
    aucs, covariance = delong(TRUTH, np.vstack([SCORE, SECOND_SCORE]))
    assert aucs == pytest.approx([19 / 24, 7 / 8], abs=1e-15)
    np.testing.assert_allclose(covariance, expected, rtol=1e-12)


def test_delong_equals_brute_force_on_tied_ratings():
    rng = np.random.default_rng(3)
    truth = np.r_[np.ones(23, dtype=int), np.zeros(31, dtype=int)]
    # Three 5-level readers, correlated through a shared case effect, with many ties.
    latent = rng.normal(size=truth.size) + 1.2 * truth
    scores = np.clip(np.rint(latent + rng.normal(0, 0.7, size=(3, truth.size)) + 3), 1, 5)
    aucs, covariance = delong(truth, scores)
    expected_aucs, expected_covariance = brute_force_delong(truth, scores)
    np.testing.assert_allclose(aucs, expected_aucs, rtol=1e-12)
    np.testing.assert_allclose(covariance, expected_covariance, rtol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_equals_mann_whitney_u_over_mn(seed):
    rng = np.random.default_rng(seed)
    positives, negatives = rng.integers(1, 11, size=40), rng.integers(1, 9, size=55)
    truth = np.r_[np.ones(40, dtype=int), np.zeros(55, dtype=int)]
    u = stats.mannwhitneyu(positives, negatives).statistic
    assert auc(truth, np.r_[positives, negatives]) == pytest.approx(u / (40 * 55), abs=1e-14)


def test_roc_curve_points_by_hand_and_trapezoidal_area_equals_auc():
    # Thresholds 0.9, 0.7, 0.6, 0.4 (a positive and a negative at once), 0.3, 0.1.
    fpr, tpr = roc_curve(TRUTH, SCORE)
    np.testing.assert_allclose(fpr, [0, 0, 1 / 4, 1 / 4, 2 / 4, 3 / 4, 1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 1 / 3, 2 / 3, 1, 1, 1])
    assert np.trapezoid(tpr, fpr) == pytest.approx(auc(TRUTH, SCORE), abs=1e-15)
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 2, 200)
    score = rng.integers(1, 11, 200) + truth * 2
    fpr, tpr = roc_curve(truth, score)
    assert len(fpr) == len(np.unique(score)) + 1
    assert np.trapezoid(tpr, fpr) == pytest.approx(auc(truth, score), abs=1e-12)


def test_auc_interval_is_delong_normal_interval_clipped():
    result = auc_interval(TRUTH, SCORE)
    se = math.sqrt(1 / 27)
    assert result["auc"] == pytest.approx(19 / 24)
    assert result["se"] == pytest.approx(se)
    assert result["low"] == pytest.approx(19 / 24 - stats.norm.ppf(0.975) * se)
    assert result["high"] == 1.0  # 19/24 + 1.96 x 0.19 is past 1
    assert (result["n_positive"], result["n_negative"]) == (3, 4)
    narrow = auc_interval(TRUTH, SCORE, level=0.5)
    assert narrow["high"] == pytest.approx(19 / 24 + stats.norm.ppf(0.75) * se)


@pytest.mark.parametrize(
    ("truth", "score", "message"),
    [
        ([1, 2, 0], [1, 2, 3], "truth must be 1"),
        (["synthetic", "real"], [1, 2], "truth must be 1"),
        ([1, 1, 1], [1, 2, 3], "positive and negative"),
        ([1, 0, 0], [1, np.nan, 3], "finite"),
        ([1, 0], [1, 2, 3], "match truth"),
    ],
)
def test_bad_input_raises(truth, score, message):
    with pytest.raises(ValueError, match=message):
        auc(truth, score)


def test_delong_needs_two_cases_of_each_truth():
    with pytest.raises(ValueError, match="2 positive and 2 negative"):
        delong([1, 0, 0], [3, 1, 2])
    assert auc([True, False, False], [3, 1, 2]) == 1.0
