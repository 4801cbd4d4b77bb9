"""Agreement between raters: Cohen's and Fleiss' kappa for labels, ICC(2,1) for quality scores.

Input: a ratings frame (pandas DataFrame, one row per rating) with the columns ``rater``, ``item`` and the
rated ``column`` (``answer`` by default for the kappas, ``quality`` for the ICC); other columns are
ignored, a missing one raises ``ValueError``. Ratings with no value in ``column`` are left out; when a
rater rated an item more than once, the first rating (in frame order) is the one compared.

Cohen's kappa (J. Cohen, "A coefficient of agreement for nominal scales", Educ. Psychol. Meas. 1960) and
its weighted form (J. Cohen, "Weighted kappa", Psychol. Bull. 1968), for two raters over the same items.
With ``O`` the observed table of proportions over the ``K`` categories, ``E = outer(row sums, column
sums)`` the table expected by chance and disagreement weights ``w``

    kappa = 1 - sum(w O) / sum(w E)

where ``w_ij = [i != j]`` (unweighted: kappa = (p_o - p_e) / (1 - p_e)), ``|i - j| / (K - 1)`` (linear) or
``((i - j) / (K - 1))^2`` (quadratic), ``i, j`` the positions of the categories in their order. The
weighted forms suit the ordinal 1-5 quality: they count a 4 against a 5 as a smaller disagreement than a
1 against a 5. Kappa is NaN where it is undefined (no items, or chance agreement already perfect).

Fleiss' kappa (J. L. Fleiss, "Measuring nominal scale agreement among many raters", Psychol. Bull. 1971)
for ``m`` raters per item: with ``n_ij`` the raters who put item ``i`` (of ``N``) in category ``j``,

    P_i = (sum_j n_ij^2 - m) / (m (m - 1)),  p_j = sum_i n_ij / (N m),
    kappa = (mean_i P_i - sum_j p_j^2) / (1 - sum_j p_j^2)

It needs the same ``m`` for every item, so it uses the items rated by every rater.

ICC(2,1) (P. E. Shrout, J. L. Fleiss, "Intraclass correlations: uses in assessing rater reliability",
Psychol. Bull. 1979): two-way random effects, absolute agreement, single rater, over the ``n`` items that
all ``k`` raters scored. From the two-way ANOVA mean squares of items (MSR), raters (MSC) and error (MSE),

    ICC = (MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)

with the F-based confidence interval of Shrout & Fleiss (1979) and K. O. McGraw, S. P. Wong, "Forming
inferences about some intraclass correlation coefficients", Psychol. Methods 1996 (case 2A), which uses
Satterthwaite's degrees of freedom ``v``; ``p`` tests ICC = 0 by ``F = MSR / MSE`` on ``(n - 1, (n - 1)
(k - 1))`` degrees of freedom.
"""

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.frames import TABLE_CONFIDENCE, require_columns
from evaluation.quality import numeric_scores

WEIGHTS = (None, "linear", "quadratic")


