"""How well each image-quality metric agrees with clinicians' quality ratings, per set and per image.

The reference study fitted spreadsheet trendlines (linear and ``y = a ln(x) + b``) of the mean clinician
quality score of its 20 synthetic sets against each metric. This module does that with estimates,
confidence intervals and a correction for testing many metrics at once, and adds an image-level analysis
that uses every single rating instead of set means.

Set level
---------
Input: a DataFrame ``sets`` with one row per synthetic set, one column per set metric (FID, KID, PSNR in
dB, MI in bits, LBP elements V0..V255 in percentage points, precision, recall, ...; any units) and the
outcome column (default ``mean_quality``, the mean 1-5 quality score of the set's rated images). For each
metric the sets where the metric or the outcome is not finite (NaN, or the +inf PSNR of a copied image)
are dropped and ``n`` is counted after that.

* Pearson's r (K. Pearson 1895), ``scipy.stats.pearsonr`` (exact p under bivariate normality), with the
  Fisher (1915) z interval::

      z = atanh(r),   se = 1 / sqrt(n - 3),   CI = tanh(z -/+ q se),   q = Phi^-1(1 - (1 - confidence) / 2)

* Spearman's rho (C. Spearman 1904), ``scipy.stats.spearmanr`` (p from the t approximation), with the
  Fisher z interval and the variance of D. G. Bonett, T. A. Wright, "Sample size requirements for
  estimating Pearson, Kendall and Spearman correlations", Psychometrika 2000::

      se = sqrt((1 + rho^2 / 2) / (n - 3))

  Both need n >= 3 for the estimate and n >= 4 for the interval (NaN otherwise), and NaN for a constant
  variable.
* OLS of the outcome on the metric (``statsmodels`` OLS; slope CI from the t distribution with n - 2
  degrees of freedom, ``p`` the slope's t test) and, when every x > 0, the reference study's logarithmic
  trendline ``y = a ln(x) + b``: the same OLS on ``ln(x)`` (``log_a``, ``log_b``, ``log_r_squared``,
  ``log_p``), which is what a spreadsheet's logarithmic trendline computes. Both need n >= 3.
* Holm's step-down correction (S. Holm, "A simple sequentially rejective multiple test procedure",
  Scand. J. Statist. 1979; ``statsmodels.stats.multitest.multipletests(method="holm")``) over every metric
  row that has a p-value: ``spearman_p`` -> ``spearman_p_holm``, ``p`` -> ``p_holm``. Rows without a
  p-value (constant metric, fewer than 3 sets) are not tests and are not counted.

`set_level_table` returns one row per metric, sorted by ``|spearman_rho|`` (the ranking of which metric
agrees best with the clinicians), with a one-sentence ``conclusion`` that does not claim more than the
interval allows, checked in this order: ``too few sets (n=3)`` (n < 4), ``constant metric``, ``constant
outcome``, ``CI too wide to conclude (width 1.2)`` (rho interval wider than 1; such an interval always
covers 0), ``no evidence of association (95% CI of rho covers 0)``, else ``positive association`` or
``negative association``, with `` (survives Holm)`` when ``spearman_p_holm < 0.05``. `fit_band` gives
the OLS line (or log curve) with its pointwise confidence band for the scatter plot.

Image level (beyond the reference study)
----------------------------------------
Input: a DataFrame ``ratings`` with one row per rating of a synthetic image: the rater id, the quality
score (1-5), ``called_real`` (1 when the rater answered "real", 0 for "synthetic"), optionally the image
id (``item``), and one column per per-image metric (``psnr_mean_db``, ``psnr_nearest_db``, MI, LBP
chi-square, ``lbp_V0..lbp_V255``, nearest-real distances, ...). A row is used for a metric when the metric,
the quality, ``called_real`` and the rater are all present and finite. The metric is standardised over
those rows, ``z = (x - mean) / SD`` (sample SD, ddof = 1), so both effects are per SD of the metric.

* Linear mixed model with a random intercept per rater (N. M. Laird, J. H. Ware, "Random-effects models
  for longitudinal data", Biometrics 1982), fitted by REML, as ``statsmodels`` MixedLM fits it::

      quality_ij = b0 + b1 z_ij + u_i + e_ij,   u_i ~ N(0, g s^2),   e_ij ~ N(0, s^2)

  ``mixed_slope`` = b1 (quality points per SD of the metric), Wald interval and p from the normal
  distribution with the standard error from the inverse observed information, as MixedLM reports them.
* Logistic GEE for P(called real) (K.-Y. Liang, S. L. Zeger, "Longitudinal data analysis using generalized
  linear models", Biometrika 1986; ``statsmodels`` GEE, binomial family, exchangeable working correlation
  within rater, robust sandwich covariance, up to 300 iterations instead of 60, see
  ``GEE_MAX_ITERATIONS``): ``odds_ratio`` = exp(slope), the odds of "real" per SD.
  The sandwich covariance is estimated from the raters as clusters; with few raters (the usual 3) it is
  itself imprecise (Mancl & DeRouen 2001 recommend a small-sample correction below about 40 clusters), so
  read its interval as approximate.
* With a single rater neither model is defined: OLS (t interval) and a plain logistic regression
  (``statsmodels`` GLM, binomial, model-based covariance) are fitted instead, and ``note`` says so.
* Holm's correction over the metric rows, separately for ``mixed_p`` and ``logistic_p``.

A constant metric, an outcome that does not vary, perfect separation of "real" and "synthetic" answers
by the metric (the logistic estimate is then infinite), a fit that does not converge or a singular
information matrix give NaN for that model with the reason in ``note``; warnings are collected into
``note`` rather than emitted.

Speed. Measured on the two-core development machine for 270 metrics x 600 ratings x 3 raters, statsmodels
MixedLM took 6 ms per metric (1.7 s) when the rater variance was clearly positive and 33 ms per metric
(8.9 s, with hundreds of warnings) when it was near zero, where its optimisers retry at the boundary. The
random-intercept model has a closed form given the variance ratio ``g``: with ``n_i`` ratings by rater
``i``, ``V_i = s^2 (I + g J)`` and ``V_i^-1 = (I - w_i J) / s^2`` with ``w_i = g / (1 + n_i g)``, so the REML
objective profiled over ``b`` and ``s^2``::

      l(g) = -1/2 [ (N - 2) log Q(g) + sum_i log(1 + n_i g) + log det M(g) ]
      M(g) = X'X - sum_i w_i s_i s_i',   c(g) = X'y - sum_i w_i s_i Y_i,   s_i = (n_i, sum_j z_ij)'
      b(g) = M(g)^-1 c(g),   Q(g) = y'y - sum_i w_i Y_i^2 - b(g)' c(g),   Y_i = sum_j quality_ij

needs only each rater's count and sums of z and quality. ``g`` is maximised on a log grid, refined by
bounded Brent, and the boundary ``g = 0`` is a candidate; the standard errors come from the same observed
Hessian of the REML objective in (b, g) that MixedLM inverts (its fixed-effect/variance cross terms matter
when raters saw images of different mean metric). At the boundary ``g = 0`` that Hessian is not an
information matrix (MixedLM warns there); the model is then OLS with the REML variance and the covariance
of ``b`` is ``s^2 (X'X)^-1``, noted as ``rater variance estimated at 0``. This reproduces MixedLM's
estimates to its optimiser's tolerance (about 1e-7) in 1 ms per metric; GEE is statsmodels' own (2.4 ms
per metric). The whole image-level table took 1.0 s for 270 metrics x 600 ratings x 3 raters and 1.7 s for
270 x 2000 x 10 raters; the set-level table 0.4 s for 270 metrics x 20 sets.
"""

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.genmod.cov_struct import Exchangeable
from statsmodels.stats.multitest import multipletests
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError

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
IMAGE_COLUMNS = [
    "metric",
    "n_ratings",
    "n_images",
    "n_raters",
    "mixed_slope",
    "mixed_low",
    "mixed_high",
    "mixed_p",
    "odds_ratio",
    "odds_ratio_low",
    "odds_ratio_high",
    "logistic_p",
    "mixed_p_holm",
    "logistic_p_holm",
    "note",
]
MIN_POINTS_FOR_ESTIMATE = 3
MIN_POINTS_FOR_INTERVAL = 4
MIN_RATINGS = 4
TABLE_CONFIDENCE = 0.95
# Search range of the variance ratio g = rater variance / residual variance: from negligible to a rater
# effect thousands of times the rating noise.
LOG_VARIANCE_RATIO_GRID = np.arange(-14.0, 12.01, 0.5)
# statsmodels' default of 60 GEE iterations is too few when a rater gives ~200 ratings and the estimated
# exchangeable correlation sits near its lower bound -1 / (n_i - 1): the iteration then converges slowly
# (up to ~130 iterations in simulations of 3 raters x 200 ratings).
GEE_MAX_ITERATIONS = 300
FIT_ERRORS = (np.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError, PerfectSeparationError)


