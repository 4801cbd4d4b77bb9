"""The image-level quality model: a linear mixed model with crossed random intercepts for rater and image.

`evaluation.image_level` fits it to every rating of a synthetic image, one metric at a time, the metric
standardised to ``z`` (per SD). `quality_model` picks the model the data allow and returns
``(slope, low, high, p, notes)`` (the table's ``mixed_*`` columns); it raises
`evaluation.fit_failures.FitFailed` with the reason when the model cannot be estimated.

Crossed random intercepts for rater and image (R. H. Baayen, D. J. Davidson, D. M. Bates, "Mixed-effects
modeling with crossed random effects for subjects and items", J. Mem. Lang. 2008), fitted by REML::

    quality_ij = b0 + b1 z_j + u_i + v_j + e_ij,   u_i ~ N(0, g_r s^2),  v_j ~ N(0, g_v s^2),  e_ij ~ N(0, s^2)

The slope b1 is in quality points per SD of the metric. With ``V = s^2 H``, ``H = A + g_r Zr Zr'``
and the block-diagonal image part ``A = I + g_v Zv Zv'``, ``A^-1 = I - sum_j w_j 1_j 1_j'``,
``w_j = g_v / (1 + m_j g_v)`` (m_j ratings of image j), Woodbury's identity and the matrix determinant
lemma need only per-image sums, per-rater sums and the image x rater count table C (`CrossedRatings`)::

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
would stay in g_v and cap the t statistic near sqrt(number of images). A variance ratio estimated at 0 is
noted (``rater variance estimated at 0``, ``image variance estimated at 0``).

Inference: ``cov(b) = s^2 M^-1`` at the estimates and t with (number of images - 2) degrees of freedom,
the between-image residual degrees of freedom of an image-level covariate (the "containment" degrees of
freedom); in a balanced design with g_v > 0 this is exactly the t test of the regression of image means
on the metric.

Without image ids (no ``item`` column) there can be no image effect: the model is the random intercept
per rater (N. M. Laird, J. H. Ware, "Random-effects models for longitudinal data", Biometrics 1982) as
statsmodels MixedLM fits it, with a normal Wald interval. With ``n_i`` ratings by rater ``i``,
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

With a single rater there is no mixed model: OLS (`evaluation.least_squares.ols`, t interval) is fitted
instead. Quality that does not vary, an exact fit (no residual variance) or an information matrix that is
not positive definite raise `FitFailed`.
"""

import numpy as np
from scipy import optimize, stats

from evaluation.fit_failures import FIT_ERRORS, FitFailed, run_quietly
from evaluation.frames import TABLE_CONFIDENCE, is_constant, normal_quantile
from evaluation.least_squares import ols, with_intercept

# Search range of a variance ratio g (the rater's or the image's variance / the residual variance): from
# negligible to an effect thousands of times the rating noise.
LOG_VARIANCE_RATIO_GRID = np.arange(-14.0, 12.01, 0.5)
# Profile REML gains (log-likelihood units) below this over a variance ratio of 0 are rounding, not a variance.
BOUNDARY_TOLERANCE = 1e-9


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
        raise FitFailed("quality is fitted exactly: no residual variance")
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
        raise FitFailed("REML information matrix is not positive definite")
    covariance = np.linalg.inv(information_matrix)
    slope, standard_error = float(coefficients[1]), float(np.sqrt(covariance[1, 1]))
    half_width = normal_quantile(confidence) * standard_error
    p = float(2.0 * stats.norm.sf(abs(slope) / standard_error))
    return slope, slope - half_width, slope + half_width, p, notes


class CrossedRatings:
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
        raise FitFailed(f"too few images for the image intercept (n={ratings.images})")
    gls = ratings.profile(np.column_stack([np.ones(len(z)), z, quality]))
    rater_ratios = np.array([rater_ratio])
    image_ratio, _ = _maximise_variance_ratio(lambda image_ratios: gls(image_ratios, rater_ratios)[0][0])
    _, information, coefficients, residual_square = (
        piece[0, 0] for piece in gls(np.array([image_ratio]), rater_ratios)
    )
    if not residual_square > 0:
        raise FitFailed("quality is fitted exactly: no residual variance")
    covariance = residual_square / (len(z) - 2) * np.linalg.inv(information)
    slope, standard_error = float(coefficients[1]), float(np.sqrt(covariance[1, 1]))
    half_width = stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, degrees_of_freedom) * standard_error
    p = float(2.0 * stats.t.sf(abs(slope) / standard_error, degrees_of_freedom))
    notes = _ratio_notes(rater_ratio, "rater") + _ratio_notes(image_ratio, "image")
    return slope, slope - half_width, slope + half_width, p, notes


def quality_model(z, quality, rater_codes, single_rater, crossed, rater_ratio):
    """``(slope, low, high, p, notes)``; ``crossed`` is None without image ids, ``rater_ratio()`` gives g_r."""
    if is_constant(quality):
        raise FitFailed("quality does not vary")
    if single_rater:
        (slope, low, high, _, _, p), messages = run_quietly(lambda: ols(z, quality, TABLE_CONFIDENCE))
        return slope, low, high, p, messages
    with np.errstate(all="ignore"):
        try:
            if crossed is None:
                return _random_intercept_reml(z, quality, rater_codes, TABLE_CONFIDENCE)
            return _crossed_random_intercepts(z, quality, crossed, rater_ratio(), TABLE_CONFIDENCE)
        except FIT_ERRORS as error:
            raise FitFailed(f"{type(error).__name__}: {error}") from error