def cohen_kappa(a, b, weights=None, categories=None):
    """Cohen's kappa of two raters' labels ``a`` and ``b`` of the same items (``weights`` None, linear, quadratic).

    ``categories`` gives the categories in their order (which the weighted forms need, e.g. ``[1, 2, 3, 4,
    5]``); by default the sorted values seen in ``a`` and ``b``.
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, not {weights!r}")
    a, b = pd.Series(list(a), dtype=object), pd.Series(list(b), dtype=object)
    if len(a) != len(b):
        raise ValueError(f"a and b must rate the same items: {len(a)} labels against {len(b)}")
    if a.isna().any() or b.isna().any():
        raise ValueError("a and b must not hold missing labels")
    if categories is None:
        categories = sorted(set(a) | set(b))
    categories = list(categories)
    positions = {category: position for position, category in enumerate(categories)}
    unknown = (set(a) | set(b)) - set(positions)
    if unknown:
        raise ValueError(f"labels not among the categories {categories}: {sorted(unknown, key=str)}")
    if len(a) == 0:
        return math.nan
    size = len(categories)
    counts = np.zeros((size, size))
    np.add.at(counts, (a.map(positions).to_numpy(int), b.map(positions).to_numpy(int)), 1)
    return float(table_kappa(counts, weights))


def table_kappa(counts, weights=None):
    """Cohen's kappa of each ``K x K`` table of counts in ``counts`` (shape ``(..., K, K)``; rows the first
    rater's categories in their order, columns the second's), by the formula above; NaN where undefined.

    `cohen_kappa` reads one table; a bootstrap hands over all its resamples' tables at once. A table is the
    pooled kappa of one stratum.
    """
    return pooled_kappa(np.asarray(counts)[..., np.newaxis, :, :], weights)


def pooled_kappa(counts, weights=None):
    """Kappa of many strata's tables (``counts`` of shape ``(..., S, K, K)``, one ``K x K`` table per stratum
    on axis -3), each stratum's chance agreement from its own margins:

        kappa = 1 - sum_s sum(w O_s) / sum_s sum(w E_s)

    with ``O_s`` the counts of stratum ``s`` and ``E_s`` the counts its margins expect. Unweighted, and with the
    same number of items in each stratum, this is (mean p_o - mean p_e) / (1 - mean p_e), the pooled kappa of
    H. de Vries, M. N. Elliott, D. E. Kanouse, S. S. Teleki, "Using pooled kappa to summarize interrater agreement
    across many items", Field Methods 2008. One table of all strata's counts would take its chance agreement from
    the pooled margins, and count two raters who each keep to their own favourite answer as agreeing.
    """
    observed, expected = weighted_disagreements(counts, weights)
    observed, expected = observed.sum(axis=-1), expected.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1 - observed / expected, np.nan)


def weighted_disagreements(counts, weights=None):
    """``(observed, expected)``: sum(w O) and sum(w E) of each ``K x K`` table of counts in ``counts`` (shape
    ``(..., K, K)``), ``E`` the counts the table's margins expect by chance; both 0 for an empty table."""
    counts = np.asarray(counts, dtype=float)
    size = counts.shape[-1]
    distance = np.abs(np.subtract.outer(np.arange(size), np.arange(size))) / max(size - 1, 1)
    disagreement = {None: (distance > 0).astype(float), "linear": distance, "quadratic": distance**2}[weights]
    total = counts.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = counts.sum(axis=-1)[..., :, None] * counts.sum(axis=-2)[..., None, :] / total[..., None, None]
    expected = np.where(total[..., None, None] > 0, expected, 0)
    return (disagreement * counts).sum(axis=(-2, -1)), (disagreement * expected).sum(axis=(-2, -1))


def rated(ratings, column):
    """``(rater, item, value)`` rows with a value in ``column``, one per rater and item (the first)."""
    require_columns(ratings, ("rater", "item", column))
    present = ratings.loc[ratings[column].notna(), ["rater", "item", column]]
    return present.drop_duplicates(["rater", "item"], keep="first")


def pairwise_kappa(ratings, column="answer", weights=None, categories=None):
    """Cohen's kappa of every pair of raters over the items both rated: columns ``rater_a, rater_b, n, kappa``.

    The categories (for the weighted forms, their order) are ``categories`` or else the sorted values of
    ``column`` over the whole frame, so that every pair is weighted on the same scale.
    """
    ratings = rated(ratings, column)
    if categories is None:
        categories = sorted(ratings[column].unique())
    values = {rater: part.set_index("item")[column] for rater, part in ratings.groupby("rater", sort=True)}
    rows = []
    for rater_a, rater_b in itertools.combinations(sorted(values), 2):
        both = pd.concat([values[rater_a], values[rater_b]], axis=1, join="inner")
        kappa = cohen_kappa(both.iloc[:, 0], both.iloc[:, 1], weights, categories)
        rows.append({"rater_a": rater_a, "rater_b": rater_b, "n": len(both), "kappa": kappa})
    return pd.DataFrame(rows, columns=["rater_a", "rater_b", "n", "kappa"])


