"""How well each per-image metric agrees with the clinicians' ratings, rating by rating.

The reference study related metrics only to the mean quality of whole sets (`evaluation.correlation`).
Here every rating of a synthetic image counts: a linear mixed model for its quality score and a logistic
GEE for whether the rater called it real, both per SD of the metric and both clustered on the image.

Input: a DataFrame ``ratings`` with one row per rating of a synthetic image: the rater id, the quality
score (1-5), ``called_real`` (1 when the rater answered "real", 0 for "synthetic"), the image id
(``item``; optional, see the fallback below), and one column per per-image metric (``psnr_mean_db``,
``psnr_nearest_db``, MI, LBP chi-square, ``lbp_V0..lbp_V255``, nearest-real distances, ...). A row is used
for a metric when the metric, the quality, ``called_real``, the rater and the image are all present and
finite. The metric is standardised over those rows, ``z = (x - mean) / SD`` (sample SD, ddof = 1), so both
effects are per SD of the metric.

The metric describes the image, so it is repeated over each image's ratings, and images differ in quality
and realism for many reasons besides any one metric. A model without an image effect treats the R ratings
of an image as R independent pieces of evidence about the metric and its p-values are far too small: in
simulated studies with a metric unrelated to the ratings, a random intercept per rater alone and a logistic
GEE clustered on the few raters (its sandwich covariance needs many clusters) both found the metric
"significant" far more often than alpha (the rates are in bench/README.md). Both models below are
clustered on the image.

* Quality: linear mixed model with crossed random intercepts for rater and image (R. H. Baayen,
  D. J. Davidson, D. M. Bates, "Mixed-effects modeling with crossed random effects for subjects and
  items", J. Mem. Lang. 2008), fitted by REML::

      quality_ij = b0 + b1 z_j + u_i + v_j + e_ij,   u_i ~ N(0, g_r s^2),  v_j ~ N(0, g_v s^2),  e_ij ~ N(0, s^2)

  ``mixed_slope`` = b1 (quality points per SD of the metric). With ``V = s^2 H``, ``H = A + g_r Zr Zr'``
  and the block-diagonal image part ``A = I + g_v Zv Zv'``, ``A^-1 = I - sum_j w_j 1_j 1_j'``,
  ``w_j = g_v / (1 + m_j g_v)`` (m_j ratings of image j), Woodbury's identity and the matrix determinant
  lemma need only per-image sums, per-rater sums and the image x rater count table C::

      P' A^-1 Q = P'Q - sum_j w_j (P'1_j)(1_j'Q),        K = I + g_r Zr' A^-1 Zr   (raters x raters)
      T = B' H^-1 B = B' A^-1 B - g_r (Zr' A^-1 B)' K^-1 (Zr' A^-1 B),   B = [1, z, quality]
      log det H = sum_j log(1 + m_j g_v) + log det K
      M = T[:2, :2],  c = T[:2, 2],  b = M^-1 c,  Q = T[2, 2] - c'b
      l(g_v, g_r) = -1/2 [ (N - 2) log Q + log det H + log det M ]      (REML, s^2 = Q / (N - 2) profiled out)

  Variance components. The rater ratio g_r is estimated once per set of rows used, by REML of the
  intercept-only model (``B = [1, quality]``; 2-D grid, Nelder-Mead in log g, and both boundaries g = 0
  maximised over the other ratio), and reused for every metric with those rows; g_v is then maximised per
  metric (log grid, bounded Brent, boundary g_v = 0). Justification: the metric is constant within an
  image, so it only moves variation between images. In a balanced design (every rater rates every image)
  REML splits into the residual, rater and image strata, g_r and s^2 come from the first two alone, and
  this is exactly the full REML fit with the metric (checked against statsmodels MixedLM with variance
  components for rater and image to 1e-6); when raters rated different subsets it stayed within 1-2% of it in
  the tests. Estimating g_v once as well would be wrong: the metric's share of the image variance
  would stay in g_v and cap the t statistic near sqrt(number of images).
  Inference: ``cov(b) = s^2 M^-1`` at the estimates and t with (number of images - 2) degrees of freedom,
  the between-image residual degrees of freedom of an image-level covariate (the "containment" degrees of
  freedom); in a balanced design with g_v > 0 this is exactly the t test of the regression of image means
  on the metric.
* P(called real): logistic GEE (K.-Y. Liang, S. L. Zeger, "Longitudinal data analysis using generalized
  linear models", Biometrika 1986), binomial family, logit link, exchangeable working correlation within
  image, the image as cluster (many clusters: the robust sandwich covariance is usable), fixed effects
  (dummies) for the raters, normal Wald interval and p: ``odds_ratio`` = exp(b1), the odds of "real" per SD
  of the metric, population-averaged over images. It follows statsmodels' GEE step for step (start at the
  plain logistic fit; Gauss-Newton updates; the moment estimate of the exchangeable correlation with the
  Pearson scale on N - p degrees of freedom and N_pairs - p for the correlation; stop when the score norm
  before an update is below 1e-6 after at least one correlation update; up to 300 iterations instead of 60,
  see ``GEE_MAX_ITERATIONS``) and reproduces it to 1e-8, but sums over clusters with ``bincount`` instead of
  looping over them (timings in bench/README.md). A rater who gave one answer throughout has an infinite
  fixed effect and no information on the slope and is left out of this model (noted). With no more pairs
  of ratings of the same image than parameters (every image rated once) the correlation cannot be
  estimated and the independence working correlation is used (noted).
* Without an ``item`` column neither model can have an image effect: the quality model is the random
  intercept per rater (N. M. Laird, J. H. Ware, Biometrics 1982) as statsmodels MixedLM fits it (normal
  Wald interval, standard error from the observed REML information in (b, g), see below) and the GEE is
  clustered by rater without rater dummies; ``note`` says the p-values are then too small.
* With a single rater neither model is defined: OLS (t interval) and a plain logistic regression
  (``statsmodels`` GLM, binomial, model-based covariance) are fitted instead, and ``note`` says so.
* Holm's correction (S. Holm, Scand. J. Statist. 1979; `evaluation.frames.holm`) over the metric rows,
  separately for ``mixed_p`` and ``logistic_p``; rows where neither model gave a p-value are no tests
  (`evaluation.frames.untested` with ``IMAGE_LEVEL_TESTS``).

A constant metric, an outcome that does not vary, perfect separation of "real" and "synthetic" answers
by the metric (the logistic estimate is then infinite), a fit that does not converge or a singular
information matrix give NaN for that model with the reason in ``note``; warnings are collected into
``note`` rather than emitted. A variance ratio estimated at 0 is noted (``rater variance estimated at 0``,
``image variance estimated at 0``).

Random intercept per rater only (the fallback without ``item``): with ``n_i`` ratings by rater ``i``,
``V_i = s^2 (I + g J)`` and ``V_i^-1 = (I - w_i J) / s^2`` with ``w_i = g / (1 + n_i g)``, so the REML
objective profiled over ``b`` and ``s^2``::

      l(g) = -1/2 [ (N - 2) log Q(g) + sum_i log(1 + n_i g) + log det M(g) ]
      M(g) = X'X - sum_i w_i s_i s_i',   c(g) = X'y - sum_i w_i s_i Y_i,   s_i = (n_i, sum_j z_ij)'
      b(g) = M(g)^-1 c(g),   Q(g) = y'y - sum_i w_i Y_i^2 - b(g)' c(g),   Y_i = sum_j quality_ij

needs only each rater's count and sums of z and quality. ``g`` is maximised on a log grid, refined by
bounded Brent, and set to exactly 0 when the profile REML there is within ``BOUNDARY_TOLERANCE`` (1e-9) of
the optimum: Brent never evaluates its bracket's ends and would return g ~ 1e-15 at the boundary, where
the full (b, g) Hessian is not positive definite and the standard error NaN. The standard errors come
from the same observed Hessian of the REML objective in (b, g) that MixedLM inverts (its fixed-effect/
variance cross terms matter when raters saw images of different mean metric). At g = 0 that Hessian is not
an information matrix (MixedLM warns there); the model is then OLS with the REML variance and the
covariance of ``b`` is ``s^2 (X'X)^-1``. Should the full matrix still not be positive definite at g > 0,
the covariance with g held at its estimate, ``s^2 M(g)^-1``, is used and noted. This reproduces MixedLM's
estimates to its optimiser's tolerance (about 1e-7; its standard errors within 1% at the boundary, where
its own are an optimiser's last step).
"""

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, special, stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError

