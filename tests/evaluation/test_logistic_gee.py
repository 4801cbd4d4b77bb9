"""The image-clustered logistic GEE: convergence, raters with one answer, images rated once, against statsmodels."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation import logistic_gee
from evaluation.image_level import image_level_table
from tests.evaluation.rating_studies import (
    crossed_study,
    image_clustered_gee,
    standardised,
    with_constant,
)


def test_failed_convergence_becomes_a_note(monkeypatch):
    monkeypatch.setattr(logistic_gee, "GEE_MAX_ITERATIONS", 1)
    row = image_level_table(crossed_study(seed=1), ["psnr_mean_db"]).iloc[0]
    assert np.isnan(row.odds_ratio) and np.isfinite(row.mixed_slope)
    assert row.note == "logistic: did not converge (iteration limit 1 reached)"


def test_a_rater_with_one_answer_throughout_is_left_out_of_the_gee():
    ratings = crossed_study(seed=2, raters=4, log_odds_per_sd=0.5)
    ratings.loc[ratings.rater == "rater3", "called_real"] = 0
    row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
    assert row.note == "logistic: 1 rater(s) with one answer throughout left out"
    # The metric is standardised over every rating of it, the left-out rater's too.
    answering = ratings.rater != "rater3"
    gee = image_clustered_gee(ratings[answering], standardised(ratings.psnr_mean_db)[answering])
    assert row.odds_ratio == pytest.approx(np.exp(gee.params[1]), rel=1e-8)


def test_when_every_rater_gave_one_answer_throughout_the_gee_says_so():
    ratings = crossed_study(seed=2, raters=3, log_odds_per_sd=0.5)
    ratings["called_real"] = (ratings.rater == "rater0").astype(int)  # one rater always "real", the rest never
    row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
    assert np.isnan(row.odds_ratio) and "every rater gave one answer throughout" in row.note
    assert np.isfinite(row.mixed_slope)


def test_images_rated_once_get_the_independence_working_correlation():
    ratings = crossed_study(seed=3, log_odds_per_sd=0.5).assign(item=lambda frame: np.arange(len(frame)))
    row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
    assert row.note.endswith("logistic: too few ratings of the same image for a correlation: independence")
    raters = pd.get_dummies(ratings.rater, drop_first=True, dtype=float).to_numpy()
    design = np.column_stack([with_constant(standardised(ratings.psnr_mean_db)), raters])
    gee = sm.GEE(
        ratings.called_real.to_numpy(), design, groups=ratings.item.to_numpy(), family=sm.families.Binomial()
    ).fit()
    assert row.odds_ratio == pytest.approx(np.exp(gee.params[1]), rel=1e-8)
    assert [row.odds_ratio_low, row.odds_ratio_high] == pytest.approx(list(np.exp(gee.conf_int()[1])), rel=1e-8)
