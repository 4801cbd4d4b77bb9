"""HYPE-infinity equals the error counts, and its bootstrap equals resampled ratings built one by one."""

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.hype import hype_infinity
from tests.evaluation.golden import golden_ratings


def error_percent(ratings):
    return 100 * (ratings.truth != ratings.answer).mean()


def explicit_bootstrap(ratings, resamples, seed, resample_items=True):
    """Scores of resampled rating sets built explicitly: every rating of a drawn rater on a drawn image.

    The draw counts come from the same generator calls as `hype_infinity` (raters, then images, each a
    multinomial of equal probabilities), so the scores must match its interval exactly.
    """
    raters, items = np.sort(ratings.rater.unique()), np.sort(ratings["item"].unique())
    rng = np.random.default_rng(seed)
    rater_draws = rng.multinomial(len(raters), np.full(len(raters), 1 / len(raters)), size=resamples)
    item_draws = rng.multinomial(len(items), np.full(len(items), 1 / len(items)), size=resamples)
    scores = []
    for rater_counts, item_counts in zip(rater_draws, item_draws, strict=True):
        drawn = ratings.merge(pd.DataFrame({"rater": np.repeat(raters, rater_counts)}), on="rater")
        if resample_items:
            drawn = drawn.merge(pd.DataFrame({"item": np.repeat(items, item_counts)}), on="item")
        if len(drawn):
            scores.append(error_percent(drawn))
    return np.array(scores)


def test_score_and_error_rates_equal_counts():
    ratings = golden_ratings()
    result = hype_infinity(ratings, resamples=200)
    synthetic, real = ratings[ratings.truth == "synthetic"], ratings[ratings.truth == "real"]
    assert result["score"] == pytest.approx(error_percent(ratings), abs=1e-12)
    assert result["fake_error"] == pytest.approx(100 * (synthetic.answer == "real").mean(), abs=1e-12)
    assert result["real_error"] == pytest.approx(100 * (real.answer == "synthetic").mean(), abs=1e-12)
    assert result["balanced_score"] == pytest.approx((result["fake_error"] + result["real_error"]) / 2)
    # Pooled over 180 synthetic and 24 real ratings, the score is the ratings-weighted mean of the two.
    assert result["score"] == pytest.approx((180 * result["fake_error"] + 24 * result["real_error"]) / 204)
    assert (result["n_ratings"], result["n_raters"], result["n_images"]) == (204, 3, 68)
    assert (result["resamples"], result["seed"]) == (200, 0)


def test_interval_equals_explicitly_resampled_ratings():
    ratings = golden_ratings()
    result = hype_infinity(ratings, resamples=200, seed=7)
    scores = explicit_bootstrap(ratings, 200, seed=7)
    assert len(scores) == 200
    assert (result["low"], result["high"]) == pytest.approx(tuple(np.percentile(scores, [2.5, 97.5])), abs=1e-9)
    narrower = hype_infinity(ratings, resamples=200, seed=7, confidence=0.5)
    assert (narrower["low"], narrower["high"]) == pytest.approx(tuple(np.percentile(scores, [25, 75])), abs=1e-9)


def test_images_are_resampled_too():
    # Many raters of equal skill but images that differ a lot (half of the synthetic ones fool almost
    # everybody): the uncertainty lies in the images, which resampling raters alone would miss.
    rng = np.random.default_rng(3)
    n_raters, n_images = 40, 60
    truth = np.tile(["real"] * 20 + ["synthetic"] * 40, n_raters)
    fool_rate = np.concatenate([np.full(20, 0.2), np.full(20, 0.05), np.full(20, 0.9)])
    fooled = (rng.random((n_raters, n_images)) < fool_rate).ravel()
    ratings = pd.DataFrame(
        {
            "rater": np.repeat(np.arange(n_raters), n_images),
            "item": np.tile(np.arange(n_images), n_raters),
            "truth": truth,
            "answer": np.where(fooled, np.where(truth == "real", "synthetic", "real"), truth),
        }
    )
    result = hype_infinity(ratings, resamples=300)
    raters_only = np.percentile(explicit_bootstrap(ratings, 300, seed=0, resample_items=False), [2.5, 97.5])
    assert result["high"] - result["low"] > 3 * (raters_only[1] - raters_only[0])


def test_deterministic_for_a_seed_and_independent_of_row_order():
    ratings = golden_ratings()
    first = hype_infinity(ratings, resamples=300, seed=5)
    assert hype_infinity(ratings, resamples=300, seed=5) == first
    shuffled = ratings.sample(frac=1, random_state=1)
    assert hype_infinity(shuffled, resamples=300, seed=5) == pytest.approx(first)
    other = hype_infinity(ratings, resamples=300, seed=6)
    assert (other["low"], other["high"]) != (first["low"], first["high"])
    assert other["score"] == first["score"]


def test_interval_covers_the_score_and_narrows_with_more_raters():
    few = hype_infinity(golden_ratings(n_raters=3))
    many = hype_infinity(golden_ratings(n_raters=30))
    for result in (few, many):
        assert 0 <= result["low"] <= result["score"] <= result["high"] <= 100
        assert result["balanced_low"] <= result["balanced_score"] <= result["balanced_high"]
    assert many["high"] - many["low"] < 0.6 * (few["high"] - few["low"])


def test_resamples_without_any_rating_are_left_out():
    # Three raters who rated different images: a resample may draw raters and images that never met.
    ratings = pd.DataFrame(
        {
            "rater": ["a", "a", "b", "b", "c", "c"],
            "item": [0, 1, 2, 3, 4, 5],
            "truth": ["real", "synthetic"] * 3,
            "answer": ["real", "real", "synthetic", "synthetic", "real", "synthetic"],
        }
    )
    result = hype_infinity(ratings, resamples=200, seed=2)
    scores = explicit_bootstrap(ratings, 200, seed=2)
    assert 0 < len(scores) < 200
    assert (result["low"], result["high"]) == pytest.approx(tuple(np.percentile(scores, [2.5, 97.5])), abs=1e-9)


def test_one_kind_only_and_empty_frame_give_nan():
    ratings = golden_ratings()
    synthetic_only = hype_infinity(ratings[ratings.truth == "synthetic"], resamples=100)
    assert math.isnan(synthetic_only["real_error"]) and math.isnan(synthetic_only["balanced_score"])
    assert math.isnan(synthetic_only["balanced_low"])
    assert synthetic_only["score"] == synthetic_only["fake_error"]
    empty = hype_infinity(ratings.iloc[:0])
    for key in ("score", "low", "high", "fake_error", "real_error", "balanced_score"):
        assert math.isnan(empty[key]), key
    assert (empty["n_ratings"], empty["n_raters"], empty["n_images"]) == (0, 0, 0)


@pytest.mark.parametrize("column", ["rater", "item", "truth", "answer"])
def test_missing_column_is_named(column):
    with pytest.raises(ValueError, match=f"lacks the column\\(s\\) {column}"):
        hype_infinity(golden_ratings().drop(columns=column))


def test_invalid_arguments_are_refused():
    ratings = golden_ratings()
    with pytest.raises(ValueError, match="resamples"):
        hype_infinity(ratings, resamples=0)
    with pytest.raises(ValueError, match="confidence"):
        hype_infinity(ratings, confidence=1.5)
    with pytest.raises(ValueError, match="answer"):
        hype_infinity(ratings.assign(answer="maybe"))