from evaluation.correlation import TABLE_CONFIDENCE, normal_quantile, ols, with_intercept
from evaluation.frames import holm, is_constant, numbers, require_columns

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
# The p-values of the table's tests: a row with none of them is no test (`evaluation.frames.untested`).
IMAGE_LEVEL_TESTS = ("mixed_p", "logistic_p")
MIN_RATINGS = 4
# Search range of the variance ratio g = rater variance / residual variance: from negligible to a rater
# effect thousands of times the rating noise.
LOG_VARIANCE_RATIO_GRID = np.arange(-14.0, 12.01, 0.5)
# statsmodels' default of 60 GEE iterations is too few when a rater gives ~200 ratings and the estimated
# exchangeable correlation sits near its lower bound -1 / (n_i - 1): the iteration then converges slowly
# (up to ~130 iterations in simulations of 3 raters x 200 ratings).
GEE_MAX_ITERATIONS = 300
# statsmodels' GEE stops once the norm of the score before the last update is below 1e-6.
GEE_TOLERANCE = 1e-6
GEE_START_TOLERANCE = 1e-10
# Profile REML gains (log-likelihood units) below this over a variance ratio of 0 are rounding, not a variance.
BOUNDARY_TOLERANCE = 1e-9
FIT_ERRORS = (np.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError, PerfectSeparationError)


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


