"""How well each set-level image-quality metric agrees with the clinicians' mean quality score of the set.

The reference study fitted spreadsheet trendlines (linear and ``y = a ln(x) + b``) of the mean clinician
quality score of its 20 synthetic sets against each metric. This module does that with estimates,
confidence intervals and a correction for testing many metrics at once; `evaluation.image_level` relates
the per-image metrics to every single rating instead of set means.

Input: a DataFrame ``sets`` with one row per synthetic set, one column per set metric (FID, KID, PSNR in
dB, MI in bits, LBP elements V0..V255 in percentage points, precision, recall, ...; any units) and the
outcome column (default ``mean_quality``, the mean 1-5 quality score of the set's rated images). For each
metric the sets where the metric or the outcome is not finite (NaN, or the +inf PSNR of a copied image)
are dropped and ``n`` is counted after that.

* Pearson's r (K. Pearson 1895), ``scipy.stats.pearsonr`` (exact p under bivariate normality), with the
  Fisher (1915) z interval::

      z = atanh(r),   se = 1 / sqrt(n - 3),   CI = tanh(z -/+ q se),   q = Phi^-1(1 - (1 - confidence) / 2)

* Spearman's rho (C. Spearman 1904), ``scipy.stats.spearmanr``, with the Fisher z interval and the
  variance of D. G. Bonett, T. A. Wright, "Sample size requirements for estimating Pearson, Kendall and
  Spearman correlations", Psychometrika 2000::

      se = sqrt((1 + rho^2 / 2) / (n - 3))

  Its p for n <= 9 (``EXACT_SPEARMAN_MAX_N``) is exact: the share of all n! pairings of the two rankings
  whose |rho| is at least the observed one, the permutation distribution of rho under independence
  (M. G. Kendall, J. D. Gibbons, "Rank Correlation Methods", 5th ed. 1990, ch. 4 and its tables)::

      p = #{pi : |sum_i a_i b_pi(i)| >= |sum_i a_i b_i|} / n!,   a, b = centred average ranks of x and y

  Ties are kept by permuting the average ranks (the permutation distribution given the ties). The n! rows of
  permuted outcome ranks are built once per outcome and reused for every metric (one matrix-vector product
  each). scipy's t approximation, ``t = rho sqrt((n - 2) / (1 - rho^2))``, is far too small there: 0 for a
  perfect order, where the exact p is 2 / n! (1/60 for 5 sets). Above 9 points scipy's p is kept.
  When |r| or |rho| is 1 (to 1e-12) atanh is infinite and the Fisher interval is undefined: low and high are
  NaN. Both need n >= 3 for the estimate and n >= 4 for the interval (NaN otherwise), and NaN for a
  constant variable.
* OLS of the outcome on the metric (``statsmodels`` OLS; slope CI from the t distribution with n - 2
  degrees of freedom, ``p`` the slope's t test) and, when every x > 0, the reference study's logarithmic
  trendline ``y = a ln(x) + b``: the same OLS on ``ln(x)`` (``log_a``, ``log_b``, ``log_r_squared``,
  ``log_p``), which is what a spreadsheet's logarithmic trendline computes. Both need n >= 3.
* Holm's step-down correction (S. Holm, "A simple sequentially rejective multiple test procedure",
  Scand. J. Statist. 1979; `evaluation.frames.holm`, the values of
  ``statsmodels.stats.multitest.multipletests(method="holm")``) over every metric row that has a p-value:
  ``spearman_p`` -> ``spearman_p_holm``, ``p`` -> ``p_holm``. Rows without a p-value (constant metric,
  fewer than 3 sets) are not tests and are not counted (`evaluation.frames.untested` with
  ``SET_LEVEL_TESTS``).

`set_level_table` returns one row per metric, sorted by ``|spearman_rho|`` (the ranking of which metric
agrees best with the clinicians), with a one-sentence ``conclusion`` that does not claim more than the
interval allows, checked in this order: ``too few sets (n=3)`` (n < 4), ``constant metric``, ``constant
outcome``; for |rho| = 1, where there is no interval, ``negative association, CI undefined (perfect rank
order, n=5)`` when the exact p < 0.05 and ``CI undefined (perfect negative rank order, n=4)`` otherwise;
``CI too wide to conclude (width 1.2)`` (rho interval wider than 1; such an interval always covers 0),
``no evidence of association (95% CI of rho covers 0)``, else ``positive association`` or ``negative
association``. Each association gets `` (survives Holm)`` when ``spearman_p_holm < 0.05``: with 5 sets a
perfect order has p = 1/60 and survives Holm only when tested (nearly) alone. `fit_band` gives the OLS
line (or log curve) with its pointwise confidence band for the scatter plot.
"""

import functools
import itertools
import math

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from evaluation.frames import TABLE_CONFIDENCE, holm, is_constant, normal_quantile, numbers, require_columns
from evaluation.least_squares import ols, with_intercept

