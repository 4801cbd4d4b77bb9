"""The image-level model of P(called real): a logistic GEE with exchangeable correlation within each image.

`evaluation.image_level` fits it to every rating of a synthetic image, one metric at a time, the metric
standardised to ``z`` (per SD). `logistic_model` picks the model the data allow and returns
``(odds_ratio, low, high, p, notes)`` (the table's ``odds_ratio*`` and ``logistic_p`` columns); it raises
`evaluation.fit_failures.FitFailed` with the reason when the model cannot be estimated.

Logistic GEE (K.-Y. Liang, S. L. Zeger, "Longitudinal data analysis using generalized linear models",
Biometrika 1986), binomial family, logit link, exchangeable working correlation within image, the image as
cluster (many clusters: the robust sandwich covariance is usable), fixed effects (dummies) for the raters,
normal Wald interval and p::

    logit P(called_real_ij = 1) = b0 + b1 z_j + a_i   (a_i: rater i's fixed effect, a_0 = 0)
    corr(called_real_ij, called_real_kj) = rho   (two ratings of image j)

``odds_ratio`` = exp(b1) is the odds of "real" per SD of the metric, population-averaged over images.
The fit follows statsmodels' GEE step for step (start at the plain logistic fit; Gauss-Newton updates; the
moment estimate of the exchangeable correlation with the Pearson scale on N - p degrees of freedom and
N_pairs - p for the correlation; stop when the score norm before an update is below 1e-6 after at least one
correlation update; up to 300 iterations instead of 60, see ``GEE_MAX_ITERATIONS``) and reproduces it to
1e-8, but sums over clusters with ``bincount`` instead of looping over them (timings in bench/README.md). A
rater who gave one answer throughout has an infinite fixed effect and no information on the slope and is
left out of this model (noted). With no more pairs of ratings of the same image than parameters (every image
rated once) the correlation cannot be estimated and the independence working correlation is used (noted).

Without image ids (no ``item`` column) the GEE is clustered by rater, without rater dummies. With a single
rater there is no GEE: a plain logistic regression (``statsmodels`` GLM, binomial, model-based covariance)
is fitted instead. Answers that do not vary, perfect separation of "real" and "synthetic" answers by the
metric (the estimate is then infinite) or an iteration that does not converge raise `FitFailed`.
"""

import numpy as np
import statsmodels.api as sm
from scipy import special, stats

from evaluation.fit_failures import FIT_ERRORS, FitFailed, run_quietly
from evaluation.frames import TABLE_CONFIDENCE, normal_quantile
from evaluation.least_squares import with_intercept

# statsmodels' default of 60 GEE iterations is too few when a rater gives ~200 ratings and the estimated
# exchangeable correlation sits near its lower bound -1 / (n_i - 1): the iteration then converges slowly
# (up to ~130 iterations in simulations of 3 raters x 200 ratings).
GEE_MAX_ITERATIONS = 300
# statsmodels' GEE stops once the norm of the score before the last update is below 1e-6.
GEE_TOLERANCE = 1e-6
GEE_START_TOLERANCE = 1e-10


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
        raise FitFailed(f"did not converge (iteration limit {GEE_MAX_ITERATIONS} reached)")
    score_terms, bread = score_pieces(params, correlation)
    bread_inverse = np.linalg.inv(bread)
    cluster_scores = cluster_sums(score_terms)
    return params, bread_inverse @ cluster_scores.T @ cluster_scores @ bread_inverse, notes


def _rater_dummies(rater_codes):
    return (rater_codes[:, None] == np.arange(1, rater_codes.max() + 1)).astype(np.float64)


def logistic_model(z, called_real, rater_codes, image_codes, single_rater):
    notes = []
    if not (called_real == 0).any():
        raise FitFailed("every rating called real")
    if not (called_real == 1).any():
        raise FitFailed("no rating called real")
    if image_codes is not None and not single_rater:
        # A rater who gave one answer throughout has an infinite fixed effect and no information on the slope.
        real_share = np.bincount(rater_codes, weights=called_real) / np.bincount(rater_codes)
        one_answer = (real_share == 0.0) | (real_share == 1.0)
        if one_answer.all():
            raise FitFailed("every rater gave one answer throughout: no information on the slope")
        if one_answer.any():
            kept = ~one_answer[rater_codes]
            notes.append(f"{one_answer.sum()} rater(s) with one answer throughout left out")
            z, called_real = z[kept], called_real[kept]
            rater_codes = np.unique(rater_codes[kept], return_inverse=True)[1]
            image_codes = np.unique(image_codes[kept], return_inverse=True)[1]
    answered_real, answered_synthetic = z[called_real == 1], z[called_real == 0]
    if answered_real.min() >= answered_synthetic.max() or answered_real.max() <= answered_synthetic.min():
        raise FitFailed("perfect separation: the metric splits real from synthetic answers, odds ratio infinite")
    if single_rater:
        model = sm.GLM(called_real, with_intercept(z), family=sm.families.Binomial())
        fit, messages = run_quietly(model.fit)
        (low, high), p = run_quietly(lambda: (fit.conf_int(alpha=1.0 - TABLE_CONFIDENCE)[1], fit.pvalues[1]))[0]
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
                raise FitFailed(f"{type(error).__name__}: {error}") from error
        notes.extend(gee_notes)
        slope, standard_error = params[1], np.sqrt(covariance[1, 1])
        half_width = normal_quantile(TABLE_CONFIDENCE) * standard_error
        p = 2.0 * stats.norm.sf(abs(slope) / standard_error)
        estimates = np.array([slope, slope - half_width, slope + half_width, p], dtype=np.float64)
    if not np.all(np.isfinite(estimates)):
        raise FitFailed("non-finite estimate or standard error")
    slope, low, high, p = estimates
    return float(np.exp(slope)), float(np.exp(low)), float(np.exp(high)), float(p), notes
