"""Empirical ROC analysis: the AUC, the ROC curve and DeLong's covariance of correlated AUCs.

Input: ``truth``, one label per case, 1 (positive) or 0 (negative) (booleans count as 1 and 0), and
``score``, one finite number per case, higher meaning more sure the case is positive; any units, since
only the order of the scores counts. Bad input raises ``ValueError``.

The empirical AUC is the Wilcoxon-Mann-Whitney statistic (D. Bamber, "The area above the ordinal
dominance graph and the area below the receiver operating characteristic graph", J. Math. Psychol.
1975): over the ``m`` positive scores ``X_i`` and the ``n`` negative scores ``Y_j``,

    AUC = 1/(m n) sum_i sum_j psi(X_i, Y_j),  psi(x, y) = 1 if x > y, 1/2 if x = y, 0 if x < y

which equals the trapezoidal area under the empirical ROC curve (a tie between a positive and a negative
score draws a diagonal segment, worth half). `roc_curve` gives that curve's points (FPR, TPR), one per
distinct score taken as the threshold "positive when score >= threshold", from (0, 0) to (1, 1).

DeLong's covariance (E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson, "Comparing the areas under two or
more correlated receiver operating characteristic curves: a nonparametric approach", Biometrics 44:837,
1988) for ``k`` scores (readers, modalities) of the same cases comes from the placement values
(structural components)

    V10_i = 1/n sum_j psi(X_i, Y_j)   (positive case i),   V01_j = 1/m sum_i psi(X_i, Y_j)   (negative j),
    S10 = sample covariance (k x k) of the V10 over the m positives (denominator m - 1),
    S01 = the same of the V01 over the n negatives (denominator n - 1),
    Cov(AUC) = S10 / m + S01 / n

so it needs at least two positive and two negative cases. The placement values come from midranks
(X. Sun, W. Xu, "Fast implementation of DeLong's algorithm for comparing the areas under correlated
receiver operating characteristic curves", IEEE Signal Process. Lett. 2014): ``V10_i = (rank of X_i
among all scores - rank among the positives) / n`` and ``V01_j = 1 - (rank of Y_j among all - rank among
the negatives) / m``, in O(k N log N) with no loop over cases.

`auc_interval` is the AUC with its DeLong standard error and the normal interval ``AUC +- z SE``,
clipped to [0, 1].
"""

import math

import numpy as np
from scipy import stats


def positive_mask(truth):
    """``truth`` as a boolean array (True = positive); ``ValueError`` unless every label is 0 or 1."""
    labels = np.asarray(truth)
    if labels.ndim != 1:
        raise ValueError(f"truth must be one label per case, got an array of shape {labels.shape}")
    numeric = labels.dtype == bool or np.issubdtype(labels.dtype, np.number)
    if not numeric or not np.isin(labels, (0, 1)).all():
        unknown = sorted(set(labels.tolist()) - {0, 1}, key=str)
        raise ValueError(f"truth must be 1 (positive) or 0 (negative); found {unknown[:5]}")
    return labels.astype(bool)


def checked_scores(truth, scores):
    """``(positive mask, scores as a (k, n_cases) float array)``; ``ValueError`` on bad shapes or values."""
    positive = positive_mask(truth)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    if scores.ndim != 2 or scores.shape[1] != positive.size:
        raise ValueError(f"scores must be (k, {positive.size}) to match truth, got shape {scores.shape}")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite numbers")
    m, n = int(positive.sum()), int((~positive).sum())
    if m == 0 or n == 0:
        raise ValueError(f"need positive and negative cases, got {m} positive and {n} negative")
    return positive, scores


def placement_values(truth, scores):
    """``(aucs (k,), V10 (k, m), V01 (k, n))`` of ``k`` score rows ``scores`` (k, n_cases) of the same cases.

    V10 holds the positive cases' placement values in case order, V01 the negative cases'.
    """
    positive, scores = checked_scores(truth, scores)
    m, n = int(positive.sum()), int((~positive).sum())
    rank_all = stats.rankdata(scores, axis=1)
    v10 = (rank_all[:, positive] - stats.rankdata(scores[:, positive], axis=1)) / n
    v01 = 1 - (rank_all[:, ~positive] - stats.rankdata(scores[:, ~positive], axis=1)) / m
    return v10.mean(axis=1), v10, v01


def auc(truth, score):
    """Empirical (Wilcoxon-Mann-Whitney) AUC of one score per case; ties between classes count half."""
    return float(placement_values(truth, np.asarray(score, dtype=float)[np.newaxis, :])[0][0])


def roc_curve(truth, score):
    """Empirical ROC points ``(fpr, tpr)`` from (0, 0) to (1, 1), one per distinct threshold, descending."""
    positive, scores = checked_scores(truth, np.asarray(score, dtype=float)[np.newaxis, :])
    score = scores[0]
    order = np.argsort(-score, kind="stable")
    ordered_score, ordered_positive = score[order], positive[order]
    # One point after the last case of each run of equal scores: tied cases cross the threshold together.
    run_ends = np.r_[ordered_score[1:] != ordered_score[:-1], True]
    true_positives = np.cumsum(ordered_positive)[run_ends]
    false_positives = np.cumsum(~ordered_positive)[run_ends]
    fpr = np.r_[0.0, false_positives / (~positive).sum()]
    tpr = np.r_[0.0, true_positives / positive.sum()]
    return fpr, tpr


def delong(truth, scores):
    """``(aucs (k,), covariance (k, k))`` of ``k`` score rows (k, n_cases) of the same cases, by DeLong (1988)."""
    aucs, v10, v01 = placement_values(truth, scores)
    return aucs, delong_covariance(v10, v01)


def delong_covariance(v10, v01):
    """DeLong's ``S10 / m + S01 / n`` (k, k) from the placement values V10 (k, m) and V01 (k, n)."""
    m, n = v10.shape[1], v01.shape[1]
    if m < 2 or n < 2:
        raise ValueError(f"DeLong's covariance needs 2 positive and 2 negative cases, got {m} and {n}")
    return np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n


def auc_interval(truth, score, level=0.95):
    """AUC, DeLong SE and normal interval clipped to [0, 1]: ``auc, se, low, high, n_positive, n_negative``."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, not {level}")
    positive = positive_mask(truth)
    aucs, covariance = delong(positive, np.asarray(score, dtype=float)[np.newaxis, :])
    value, se = float(aucs[0]), math.sqrt(max(float(covariance[0, 0]), 0.0))
    half_width = stats.norm.ppf(0.5 + level / 2) * se
    return {
        "auc": value,
        "se": se,
        "low": max(0.0, value - half_width),
        "high": min(1.0, value + half_width),
        "n_positive": int(positive.sum()),
        "n_negative": int((~positive).sum()),
    }