SET_COLUMNS = [
    "metric",
    "n",
    "slope",
    "slope_low",
    "slope_high",
    "intercept",
    "r_squared",
    "p",
    "pearson_r",
    "pearson_low",
    "pearson_high",
    "pearson_p",
    "spearman_rho",
    "spearman_low",
    "spearman_high",
    "spearman_p",
    "log_a",
    "log_b",
    "log_r_squared",
    "log_p",
    "p_holm",
    "spearman_p_holm",
    "conclusion",
]
# The p-values of the table's tests: a row with none of them is no test (`evaluation.frames.untested`).
SET_LEVEL_TESTS = ("spearman_p", "p")
MIN_POINTS_FOR_ESTIMATE = 3
MIN_POINTS_FOR_INTERVAL = 4
# Up to 9 points Spearman's p is exact over all n! pairings (9! = 362,880 rows of 9 ranks, 26 MB); above,
# scipy's t approximation is close enough and the enumeration would not fit in memory for long.
EXACT_SPEARMAN_MAX_N = 9
PERFECT_CORRELATION_TOLERANCE = 1e-12


def _finite_pairs(x, y):
    x, y = numbers(x), numbers(y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    finite = np.isfinite(x) & np.isfinite(y)
    return x[finite], y[finite]


def _snap_perfect(correlation):
    """+-1 for a correlation within rounding of it (scipy returns 0.9999999999999999 for a perfect order)."""
    return math.copysign(1.0, correlation) if abs(correlation) > 1.0 - PERFECT_CORRELATION_TOLERANCE else correlation


def _fisher_interval(correlation, n, variance_numerator, confidence):
    # |r| = 1 maps to an infinite z: the interval would collapse to [r, r], which no finite sample supports.
    if n < MIN_POINTS_FOR_INTERVAL or abs(correlation) == 1.0:
        return np.nan, np.nan
    half_width = normal_quantile(confidence) * np.sqrt(variance_numerator / (n - 3))
    z = np.arctanh(correlation)
    return float(np.tanh(z - half_width)), float(np.tanh(z + half_width))


@functools.lru_cache(maxsize=2)
def _permuted_centred_ranks(outcome_ranks):
    """Every permutation of the centred outcome ranks, one per row: shape (n!, n)."""
    n = len(outcome_ranks)
    orders = np.fromiter(
        itertools.chain.from_iterable(itertools.permutations(range(n))), dtype=np.int8, count=n * math.factorial(n)
    ).reshape(-1, n)
    centred = np.asarray(outcome_ranks) - np.mean(outcome_ranks)
    return centred[orders]


def _exact_spearman_p(x, y):
    """Two-sided p of Spearman's rho from all n! pairings of the average ranks (module docstring)."""
    x_ranks = stats.rankdata(x)
    centred_x = x_ranks - x_ranks.mean()
    permuted = _permuted_centred_ranks(tuple(stats.rankdata(y)))
    observed = abs(centred_x @ permuted[0])  # the first permutation is the identity
    # Sums of products of half-integer ranks are exact in floating point; the tolerance only guards the
    # comparison of equal sums against any rounding.
    tolerance = 1e-9 * np.sqrt((centred_x @ centred_x) * (permuted[0] @ permuted[0]))
    return float(np.mean(np.abs(permuted @ centred_x) >= observed - tolerance))


def pearson(x, y, confidence=0.95):
    """Pearson's r of the finite pairs with its Fisher z interval: ``{r, low, high, p, n}``."""
    x, y = _finite_pairs(x, y)
    n = len(x)
    if n < MIN_POINTS_FOR_ESTIMATE or is_constant(x) or is_constant(y):
        return {"r": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "n": n}
    result = stats.pearsonr(x, y)
    r = _snap_perfect(float(result.statistic))
    low, high = _fisher_interval(r, n, 1.0, confidence)
    return {"r": r, "low": low, "high": high, "p": float(result.pvalue), "n": n}


def spearman(x, y, confidence=0.95):
    """Spearman's rho of the finite pairs with its Bonett-Wright Fisher z interval: ``{rho, low, high, p, n}``.

    ``p`` is the exact permutation p for n <= ``EXACT_SPEARMAN_MAX_N``, scipy's t approximation above.
    """
    x, y = _finite_pairs(x, y)
    n = len(x)
    if n < MIN_POINTS_FOR_ESTIMATE or is_constant(x) or is_constant(y):
        return {"rho": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "n": n}
    result = stats.spearmanr(x, y)
    rho = _snap_perfect(float(result.statistic))
    low, high = _fisher_interval(rho, n, 1.0 + rho**2 / 2.0, confidence)
    p = _exact_spearman_p(x, y) if n <= EXACT_SPEARMAN_MAX_N else float(result.pvalue)
    return {"rho": rho, "low": low, "high": high, "p": p, "n": n}


def _set_conclusion(row):
    if row["n"] < MIN_POINTS_FOR_INTERVAL:
        return f"too few sets (n={row['n']})"
    if row["constant_metric"]:
        return "constant metric"
    if not np.isfinite(row["spearman_rho"]):
        return "constant outcome"
    direction = "positive" if row["spearman_rho"] > 0 else "negative"
    if abs(row["spearman_rho"]) == 1.0:
        # No interval to read: the exact p decides instead (a perfect order of 4 sets has p = 1/12).
        if not row["spearman_p"] < 0.05:
            return f"CI undefined (perfect {direction} rank order, n={row['n']})"
        conclusion = f"{direction} association, CI undefined (perfect rank order, n={row['n']})"
        return conclusion + (" (survives Holm)" if row["spearman_p_holm"] < 0.05 else "")
    # Width first: an interval within [-1, 1] that excludes 0 is never wider than 1, and an interval as wide
    # as [-0.2, 0.9] says the data cannot tell, not that there is no association.
    width = row["spearman_high"] - row["spearman_low"]
    if width > 1.0:
        return f"CI too wide to conclude (width {width:.1f})"
    if row["spearman_low"] <= 0.0 <= row["spearman_high"]:
        return "no evidence of association (95% CI of rho covers 0)"
    return f"{direction} association" + (" (survives Holm)" if row["spearman_p_holm"] < 0.05 else "")


def _set_row(metric, x, y, log_fit):
    n = len(x)
    constant = is_constant(x)
    row = {"metric": metric, "n": n, "constant_metric": constant}
    line = (np.nan,) * 6
    logarithmic = (np.nan,) * 6
    if n >= MIN_POINTS_FOR_ESTIMATE and not constant:
        line = ols(x, y, TABLE_CONFIDENCE)
        if log_fit and (x > 0).all() and not is_constant(np.log(x)):
            logarithmic = ols(np.log(x), y, TABLE_CONFIDENCE)
    row.update(zip(["slope", "slope_low", "slope_high", "intercept", "r_squared", "p"], line, strict=True))
    linear_r = pearson(x, y, TABLE_CONFIDENCE)
    rank_rho = spearman(x, y, TABLE_CONFIDENCE)
    row.update({f"pearson_{key}": linear_r[key] for key in ("r", "low", "high", "p")})
    row.update({f"spearman_{key}": rank_rho[key] for key in ("rho", "low", "high", "p")})
    slope_a, _, _, intercept_b, r_squared, p = logarithmic
    row.update({"log_a": slope_a, "log_b": intercept_b, "log_r_squared": r_squared, "log_p": p})
    return row


def set_level_table(sets, metrics, outcome="mean_quality", log_fit=True):
    """One row per metric: OLS, Pearson, Spearman and log fit of ``outcome`` on it, Holm-corrected, ranked.

    ``sets`` has one row per synthetic set; see the module docstring for every column.
    """
    metrics = list(metrics)
    require_columns(sets, [*metrics, outcome], name="set table")
    outcome_values = numbers(sets[outcome])
    rows = [_set_row(metric, *_finite_pairs(sets[metric], outcome_values), log_fit) for metric in metrics]
    table = pd.DataFrame(rows, columns=[*SET_COLUMNS[:-3], "constant_metric"])
    table["p_holm"] = holm(table["p"])
    table["spearman_p_holm"] = holm(table["spearman_p"])
    table["conclusion"] = [_set_conclusion(row) for _, row in table.iterrows()] if len(table) else []
    table["n"] = table["n"].astype(np.int64)
    strength = table["spearman_rho"].abs()
    order = strength.sort_values(ascending=False, na_position="last", kind="stable").index
    return table.loc[order, SET_COLUMNS].reset_index(drop=True)


def fit_band(x, y, points=100, confidence=0.95, log=False):
    """OLS mean prediction ``fit`` with its ``low``/``high`` confidence band on ``points`` x values spanning x.

    ``log=True`` fits the reference study's ``y = a ln(x) + b`` (every x must be > 0). Non-finite pairs are
    dropped; fewer than 3 pairs or a constant x raise ValueError.
    """
    x, y = _finite_pairs(x, y)
    if len(x) < MIN_POINTS_FOR_ESTIMATE:
        raise ValueError(f"a fit band needs at least {MIN_POINTS_FOR_ESTIMATE} finite pairs, got {len(x)}")
    if is_constant(x):
        raise ValueError("x is constant: no line can be fitted")
    if log and (x <= 0).any():
        raise ValueError("the logarithmic fit needs every x > 0")
    transform = np.log if log else np.asarray
    grid = np.linspace(x.min(), x.max(), points)
    fit = sm.OLS(y, with_intercept(transform(x))).fit()
    band = fit.get_prediction(with_intercept(transform(grid))).summary_frame(alpha=1.0 - confidence)
    return pd.DataFrame(
        {
            "x": grid,
            "fit": band["mean"].to_numpy(),
            "low": band["mean_ci_lower"].to_numpy(),
            "high": band["mean_ci_upper"].to_numpy(),
        }
    )