def _maximise_variance_ratio(profile):
    """``(ratio, value)`` maximising the profile REML ``profile(ratios)`` over a variance ratio >= 0.

    Log grid, then bounded Brent between the best grid point's neighbours. An optimum that does not beat
    ``g = 0`` by more than ``BOUNDARY_TOLERANCE`` is the boundary itself: Brent never evaluates its bracket's
    ends and would return a tiny positive g (3.6e-15), where the (b, g) Hessian is not an information matrix.
    """
    grid = np.concatenate([[0.0], np.exp(LOG_VARIANCE_RATIO_GRID)])
    grid_values = profile(grid)
    best = int(np.argmax(grid_values))
    low_ratio, high_ratio = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    refined = optimize.minimize_scalar(
        lambda ratio: -profile(np.array([ratio]))[0],
        bounds=(low_ratio, high_ratio),
        method="bounded",
        options={"xatol": 1e-10 * high_ratio},
    )
    candidates = np.array([low_ratio, refined.x, high_ratio])
    values = profile(candidates)
    best = int(np.argmax(values))
    if values[best] - grid_values[0] <= BOUNDARY_TOLERANCE:
        return 0.0, float(grid_values[0])
    return float(candidates[best]), float(values[best])


def _ratio_notes(ratio, component):
    if ratio == 0.0:
        return [f"{component} variance estimated at 0"]
    if ratio >= np.exp(LOG_VARIANCE_RATIO_GRID[-1]):
        return [f"{component} variance at the search limit"]
    return []


def _is_positive_definite(matrix):
    return bool(np.all(np.isfinite(matrix)) and np.linalg.eigvalsh(matrix).min() > 0)


def _random_intercept_reml(z, quality, rater_codes, confidence):
    """REML random-intercept model by the closed form of the module docstring: ``(slope, low, high, p, notes)``."""
    counts = np.bincount(rater_codes).astype(np.float64)
    group_sums = np.stack([counts, np.bincount(rater_codes, weights=z)])  # s_i, shape (2, raters)
    quality_sums = np.bincount(rater_codes, weights=quality)
    design = with_intercept(z)
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
        value = -0.5 * (
            residual_dof * np.log(residual_square)
            + np.log1p(ratio[:, None] * counts).sum(axis=1)
            + np.linalg.slogdet(information)[1]
        )
        return np.where(np.isfinite(value), value, -np.inf)

    ratio, _ = _maximise_variance_ratio(profile)
    notes = _ratio_notes(ratio, "rater")
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
    # information matrix there; with g held fixed the covariance of b is sigma^2 M(g)^-1 (OLS at g = 0).
    fixed_ratio_information = -hessian[:2, :2]
    information_matrix = fixed_ratio_information if ratio == 0.0 else -hessian
    if not _is_positive_definite(information_matrix):
        notes.append("REML information matrix not positive definite: standard error with the rater variance fixed")
        information_matrix = fixed_ratio_information
    if not _is_positive_definite(information_matrix):
        raise _FitFailed("REML information matrix is not positive definite")
    covariance = np.linalg.inv(information_matrix)
    slope, standard_error = float(coefficients[1]), float(np.sqrt(covariance[1, 1]))
    half_width = normal_quantile(confidence) * standard_error
    p = float(2.0 * stats.norm.sf(abs(slope) / standard_error))
    return slope, slope - half_width, slope + half_width, p, notes