def _require_columns(frame, columns):
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"columns not in the table: {', '.join(map(str, missing))}")


def _numbers(values):
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def _finite_pairs(x, y):
    x, y = _numbers(x), _numbers(y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    finite = np.isfinite(x) & np.isfinite(y)
    return x[finite], y[finite]


def _is_constant(values):
    # Exact comparison: a standard deviation of identical floats can come out as 1e-17 instead of 0.
    return len(values) == 0 or values.max() == values.min()


def _normal_quantile(confidence):
    return stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0)


def _fisher_interval(correlation, n, variance_numerator, confidence):
    if n < MIN_POINTS_FOR_INTERVAL or not np.isfinite(correlation):
        return np.nan, np.nan
    half_width = _normal_quantile(confidence) * np.sqrt(variance_numerator / (n - 3))
    with np.errstate(divide="ignore"):  # |r| = 1 maps to an infinite z and back to the interval [r, r]
        z = np.arctanh(correlation)
    return float(np.tanh(z - half_width)), float(np.tanh(z + half_width))


def pearson(x, y, confidence=0.95):
    """Pearson's r of the finite pairs with its Fisher z interval: ``{r, low, high, p, n}``."""
    x, y = _finite_pairs(x, y)
    n = len(x)
    if n < MIN_POINTS_FOR_ESTIMATE or _is_constant(x) or _is_constant(y):
        return {"r": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "n": n}
    result = stats.pearsonr(x, y)
    r = float(result.statistic)
    low, high = _fisher_interval(r, n, 1.0, confidence)
    return {"r": r, "low": low, "high": high, "p": float(result.pvalue), "n": n}


