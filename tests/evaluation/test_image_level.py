"""The image-level table: every per-image metric against every rating, both models, fallbacks and edge cases."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.genmod.cov_struct import Exchangeable
from statsmodels.stats.multitest import multipletests

from evaluation.image_level import IMAGE_COLUMNS, image_level_table
from evaluation.logistic_gee import GEE_MAX_ITERATIONS
from tests.evaluation.rating_studies import (
    crossed_mixedlm,
    crossed_study,
    image_clustered_gee,
    simulated_ratings,
    standardised,
    with_constant,
)


def test_image_level_equals_crossed_mixedlm_and_image_clustered_gee():
    ratings = crossed_study(seed=1, quality_per_sd=0.3, log_odds_per_sd=0.5)
    ratings["lbp_V8"] = np.random.default_rng(2).normal(size=40)[ratings.item]
    table = image_level_table(ratings, ["lbp_V8", "psnr_mean_db"])
    assert list(table.columns) == IMAGE_COLUMNS
    assert list(table.metric) == ["psnr_mean_db", "lbp_V8"]  # by mixed_p
    row = table.iloc[0]
    assert (row.n_ratings, row.n_images, row.n_raters) == (120, 40, 3)
    assert row.note == ""
    # Balanced: the REML fit with the rater ratio of the intercept-only model is the full REML fit.
    mixed = crossed_mixedlm(ratings)
    slope, standard_error = mixed.fe_params.iloc[1], mixed.bse.iloc[1]
    t_quantile = stats.t.ppf(0.975, 40 - 2)
    assert row.mixed_slope == pytest.approx(slope, rel=1e-6)
    assert [row.mixed_low, row.mixed_high] == pytest.approx(
        [slope - t_quantile * standard_error, slope + t_quantile * standard_error], rel=1e-5
    )
    assert row.mixed_p == pytest.approx(2 * stats.t.sf(abs(slope) / standard_error, 40 - 2), rel=1e-4)
    gee = image_clustered_gee(ratings)
    assert row.odds_ratio == pytest.approx(np.exp(gee.params[1]), rel=1e-8)
    assert [row.odds_ratio_low, row.odds_ratio_high] == pytest.approx(list(np.exp(gee.conf_int()[1])), rel=1e-8)
    assert row.logistic_p == pytest.approx(gee.pvalues[1], rel=1e-6)
    assert table.mixed_p_holm.to_numpy() == pytest.approx(multipletests(table.mixed_p, method="holm")[1])
    assert table.logistic_p_holm.to_numpy() == pytest.approx(multipletests(table.logistic_p, method="holm")[1])


def test_unrelated_metric_is_significant_about_five_percent_of_the_time():
    # 200 studies of 3 raters x 40 images whose quality and realism vary for reasons other than the metric.
    # Raters as the GEE's clusters (3 clusters) gave 25-38% false positives and a mixed model without the
    # image intercept 15-20%.
    p_values = pd.concat(
        [image_level_table(crossed_study(seed), ["psnr_mean_db"]) for seed in range(200)], ignore_index=True
    )
    assert p_values[["mixed_p", "logistic_p"]].notna().all().all()
    false_positive_rates = (p_values[["mixed_p", "logistic_p"]] < 0.05).mean()
    assert ((0.01 <= false_positive_rates) & (false_positive_rates <= 0.10)).all(), false_positive_rates


def test_image_level_recovers_known_effects():
    ratings = simulated_ratings(raters=12, per_rater=100, seed=3, quality_per_sd=0.5, log_odds_per_sd=0.7)
    row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
    assert row.mixed_low < 0.5 < row.mixed_high
    assert row.mixed_p < 1e-6
    assert row.odds_ratio_low < np.exp(0.7) < row.odds_ratio_high
    assert row.odds_ratio > 1.5
    unrelated = image_level_table(ratings, ["lbp_V8"]).iloc[0]
    assert unrelated.mixed_low < 0 < unrelated.mixed_high
    # An image-level metric: the per-SD quality effect is recovered from 10 raters x 60 images.
    crossed = image_level_table(crossed_study(seed=5, raters=10, images=60, quality_per_sd=0.5), ["psnr_mean_db"])
    assert crossed.mixed_low[0] < 0.5 < crossed.mixed_high[0]
    assert crossed.mixed_p[0] < 1e-4


def test_image_level_without_item_falls_back_to_rater_effects():
    # Rater-dependent metric means make MixedLM's standard error depend on the fixed-effect/variance
    # cross terms of its Hessian, which the closed form must reproduce.
    ratings = simulated_ratings(psnr_per_rater=1.0).drop(columns="item")
    row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
    assert row.note == "no item column: no image intercept, GEE clustered by rater; p-values too small"
    assert np.isnan(row.n_images)
    design = with_constant(standardised(ratings.psnr_mean_db))
    groups = ratings.rater.to_numpy()
    mixed = sm.MixedLM(ratings.quality.to_numpy(), design, groups=groups).fit()
    assert row.mixed_slope == pytest.approx(mixed.fe_params[1], rel=1e-5)
    assert [row.mixed_low, row.mixed_high] == pytest.approx(list(mixed.conf_int()[1]), rel=1e-5)
    assert row.mixed_p == pytest.approx(mixed.pvalues[1], rel=1e-3)
    gee = sm.GEE(
        ratings.called_real.to_numpy(), design, groups=groups, family=sm.families.Binomial(), cov_struct=Exchangeable()
    ).fit(maxiter=GEE_MAX_ITERATIONS)
    assert row.odds_ratio == pytest.approx(np.exp(gee.params[1]), rel=1e-8)
    assert [row.odds_ratio_low, row.odds_ratio_high] == pytest.approx(list(np.exp(gee.conf_int()[1])), rel=1e-8)
    assert row.logistic_p == pytest.approx(gee.pvalues[1], rel=1e-6)


def test_single_rater_falls_back_to_ols_and_glm():
    ratings = simulated_ratings(raters=1, per_rater=150, seed=4)
    row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
    assert row.n_raters == 1
    assert "one rater" in row.note
    design = with_constant(standardised(ratings.psnr_mean_db))
    ols = sm.OLS(ratings.quality.to_numpy(), design).fit()
    assert row.mixed_slope == pytest.approx(ols.params[1], rel=1e-10)
    assert [row.mixed_low, row.mixed_high] == pytest.approx(list(ols.conf_int()[1]), rel=1e-10)
    glm = sm.GLM(ratings.called_real.to_numpy(), design, family=sm.families.Binomial()).fit()
    assert row.odds_ratio == pytest.approx(np.exp(glm.params[1]), rel=1e-8)
    assert row.logistic_p == pytest.approx(glm.pvalues[1], rel=1e-6)


def test_image_level_edge_cases_give_nan_rows_with_notes_and_no_warnings():
    ratings = simulated_ratings(raters=2, per_rater=60, seed=5)
    ratings["constant"] = 7.0
    ratings["separating"] = np.where(ratings.called_real == 1, 1.0, 0.0) + np.arange(len(ratings)) * 1e-3
    ratings["gappy"] = ratings.psnr_mean_db
    ratings.loc[[0, 1, 2], "gappy"] = [np.nan, np.inf, -np.inf]
    # No rater effect on quality at all: MixedLM's optimisers end on the boundary and warn there.
    ratings["quality"] = 3.0 + 0.4 * standardised(ratings.psnr_mean_db) + np.random.default_rng(6).normal(size=120)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = image_level_table(ratings.drop(columns="item"), ["constant", "separating", "gappy"])
    assert caught == []
    table = table.set_index("metric")
    constant = table.loc["constant"]
    assert constant.note == "constant metric"
    assert np.isnan(constant[["mixed_slope", "odds_ratio", "mixed_p_holm"]].astype(float)).all()
    separating = table.loc["separating"]
    assert np.isnan(separating.odds_ratio) and np.isnan(separating.logistic_p)
    assert "perfect separation" in separating.note
    assert np.isfinite(separating.mixed_slope)
    assert table.loc["gappy", "n_ratings"] == 117
    assert np.isnan(table.loc["gappy", "n_images"])
    assert table.index[-1] == "constant"  # NaN mixed_p sorts last


def test_image_level_refuses_missing_columns_and_bad_answers():
    ratings = simulated_ratings()
    with pytest.raises(ValueError, match="psnr_nearest_db"):
        image_level_table(ratings, ["psnr_mean_db", "psnr_nearest_db"])
    with pytest.raises(ValueError, match="judge"):
        image_level_table(ratings, ["psnr_mean_db"], rater="judge")
    with pytest.raises(ValueError, match="0 or 1"):
        image_level_table(ratings.assign(called_real=2), ["psnr_mean_db"])