class _CrossedRatings:
    """Which image and which rater each rating belongs to, with the counts the crossed model needs."""

    def __init__(self, image_codes, rater_codes):
        self.image_codes, self.rater_codes = image_codes, rater_codes
        self.images, self.raters = image_codes.max() + 1, rater_codes.max() + 1
        self.image_counts = np.bincount(image_codes).astype(np.float64)  # m_j
        self.rater_counts = np.bincount(rater_codes).astype(np.float64)  # n_i
        pair_codes = image_codes * self.raters + rater_codes
        # C: ratings of image j by rater i, shape (images, raters).
        self.image_rater_counts = np.bincount(pair_codes, minlength=self.images * self.raters).reshape(
            self.images, self.raters
        )

    def profile(self, columns):
        """``gls(image_ratios, rater_ratios) -> (profile REML, M, b, Q)`` for every pair (module docstring).

        ``columns`` holds the fixed-effect design with the outcome as its last column.
        """
        fixed = columns.shape[1] - 1
        residual_dof = len(columns) - fixed
        image_sums = np.stack([np.bincount(self.image_codes, weights=column) for column in columns.T], axis=1)
        rater_sums = np.stack([np.bincount(self.rater_codes, weights=column) for column in columns.T], axis=1)
        cross = columns.T @ columns
        identity = np.eye(self.raters)

        def gls(image_ratios, rater_ratios):
            """Profile REML, M, b and Q for every (rater ratio, image ratio) pair: leading axes (raters, images)."""
            weight = image_ratios[:, None] / (1.0 + image_ratios[:, None] * self.image_counts)  # w_j
            weighted_counts = np.swapaxes(weight[:, :, None] * self.image_rater_counts, 1, 2)  # C' W
            columns_by_columns = cross - np.einsum("gj,ja,jb->gab", weight, image_sums, image_sums)
            raters_by_columns = rater_sums - weighted_counts @ image_sums
            raters_by_raters = np.diag(self.rater_counts) - weighted_counts @ self.image_rater_counts
            rater_scale = rater_ratios[:, None, None, None]
            capacitance = identity + rater_scale * raters_by_raters
            total = columns_by_columns - rater_scale * np.swapaxes(raters_by_columns, 1, 2) @ np.linalg.solve(
                capacitance, raters_by_columns
            )
            information, score = total[..., :fixed, :fixed], total[..., :fixed, fixed]
            coefficients = np.linalg.solve(information, score[..., None])[..., 0]
            residual_square = total[..., fixed, fixed] - np.einsum("...a,...a->...", coefficients, score)
            log_determinant = (
                np.log1p(image_ratios[:, None] * self.image_counts).sum(axis=1) + np.linalg.slogdet(capacitance)[1]
            )
            value = -0.5 * (
                residual_dof * np.log(residual_square) + log_determinant + np.linalg.slogdet(information)[1]
            )
            return np.where(np.isfinite(value), value, -np.inf), information, coefficients, residual_square

        return gls

    def rater_ratio(self, quality):
        """REML rater variance ratio g_r of the intercept-only crossed model (the image ratio profiled out).

        Grid over both ratios, Nelder-Mead in their logarithms from the best interior grid point, and the
        two boundaries (no rater variance, no image variance) each maximised over the other ratio.
        """
        gls = self.profile(np.column_stack([np.ones(len(quality)), quality]))
        grid = np.exp(LOG_VARIANCE_RATIO_GRID)
        rater_best, image_best = np.unravel_index(np.argmax(gls(grid, grid)[0]), (len(grid), len(grid)))
        start = np.log([grid[rater_best], grid[image_best]])
        refined = optimize.minimize(
            lambda log_ratios: -gls(np.exp(log_ratios[1:]), np.exp(log_ratios[:1]))[0][0, 0],
            start,
            method="Nelder-Mead",
            options={"initial_simplex": [start, start + [0.5, 0.0], start + [0.0, 0.5]], "xatol": 1e-9, "fatol": 1e-12},
        )
        _, without_raters = _maximise_variance_ratio(lambda image_ratios: gls(image_ratios, np.zeros(1))[0][0])
        without_images = _maximise_variance_ratio(lambda rater_ratios: gls(np.zeros(1), rater_ratios)[0][:, 0])
        if -refined.fun - max(without_raters, without_images[1]) > BOUNDARY_TOLERANCE:
            return float(np.exp(refined.x[0]))
        return 0.0 if without_raters >= without_images[1] else without_images[0]