def spearman(x, y, confidence=0.95):
    """Spearman's rho of the finite pairs with its Bonett-Wright Fisher z interval: ``{rho, low, high, p, n}``."""
    x, y = _finite_pairs(x, y)
    n = len(x)
    if n < MIN_POINTS_FOR_ESTIMATE or _is_constant(x) or _is_constant(y):
        return {"rho": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "n": n}
    result = stats.spearmanr(x, y)
    rho = float(result.statistic)
    low, high = _fisher_interval(rho, n, 1.0 + rho**2 / 2.0, confidence)
    return {"rho": rho, "low": low, "high": high, "p": float(result.pvalue), "n": n}


def _design(regressor):
    # Built by hand: sm.add_constant skips the constant when the regressor itself looks constant.
    return np.column_stack([np.ones(len(regressor)), regressor])


def _ols(regressor, outcome, confidence):
    """``(slope, low, high, intercept, r_squared, p)`` of the OLS of ``outcome`` on ``regressor``."""
    fit = sm.OLS(outcome, _design(regressor)).fit()
    low, high = fit.conf_int(alpha=1.0 - confidence)[1]
    return (
        float(fit.params[1]),
        float(low),
        float(high),
        float(fit.params[0]),
        float(fit.rsquared),
        float(fit.pvalues[1]),
    )


def _holm(p_values):
    """Holm-adjusted p over the finite entries; NaN stays NaN."""
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p_values.shape, np.nan)
    tested = np.isfinite(p_values)
    if tested.any():
        adjusted[tested] = multipletests(p_values[tested], method="holm")[1]
    return adjusted


def _set_conclusion(row):
    if row["n"] < MIN_POINTS_FOR_INTERVAL:
        return f"too few sets (n={row['n']})"
    if row["constant_metric"]:
        return "constant metric"
    if not np.isfinite(row["spearman_rho"]):
        return "constant outcome"
    # Width first: an interval within [-1, 1] that excludes 0 is never wider than 1, and an interval as wide
    # as [-0.2, 0.9] says the data cannot tell, not that there is no association.
    width = row["spearman_high"] - row["spearman_low"]
    if width > 1.0:
        return f"CI too wide to conclude (width {width:.1f})"
    if row["spearman_low"] <= 0.0 <= row["spearman_high"]:
        return "no evidence of association (95% CI of rho covers 0)"
    direction = "positive association" if row["spearman_rho"] > 0 else "negative association"
    return direction + (" (survives Holm)" if row["spearman_p_holm"] < 0.05 else "")


