"""The crossed rater-and-image mixed model and its rater-only fallback, against statsmodels' MixedLM and OLS."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from evaluation.image_level import image_level_table
from tests.evaluation.rating_studies import (
    Z_95,
    crossed_mixedlm,
    crossed_study,
    simulated_ratings,
    standardised,
    with_constant,
)


def test_unbalanced_crossed_model_stays_close_to_full_reml():
    # Raters rated different subsets of the images: the rater ratio of the intercept-only model is then
    # slightly off the one REML would choose with the metric, within about 1% here.
    ratings = crossed_study(seed=4, raters=4, quality_per_sd=0.3, rated_share=0.7)
    row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
    mixed = crossed_mixedlm(ratings)
    assert row.mixed_slope == pytest.approx(mixed.fe_params.iloc[1], rel=0.02)
    standard_error = (row.mixed_high - row.mixed_low) / 2 / stats.t.ppf(0.975, row.n_images - 2)
    assert standard_error == pytest.approx(mixed.bse.iloc[1], rel=0.02)


def test_rater_variance_near_zero_never_gives_nan_and_agrees_with_mixedlm():
    # 3 raters x 50 shared images and no rater effect: the REML rater variance is often on its boundary,
    # where bounded Brent used to stop at g ~ 1e-15 and 27 of these 200 studies came back NaN.
    slopes, mixedlm_slopes, standard_errors, mixedlm_standard_errors = [], [], [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        metric = rng.normal(size=50)
        quality = 3 + 0.3 * metric + rng.normal(0, 0.6, 50)
        ratings = pd.DataFrame(
            {
                "rater": np.repeat(["a", "b", "c"], 50),
                "quality": np.tile(quality, 3) + rng.normal(0, 0.8, 150),
                "called_real": (rng.random(150) < 0.4).astype(int),
                "psnr_mean_db": np.tile(metric, 3),
            }
        )
        row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
        assert np.isfinite(row[["mixed_slope", "mixed_low", "mixed_high", "mixed_p"]].astype(float)).all(), row.note
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            design = with_constant(standardised(ratings.psnr_mean_db))
            mixed = sm.MixedLM(ratings.quality.to_numpy(), design, groups=ratings.rater.to_numpy()).fit()
        if mixed.converged:
            slopes.append(row.mixed_slope)
            mixedlm_slopes.append(mixed.fe_params[1])
            standard_errors.append((row.mixed_high - row.mixed_low) / (2 * Z_95))
            mixedlm_standard_errors.append(mixed.bse[1])
    assert len(slopes) > 150
    assert slopes == pytest.approx(mixedlm_slopes, rel=1e-6)
    # At the boundary MixedLM's standard error comes from its optimiser's last step; ours is the OLS one.
    assert standard_errors == pytest.approx(mixedlm_standard_errors, rel=1e-2)


def test_rater_variance_at_zero_gives_the_ols_slope():
    ratings = simulated_ratings(raters=2, per_rater=60, seed=5).drop(columns="item")
    # Every rater has the same mean metric and the same mean quality, so the rater intercepts explain
    # nothing and the REML rater variance lies on its boundary 0.
    by_rater = ratings.groupby("rater")
    ratings["psnr_mean_db"] -= by_rater.psnr_mean_db.transform("mean")
    ratings["quality"] -= by_rater.quality.transform("mean") - 3.0
    row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
    assert "rater variance estimated at 0" in row.note
    design = with_constant(standardised(ratings.psnr_mean_db))
    ols = sm.OLS(ratings.quality.to_numpy(), design).fit()
    assert row.mixed_slope == pytest.approx(ols.params[1], rel=1e-8)
    reml_scale = ols.ssr / (len(ratings) - 2)
    standard_error = np.sqrt(reml_scale * np.linalg.inv(design.T @ design)[1, 1])
    assert row.mixed_high - row.mixed_low == pytest.approx(2 * Z_95 * standard_error, rel=1e-6)