def _crossed_random_intercepts(z, quality, ratings, rater_ratio, confidence):
    """Crossed rater and image intercepts, rater ratio given: ``(slope, low, high, p, notes)`` (module docstring)."""
    degrees_of_freedom = ratings.images - 2
    if degrees_of_freedom < 1:
        raise _FitFailed(f"too few images for the image intercept (n={ratings.images})")
    gls = ratings.profile(np.column_stack([np.ones(len(z)), z, quality]))
    rater_ratios = np.array([rater_ratio])
    image_ratio, _ = _maximise_variance_ratio(lambda image_ratios: gls(image_ratios, rater_ratios)[0][0])
    _, information, coefficients, residual_square = (
        piece[0, 0] for piece in gls(np.array([image_ratio]), rater_ratios)
    )
    if not residual_square > 0:
        raise _FitFailed("quality is fitted exactly: no residual variance")
    covariance = residual_square / (len(z) - 2) * np.linalg.inv(information)
    slope, standard_error = float(coefficients[1]), float(np.sqrt(covariance[1, 1]))
    half_width = stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, degrees_of_freedom) * standard_error
    p = float(2.0 * stats.t.sf(abs(slope) / standard_error, degrees_of_freedom))
    notes = _ratio_notes(rater_ratio, "rater") + _ratio_notes(image_ratio, "image")
    return slope, slope - half_width, slope + half_width, p, notes


def _quality_model(z, quality, rater_codes, single_rater, crossed, rater_ratio):
    """``(slope, low, high, p, notes)``; ``crossed`` is None without image ids, ``rater_ratio()`` gives g_r."""
    if is_constant(quality):
        raise _FitFailed("quality does not vary")
    if single_rater:
        (slope, low, high, _, _, p), messages = _run_quietly(lambda: ols(z, quality, TABLE_CONFIDENCE))
        return slope, low, high, p, messages
    with np.errstate(all="ignore"):
        try:
            if crossed is None:
                return _random_intercept_reml(z, quality, rater_codes, TABLE_CONFIDENCE)
            return _crossed_random_intercepts(z, quality, crossed, rater_ratio(), TABLE_CONFIDENCE)
        except FIT_ERRORS as error:
            raise _FitFailed(f"{type(error).__name__}: {error}") from error


