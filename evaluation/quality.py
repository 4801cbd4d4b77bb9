"""Quality scores (1-5) given by the raters: summaries per group, and real against synthetic images.

Input: a ratings frame (pandas DataFrame, one row per rating) with a numeric ``quality`` column (the 1-5
score; missing scores are left out) and the columns grouped by: ``truth`` (``"real"`` or ``"synthetic"``)
for `quality_by_kind`, any columns for `quality_summary`. A missing column raises ``ValueError``.

Per group of ``n`` scores: mean, sample standard deviation ``sd`` (``n - 1`` in the denominator), median
and the t-based 95% confidence interval of the mean (Student, "The probable error of a mean",
Biometrika 1908)

    mean -+ t_{0.975, n - 1} sd / sqrt(n)

which assumes the mean is roughly normal: a fair assumption for a few dozen scores on a 1-5 scale, a
rough one for fewer. ``sd``, ``low`` and ``high`` are NaN below 2 scores, every estimate at 0.

Real against synthetic: the two-sided Mann-Whitney U test (H. B. Mann, D. R. Whitney, "On a test of
whether one of two random variables is stochastically larger than the other", Ann. Math. Stat. 1947;
``scipy.stats.mannwhitneyu``), which compares ranks and so suits ordinal scores. ``mann_whitney_u`` is
the statistic of the real scores, ``U = #(real > synthetic) + #(real = synthetic) / 2`` over all pairs,
and the effect size is the rank-biserial correlation (D. S. Kerby, "The simple difference formula",
Compr. Psychol. 2014)

    rank_biserial = 2 U / (n_real n_synthetic) - 1

in [-1, 1]: positive when real images are rated higher, 0 when neither kind tends to score higher. The
scores of one rater are not independent of each other, so treat ``p`` as descriptive when a few raters
gave most scores.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.frames import TABLE_CONFIDENCE, require_columns
from evaluation.turing import require_labels

# Below this many scores on either side the test has too little power to say anything either way.
FEWEST_FOR_TEST = 5
SUMMARY_COLUMNS = ["n", "mean", "sd", "low", "high", "median"]


def numeric_scores(ratings, column):
    """``ratings[column]`` as numbers (missing values as NaN); ``ValueError`` when a value is not a number."""
    try:
        return pd.to_numeric(ratings[column])
    except (TypeError, ValueError) as error:
        raise ValueError(f"column {column} must hold numeric scores: {error}") from error


def describe_scores(scores):
    """``n, mean, sd, low, high, median`` of the finite values of ``scores``, the t-based CI of the mean."""
    values = np.asarray(scores, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    summary = dict.fromkeys(SUMMARY_COLUMNS, math.nan) | {"n": n}
    if n == 0:
        return summary
    summary["mean"], summary["median"] = float(values.mean()), float(np.median(values))
    if n >= 2:
        sd = float(values.std(ddof=1))
        half_width = float(stats.t.ppf(1 - (1 - TABLE_CONFIDENCE) / 2, n - 1)) * sd / math.sqrt(n)
        summary.update(sd=sd, low=summary["mean"] - half_width, high=summary["mean"] + half_width)
    return summary


def quality_summary(ratings, by):
    """``n, mean, sd, low, high, median`` of the quality scores per group of the column(s) ``by``, sorted."""
    by = [by] if isinstance(by, str) else list(by)
    require_columns(ratings, ["quality", *by])
    scores = numeric_scores(ratings, "quality")
    rows = [
        dict(zip(by, keys, strict=True)) | describe_scores(part)
        for keys, part in scores.groupby([ratings[column] for column in by], sort=True, dropna=False)
    ]
    return pd.DataFrame(rows, columns=[*by, *SUMMARY_COLUMNS])


def quality_by_kind(ratings):
    """Quality of real against synthetic images: a summary of each, Mann-Whitney U, p and rank-biserial r."""
    require_columns(ratings, ["truth", "quality"])
    require_labels(ratings, ["truth"])
    scores = numeric_scores(ratings, "quality")
    real = scores[ratings["truth"] == "real"].dropna().to_numpy(dtype=float)
    synthetic = scores[ratings["truth"] == "synthetic"].dropna().to_numpy(dtype=float)
    result = {
        "real": describe_scores(real),
        "synthetic": describe_scores(synthetic),
        "mann_whitney_u": math.nan,
        "p": math.nan,
        "rank_biserial": math.nan,
        "note": "",
    }
    if len(real) and len(synthetic):
        test = stats.mannwhitneyu(real, synthetic, alternative="two-sided")
        result.update(
            mann_whitney_u=float(test.statistic),
            p=float(test.pvalue),
            rank_biserial=float(2 * test.statistic / (len(real) * len(synthetic)) - 1),
        )
    if min(len(real), len(synthetic)) < FEWEST_FOR_TEST:
        result["note"] = f"too few ratings to compare (real n={len(real)}, synthetic n={len(synthetic)})"
    return result
