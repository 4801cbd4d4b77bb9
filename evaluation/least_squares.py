"""The straight line ``outcome = intercept + slope * regressor`` by ordinary least squares (statsmodels' OLS,
the slope's t interval), as the set-level table (`evaluation.correlation`) and the single-rater fallback of the
quality model (`evaluation.crossed_mixed_model`) fit it; `with_intercept` is the design every regression of
one metric starts from, the logistic models' (`evaluation.logistic_gee`) too."""

import numpy as np
import statsmodels.api as sm


def with_intercept(regressor):
    """The design matrix ``[1, regressor]`` of a straight line."""
    # Built by hand: sm.add_constant skips the constant when the regressor itself looks constant.
    return np.column_stack([np.ones(len(regressor)), regressor])


def ols(regressor, outcome, confidence):
    """``(slope, low, high, intercept, r_squared, p)`` of the OLS of ``outcome`` on ``regressor``."""
    fit = sm.OLS(outcome, with_intercept(regressor)).fit()
    low, high = fit.conf_int(alpha=1.0 - confidence)[1]
    return (
        float(fit.params[1]),
        float(low),
        float(high),
        float(fit.params[0]),
        float(fit.rsquared),
        float(fit.pvalues[1]),
    )