def _exchangeable_logistic_gee(called_real, design, clusters):
    """statsmodels' GEE algorithm (binomial, logit, exchangeable, robust covariance), vectorised over clusters.

    Returns ``(params, robust covariance, notes)``; see the module docstring for the updates it reproduces.
    """
    parameters = design.shape[1]
    sizes = np.bincount(clusters).astype(np.float64)
    pairs = 0.5 * np.sum(sizes * (sizes - 1.0))
    # With no more pairs of ratings in a cluster than parameters the correlation's moment estimate divides by
    # zero or less (statsmodels returns NaN); such clusters are nearly all single ratings, for which any
    # working correlation is the independence one.
    estimates_correlation = pairs > parameters
    notes = [] if estimates_correlation else ["too few ratings of the same image for a correlation: independence"]

    def cluster_sums(values):
        return np.stack([np.bincount(clusters, weights=column, minlength=len(sizes)) for column in values.T], axis=1)

    def score_pieces(params, correlation):
        """Per-row terms of D' V^-1 (y - mu) and the matrix D' V^-1 D, with V_j = A^1/2 R_j A^1/2."""
        mean = special.expit(design @ params)
        variance = mean * (1.0 - mean)
        deviation = np.sqrt(variance)
        derivative = design * variance[:, None]
        # R_j^-1 = (I - c_j J) / (1 - rho) with c_j = rho / (1 + rho (m_j - 1)).
        shrink = correlation / (1.0 + correlation * (sizes - 1.0))
        standardised = np.column_stack([derivative, called_real - mean]) / deviation[:, None]
        solved = (standardised - shrink[clusters, None] * cluster_sums(standardised)[clusters]) / (1.0 - correlation)
        solved /= deviation[:, None]
        return derivative * solved[:, parameters:], derivative.T @ solved[:, :parameters]

    def exchangeable_correlation(params):
        mean = special.expit(design @ params)
        pearson = (called_real - mean) / np.sqrt(mean * (1.0 - mean))
        scale = pearson @ pearson / (len(pearson) - parameters)
        within_pairs = 0.5 * (np.sum(np.bincount(clusters, weights=pearson) ** 2) - pearson @ pearson)
        return within_pairs / scale / (pairs - parameters)

    def step(params, correlation):
        score_terms, bread = score_pieces(params, correlation)
        score = score_terms.sum(axis=0)
        return params + np.linalg.solve(bread, score), np.sqrt(score @ score)

    # Start where statsmodels starts, at the plain logistic regression (the independence GEE).
    params = np.zeros(parameters)
    for _ in range(GEE_MAX_ITERATIONS):
        previous = params
        params, _ = step(params, 0.0)
        if np.max(np.abs(params - previous)) < GEE_START_TOLERANCE:
            break
    correlation, correlation_updated = 0.0, False
    for _ in range(GEE_MAX_ITERATIONS):
        params, score_norm = step(params, correlation)
        if score_norm < GEE_TOLERANCE and (correlation_updated or not estimates_correlation):
            break
        if estimates_correlation:
            correlation, correlation_updated = exchangeable_correlation(params), True
    else:
        raise _FitFailed(f"did not converge (iteration limit {GEE_MAX_ITERATIONS} reached)")
    score_terms, bread = score_pieces(params, correlation)
    bread_inverse = np.linalg.inv(bread)
    cluster_scores = cluster_sums(score_terms)
    return params, bread_inverse @ cluster_scores.T @ cluster_scores @ bread_inverse, notes


def _rater_dummies(rater_codes):
    return (rater_codes[:, None] == np.arange(1, rater_codes.max() + 1)).astype(np.float64)


def _logistic_model(z, called_real, rater_codes, image_codes, single_rater):
    notes = []
    if not (called_real == 0).any():
        raise _FitFailed("every rating called real")
    if not (called_real == 1).any():
        raise _FitFailed("no rating called real")
    if image_codes is not None and not single_rater:
        # A rater who gave one answer throughout has an infinite fixed effect and no information on the slope.
        real_share = np.bincount(rater_codes, weights=called_real) / np.bincount(rater_codes)
        one_answer = (real_share == 0.0) | (real_share == 1.0)
        if one_answer.all():
            raise _FitFailed("every rater gave one answer throughout: no information on the slope")
        if one_answer.any():
            kept = ~one_answer[rater_codes]
            notes.append(f"{one_answer.sum()} rater(s) with one answer throughout left out")
            z, called_real = z[kept], called_real[kept]
            rater_codes = np.unique(rater_codes[kept], return_inverse=True)[1]
            image_codes = np.unique(image_codes[kept], return_inverse=True)[1]
    answered_real, answered_synthetic = z[called_real == 1], z[called_real == 0]
    if answered_real.min() >= answered_synthetic.max() or answered_real.max() <= answered_synthetic.min():
        raise _FitFailed("perfect separation: the metric splits real from synthetic answers, odds ratio infinite")
    if single_rater:
        model = sm.GLM(called_real, with_intercept(z), family=sm.families.Binomial())
        fit, messages = _run_quietly(model.fit)
        (low, high), p = _run_quietly(lambda: (fit.conf_int(alpha=1.0 - TABLE_CONFIDENCE)[1], fit.pvalues[1]))[0]
        estimates = np.array([fit.params[1], low, high, p], dtype=np.float64)
        notes.extend(messages)
    else:
        if image_codes is None:
            design, clusters = with_intercept(z), rater_codes
        else:
            design, clusters = np.column_stack([with_intercept(z), _rater_dummies(rater_codes)]), image_codes
        with np.errstate(all="ignore"):
            try:
                params, covariance, gee_notes = _exchangeable_logistic_gee(called_real, design, clusters)
            except FIT_ERRORS as error:
                raise _FitFailed(f"{type(error).__name__}: {error}") from error
        notes.extend(gee_notes)
        slope, standard_error = params[1], np.sqrt(covariance[1, 1])
        half_width = normal_quantile(TABLE_CONFIDENCE) * standard_error
        p = 2.0 * stats.norm.sf(abs(slope) / standard_error)
        estimates = np.array([slope, slope - half_width, slope + half_width, p], dtype=np.float64)
    if not np.all(np.isfinite(estimates)):
        raise _FitFailed("non-finite estimate or standard error")
    slope, low, high, p = estimates
    return float(np.exp(slope)), float(np.exp(low)), float(np.exp(high)), float(p), notes