def _set_row(metric, x, y, log_fit):
    n = len(x)
    constant = _is_constant(x)
    row = {"metric": metric, "n": n, "constant_metric": constant}
    line = (np.nan,) * 6
    logarithmic = (np.nan,) * 6
    if n >= MIN_POINTS_FOR_ESTIMATE and not constant:
        line = _ols(x, y, TABLE_CONFIDENCE)
        if log_fit and (x > 0).all() and not _is_constant(np.log(x)):
            logarithmic = _ols(np.log(x), y, TABLE_CONFIDENCE)
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
    _require_columns(sets, [*metrics, outcome])
    outcome_values = _numbers(sets[outcome])
    rows = [_set_row(metric, *_finite_pairs(sets[metric], outcome_values), log_fit) for metric in metrics]
    table = pd.DataFrame(rows, columns=[*SET_COLUMNS[:-3], "constant_metric"])
    table["p_holm"] = _holm(table["p"])
    table["spearman_p_holm"] = _holm(table["spearman_p"])
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
    if _is_constant(x):
        raise ValueError("x is constant: no line can be fitted")
    if log and (x <= 0).any():
        raise ValueError("the logarithmic fit needs every x > 0")
    transform = np.log if log else np.asarray
    grid = np.linspace(x.min(), x.max(), points)
    fit = sm.OLS(y, _design(transform(x))).fit()
    band = fit.get_prediction(_design(transform(grid))).summary_frame(alpha=1.0 - confidence)
    return pd.DataFrame(
        {
            "x": grid,
            "fit": band["mean"].to_numpy(),
            "low": band["mean_ci_lower"].to_numpy(),
            "high": band["mean_ci_upper"].to_numpy(),
        }
    )


class _FitFailed(Exception):
    """A model could not be estimated; the message goes to the row's note."""