def complete_items(ratings, column):
    """Item x rater table of ``column`` (sorted both ways), keeping only the items every rater rated."""
    ratings = rated(ratings, column)
    table = ratings.pivot(index="item", columns="rater", values=column).sort_index().sort_index(axis=1)
    return table.dropna(axis=0, how="any")


def fleiss_kappa(ratings, column="answer"):
    """Fleiss' kappa over the items rated by every rater: keys ``kappa, n_items, n_raters, n_items_rated``."""
    table = complete_items(ratings, column)
    n_items, n_raters = table.shape
    result = {
        "kappa": math.nan,
        "n_items": n_items,
        "n_raters": n_raters,
        "n_items_rated": int(rated(ratings, column)["item"].nunique()),
    }
    if n_raters < 2 or n_items == 0:
        return result
    long = table.stack()
    counts = pd.crosstab(long.index.get_level_values("item"), long.to_numpy()).to_numpy(dtype=float)
    agreement = ((counts**2).sum(axis=1) - n_raters) / (n_raters * (n_raters - 1))
    category_shares = counts.sum(axis=0) / counts.sum()
    chance = (category_shares**2).sum()
    if chance < 1:
        result["kappa"] = float((agreement.mean() - chance) / (1 - chance))
    return result


def icc(ratings, column="quality"):
    """ICC(2,1) with its 95% F-based interval over the items all raters scored.

    Keys ``icc, low, high, n_items, n_raters, p`` plus the ANOVA mean squares ``ms_items, ms_raters, ms_error``.
    """
    require_columns(ratings, ("rater", "item", column))
    table = complete_items(ratings.assign(**{column: numeric_scores(ratings, column)}), column)
    n, k = table.shape
    result = {"icc": math.nan, "low": math.nan, "high": math.nan, "n_items": n, "n_raters": k, "p": math.nan}
    result.update(ms_items=math.nan, ms_raters=math.nan, ms_error=math.nan)
    if n < 2 or k < 2:
        return result
    scores = table.to_numpy(dtype=float)
    grand_mean = scores.mean()
    ss_items = k * ((scores.mean(axis=1) - grand_mean) ** 2).sum()
    ss_raters = n * ((scores.mean(axis=0) - grand_mean) ** 2).sum()
    ss_error = ((scores - grand_mean) ** 2).sum() - ss_items - ss_raters
    df_error = (n - 1) * (k - 1)
    ms_items, ms_raters, ms_error = ss_items / (n - 1), ss_raters / (k - 1), ss_error / df_error
    result.update(ms_items=float(ms_items), ms_raters=float(ms_raters), ms_error=float(ms_error))
    denominator = ms_items + (k - 1) * ms_error + k * (ms_raters - ms_error) / n
    if denominator <= 0:
        # Every score equal: no variance to apportion.
        return result
    value = (ms_items - ms_error) / denominator
    result["icc"] = float(value)
    if ms_error > 0:
        result["p"] = float(stats.f.sf(ms_items / ms_error, n - 1, df_error))
    if value < 1:
        result["low"], result["high"] = icc_interval(value, ms_items, ms_raters, ms_error, n, k)
    return result


def icc_interval(value, ms_items, ms_raters, ms_error, n, k, confidence=TABLE_CONFIDENCE):
    """McGraw & Wong (1996) case 2A interval of ICC(2,1), Satterthwaite's degrees of freedom ``v``."""
    alpha = 1 - confidence
    a = k * value / (n * (1 - value))
    b = 1 + k * value * (n - 1) / (n * (1 - value))
    v = (a * ms_raters + b * ms_error) ** 2 / (
        (a * ms_raters) ** 2 / (k - 1) + (b * ms_error) ** 2 / ((n - 1) * (k - 1))
    )
    f_upper = stats.f.ppf(1 - alpha / 2, n - 1, v)
    f_lower = stats.f.ppf(1 - alpha / 2, v, n - 1)
    spread = k * ms_raters + (k * n - k - n) * ms_error
    low = n * (ms_items - f_upper * ms_error) / (f_upper * spread + n * ms_items)
    high = n * (f_lower * ms_items - ms_error) / (spread + n * f_lower * ms_items)
    return float(low), float(high)