def _image_row(metric, values, base, columns, rater_ratios):
    quality, called_real, rater_codes, image_codes = columns
    used = base & np.isfinite(values)
    x = values[used]
    raters, codes = np.unique(rater_codes[used], return_inverse=True)
    images = np.unique(image_codes[used], return_inverse=True)[1] if image_codes is not None else None
    row = {
        "metric": metric,
        "n_ratings": int(used.sum()),
        "n_images": len(np.unique(images)) if images is not None else np.nan,
        "n_raters": len(raters),
    }
    if row["n_ratings"] < MIN_RATINGS:
        return row | {"note": f"too few ratings (n={row['n_ratings']})"}
    if is_constant(x):
        return row | {"note": "constant metric"}
    z = (x - x.mean()) / x.std(ddof=1)
    single_rater = len(raters) == 1
    notes = []
    if single_rater:
        notes.append("one rater: OLS instead of the mixed model, plain logistic (GLM) instead of GEE")
    elif images is None:
        notes.append("no item column: no image intercept, GEE clustered by rater; p-values too small")
    crossed = _CrossedRatings(images, codes) if images is not None and not single_rater else None

    def rater_ratio():
        # The rater and residual variances come from within-image contrasts, which an image-level metric does
        # not change: one REML fit per set of rows used serves every metric with those rows.
        key = used.tobytes()
        if key not in rater_ratios:
            rater_ratios[key] = crossed.rater_ratio(quality[used])
        return rater_ratios[key]

    models = (
        (
            "mixed",
            ["mixed_slope", "mixed_low", "mixed_high", "mixed_p"],
            lambda: _quality_model(z, quality[used], codes, single_rater, crossed, rater_ratio),
        ),
        (
            "logistic",
            ["odds_ratio", "odds_ratio_low", "odds_ratio_high", "logistic_p"],
            lambda: _logistic_model(z, called_real[used], codes, images, single_rater),
        ),
    )
    for name, keys, model in models:
        try:
            *estimates, messages = model()
        except _FitFailed as failure:
            notes.append(f"{name}: {failure}")
            continue
        row.update(zip(keys, estimates, strict=True))
        notes.extend(f"{name}: {message}" for message in messages)
    return row | {"note": "; ".join(notes)}


def image_level_table(ratings, metrics, rater="rater", quality="quality", called_real="called_real", item="item"):
    """One row per per-image metric: crossed mixed model for quality, logistic GEE for "called real", per SD.

    ``ratings`` has one row per rating of a synthetic image; ``item`` (optional column) identifies the image:
    without it the models fall back to rater effects only (see ``note``). See the module docstring for the
    models and every column.
    """
    metrics = list(metrics)
    require_columns(ratings, [*metrics, rater, quality, called_real])
    rater_codes, _ = pd.factorize(ratings[rater])
    quality_values = numbers(ratings[quality])
    called_values = numbers(ratings[called_real])
    base = (rater_codes >= 0) & np.isfinite(quality_values) & np.isfinite(called_values)
    image_codes = None
    if item in ratings.columns:
        image_codes, _ = pd.factorize(ratings[item])
        base &= image_codes >= 0
    invalid_answers = set(np.unique(called_values[base])) - {0.0, 1.0}
    if invalid_answers:
        raise ValueError(f"column {called_real} must hold 0 or 1, found {sorted(invalid_answers)}")
    columns = (quality_values, called_values, rater_codes, image_codes)
    rater_ratios = {}
    rows = [_image_row(metric, numbers(ratings[metric]), base, columns, rater_ratios) for metric in metrics]
    table = pd.DataFrame(rows, columns=[column for column in IMAGE_COLUMNS if not column.endswith("_holm")])
    table["mixed_p_holm"] = holm(table["mixed_p"])
    table["logistic_p_holm"] = holm(table["logistic_p"])
    table = table.sort_values("mixed_p", na_position="last", kind="stable")
    return table[IMAGE_COLUMNS].reset_index(drop=True)