def _run_quietly(fit):
    """``fit()`` with warnings turned into text: ``(result, messages)``; raises _FitFailed on failure."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            result = fit()
        except FIT_ERRORS as error:
            raise _FitFailed(f"{type(error).__name__}: {error}") from error
    messages = list(dict.fromkeys(str(warning.message).strip() for warning in caught))
    if any(issubclass(warning.category, ConvergenceWarning) for warning in caught):
        raise _FitFailed("did not converge (" + "; ".join(messages) + ")")
    return result, messages


def _random_intercept_reml(z, quality, rater_codes, confidence):
    """REML random-intercept model by the closed form of the module docstring: ``(slope, low, high, p, notes)``."""
    counts = np.bincount(rater_codes).astype(np.float64)
    group_sums = np.stack([counts, np.bincount(rater_codes, weights=z)])  # s_i, shape (2, raters)
    quality_sums = np.bincount(rater_codes, weights=quality)
    design = _design(z)
    cross_design = design.T @ design
    cross_outcome = design.T @ quality
    outcome_square = quality @ quality
    residual_dof = len(quality) - 2

    def solve(ratio):
        """GLS pieces for each variance ratio in the 1-D array ``ratio``."""
        weight = ratio[:, None] / (1.0 + ratio[:, None] * counts)
        information = cross_design - np.einsum("kg,ag,bg->kab", weight, group_sums, group_sums)
        score = cross_outcome - np.einsum("kg,ag,g->ka", weight, group_sums, quality_sums)
        coefficients = np.linalg.solve(information, score[..., None])[..., 0]
        residual_square = outcome_square - weight @ quality_sums**2 - np.einsum("ka,ka->k", coefficients, score)
        return information, coefficients, residual_square

    def profile(ratio):
        information, _, residual_square = solve(ratio)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = -0.5 * (
                residual_dof * np.log(residual_square)
                + np.log1p(ratio[:, None] * counts).sum(axis=1)
                + np.linalg.slogdet(information)[1]
            )
        return np.where(np.isfinite(value), value, -np.inf)

    grid = np.concatenate([[0.0], np.exp(LOG_VARIANCE_RATIO_GRID)])
    best = int(np.argmax(profile(grid)))
    low_ratio, high_ratio = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    refined = optimize.minimize_scalar(
        lambda ratio: -profile(np.array([ratio]))[0],
        bounds=(low_ratio, high_ratio),
        method="bounded",
        options={"xatol": 1e-10 * high_ratio},
    )
    # Brent never evaluates the bracket's ends, and the optimum can be the boundary g = 0.
    candidates = np.array([low_ratio, refined.x, high_ratio])
    ratio = float(candidates[np.argmax(profile(candidates))])
    notes = []
    if ratio == 0.0:
        notes.append("rater variance estimated at 0 (same as OLS)")
    elif ratio == grid[-1]:
        notes.append("rater variance at the search limit")

    information, coefficients, residual_square = solve(np.array([ratio]))
    information, coefficients, residual_square = information[0], coefficients[0], float(residual_square[0])
    if not residual_square > 0:
        raise _FitFailed("quality is fitted exactly: no residual variance")
    shrink = 1.0 + ratio * counts
    weight_first = 1.0 / shrink**2  # d w_i / d g
    weight_second = -2.0 * counts / shrink**3  # d^2 w_i / d g^2
    rater_residuals = quality_sums - coefficients @ group_sums
    # Observed Hessian of the REML objective in (b0, b1, g) with s^2 profiled out, the matrix MixedLM inverts.
    residual_first = -weight_first @ rater_residuals**2
    residual_second = -weight_second @ rater_residuals**2
    information_first = -np.einsum("g,ag,bg->ab", weight_first, group_sums, group_sums)
    information_second = -np.einsum("g,ag,bg->ab", weight_second, group_sums, group_sums)
    inverse_information = np.linalg.inv(information)
    hessian = np.empty((3, 3))
    hessian[:2, :2] = -residual_dof * information / residual_square
    hessian[:2, 2] = hessian[2, :2] = -residual_dof * group_sums @ (weight_first * rater_residuals) / residual_square
    hessian[2, 2] = (
        -0.5 * residual_dof * (residual_second / residual_square - (residual_first / residual_square) ** 2)
        + 0.5 * np.sum(counts**2 / shrink**2)
        - 0.5 * np.trace(inverse_information @ information_second)
        + 0.5 * np.trace(inverse_information @ information_first @ inverse_information @ information_first)
    )
    # At the boundary g = 0 the objective still rises towards g < 0, so the full Hessian is not an
    # information matrix there; with g fixed at 0 the covariance of b is the OLS one, sigma^2 (X'X)^-1.
    information_matrix = -hessian[:2, :2] if ratio == 0.0 else -hessian
    if not np.all(np.isfinite(information_matrix)) or np.linalg.eigvalsh(information_matrix).min() <= 0:
        raise _FitFailed("REML information matrix is not positive definite")
    covariance = np.linalg.inv(information_matrix)
    slope, standard_error = float(coefficients[1]), float(np.sqrt(covariance[1, 1]))
    half_width = _normal_quantile(confidence) * standard_error
    p = float(2.0 * stats.norm.sf(abs(slope) / standard_error))
    return slope, slope - half_width, slope + half_width, p, notes


def _quality_model(z, quality, rater_codes, single_rater):
    if _is_constant(quality):
        raise _FitFailed("quality does not vary")
    if single_rater:
        (slope, low, high, _, _, p), messages = _run_quietly(lambda: _ols(z, quality, TABLE_CONFIDENCE))
        return slope, low, high, p, messages
    with np.errstate(all="ignore"):
        try:
            return _random_intercept_reml(z, quality, rater_codes, TABLE_CONFIDENCE)
        except FIT_ERRORS as error:
            raise _FitFailed(f"{type(error).__name__}: {error}") from error


def _logistic_model(z, called_real, rater_codes, single_rater):
    answered_real, answered_synthetic = z[called_real == 1], z[called_real == 0]
    if len(answered_synthetic) == 0:
        raise _FitFailed("every rating called real")
    if len(answered_real) == 0:
        raise _FitFailed("no rating called real")
    if answered_real.min() >= answered_synthetic.max() or answered_real.max() <= answered_synthetic.min():
        raise _FitFailed("perfect separation: the metric splits real from synthetic answers, odds ratio infinite")
    design = _design(z)
    family = sm.families.Binomial()
    if single_rater:
        model, fit_options = sm.GLM(called_real, design, family=family), {}
    else:
        model = sm.GEE(called_real, design, groups=rater_codes, family=family, cov_struct=Exchangeable())
        fit_options = {"maxiter": GEE_MAX_ITERATIONS}
    fit, messages = _run_quietly(lambda: model.fit(**fit_options))
    # The robust covariance is computed on first use; a negative variance there is caught just below.
    (low, high), p = _run_quietly(lambda: (fit.conf_int(alpha=1.0 - TABLE_CONFIDENCE)[1], fit.pvalues[1]))[0]
    estimates = np.array([fit.params[1], low, high, p], dtype=np.float64)
    if not np.all(np.isfinite(estimates)):
        raise _FitFailed("non-finite estimate or standard error")
    slope, low, high, p = estimates
    return float(np.exp(slope)), float(np.exp(low)), float(np.exp(high)), float(p), messages


def _image_row(metric, values, base, columns):
    quality, called_real, rater_codes, item_ids = columns
    used = base & np.isfinite(values)
    x = values[used]
    raters, codes = np.unique(rater_codes[used], return_inverse=True)
    row = {
        "metric": metric,
        "n_ratings": int(used.sum()),
        "n_images": pd.Series(item_ids[used]).nunique() if item_ids is not None else np.nan,
        "n_raters": len(raters),
    }
    if row["n_ratings"] < MIN_RATINGS:
        return row | {"note": f"too few ratings (n={row['n_ratings']})"}
    if _is_constant(x):
        return row | {"note": "constant metric"}
    z = (x - x.mean()) / x.std(ddof=1)
    single_rater = len(raters) == 1
    notes = ["one rater: OLS instead of the mixed model, plain logistic (GLM) instead of GEE"] if single_rater else []
    models = (
        ("mixed", ["mixed_slope", "mixed_low", "mixed_high", "mixed_p"], _quality_model, quality[used]),
        (
            "logistic",
            ["odds_ratio", "odds_ratio_low", "odds_ratio_high", "logistic_p"],
            _logistic_model,
            called_real[used],
        ),
    )
    for name, keys, model, outcome in models:
        try:
            *estimates, messages = model(z, outcome, codes, single_rater)
        except _FitFailed as failure:
            notes.append(f"{name}: {failure}")
            continue
        row.update(zip(keys, estimates, strict=True))
        notes.extend(f"{name}: {message}" for message in messages)
    return row | {"note": "; ".join(notes)}


def image_level_table(ratings, metrics, rater="rater", quality="quality", called_real="called_real", item="item"):
    """One row per per-image metric: mixed model for quality and logistic GEE for "called real", per SD.

    ``ratings`` has one row per rating of a synthetic image; ``item`` (optional column) identifies the image
    and is only counted. See the module docstring for the models and every column.
    """
    metrics = list(metrics)
    _require_columns(ratings, [*metrics, rater, quality, called_real])
    rater_codes, _ = pd.factorize(ratings[rater])
    quality_values = _numbers(ratings[quality])
    called_values = _numbers(ratings[called_real])
    base = (rater_codes >= 0) & np.isfinite(quality_values) & np.isfinite(called_values)
    invalid_answers = set(np.unique(called_values[base])) - {0.0, 1.0}
    if invalid_answers:
        raise ValueError(f"column {called_real} must hold 0 or 1, found {sorted(invalid_answers)}")
    item_ids = ratings[item].to_numpy() if item in ratings.columns else None
    columns = (quality_values, called_values, rater_codes, item_ids)
    rows = [_image_row(metric, _numbers(ratings[metric]), base, columns) for metric in metrics]
    table = pd.DataFrame(rows, columns=[column for column in IMAGE_COLUMNS if not column.endswith("_holm")])
    table["mixed_p_holm"] = _holm(table["mixed_p"])
    table["logistic_p_holm"] = _holm(table["logistic_p"])
    table = table.sort_values("mixed_p", na_position="last", kind="stable")
    return table[IMAGE_COLUMNS].reset_index(drop=True)
