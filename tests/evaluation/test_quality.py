"""Quality summaries equal pandas and scipy's t interval; real against synthetic equals scipy's Mann-Whitney U."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.quality import quality_by_kind, quality_summary
from tests.evaluation.golden import golden_ratings

SUMMARY = ["n", "mean", "sd", "low", "high", "median"]


def t_interval(values):
    values = np.asarray(values, dtype=float)
    return stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))


def test_summary_by_two_columns_equals_pandas_and_scipy():
    ratings = golden_ratings()
    table = quality_summary(ratings, ["rater", "truth"])
    assert list(table.columns) == ["rater", "truth", *SUMMARY]
    assert list(zip(table.rater, table.truth, strict=True)) == [
        (rater, truth) for rater in ("rater00", "rater01", "rater02") for truth in ("real", "synthetic")
    ]
    for row in table.itertuples():
        scores = ratings[(ratings.rater == row.rater) & (ratings.truth == row.truth)].quality
        assert row.n == len(scores) == (8 if row.truth == "real" else 60)
        assert row.mean == pytest.approx(scores.mean(), abs=1e-12)
        assert row.sd == pytest.approx(scores.std(), abs=1e-12)
        assert row.median == scores.median()
        assert (row.low, row.high) == pytest.approx(t_interval(scores), abs=1e-12)


def test_summary_by_one_column_name_and_sorted():
    ratings = golden_ratings(n_raters=6).sample(frac=1, random_state=0)
    table = quality_summary(ratings, "profession")
    assert list(table.columns) == ["profession", *SUMMARY]
    assert list(table.profession) == ["clinician", "engineer", "sonographer"]
    assert list(table.n) == [136, 136, 136]
    assert table.equals(quality_summary(ratings, ["profession"]))


def test_summary_of_tiny_and_empty_groups_and_missing_scores():
    ratings = pd.DataFrame({"set": ["a", "b", "b", "c", "c"], "quality": [4, 2, 5, None, 3]})
    table = quality_summary(ratings, "set").set_index("set")
    assert table.loc["a", "n"] == 1 and table.loc["a", "mean"] == 4 and table.loc["a", "median"] == 4
    assert all(math.isnan(table.loc["a", key]) for key in ("sd", "low", "high"))
    assert table.loc["b", "n"] == 2
    assert (table.loc["b", "low"], table.loc["b", "high"]) == pytest.approx(t_interval([2, 5]), abs=1e-12)
    assert table.loc["c", "n"] == 1 and table.loc["c", "mean"] == 3
    empty = quality_summary(ratings.iloc[:0], "set")
    assert empty.empty and list(empty.columns) == ["set", *SUMMARY]


def test_real_against_synthetic_equals_scipy():
    ratings = golden_ratings()
    result = quality_by_kind(ratings)
    real = ratings[ratings.truth == "real"].quality.to_numpy()
    synthetic = ratings[ratings.truth == "synthetic"].quality.to_numpy()
    test = stats.mannwhitneyu(real, synthetic, alternative="two-sided")
    assert result["mann_whitney_u"] == pytest.approx(test.statistic, abs=1e-9)
    assert result["p"] == pytest.approx(test.pvalue, rel=1e-12)
    # Rank-biserial r by counting pairs: P(real > synthetic) - P(real < synthetic).
    sign = np.sign(np.subtract.outer(real, synthetic))
    assert result["rank_biserial"] == pytest.approx(sign.mean(), abs=1e-12)
    # The fixture rates real images higher, so r is positive and the difference clear.
    assert result["rank_biserial"] > 0.2 and result["p"] < 0.01
    for kind, scores in (("real", real), ("synthetic", synthetic)):
        summary = result[kind]
        assert list(summary) == SUMMARY
        assert summary["n"] == len(scores) and summary["mean"] == pytest.approx(scores.mean())
        assert (summary["low"], summary["high"]) == pytest.approx(t_interval(scores), abs=1e-12)
    assert result["note"] == ""


def test_rank_biserial_sign_follows_which_kind_is_rated_higher():
    lower_real = golden_ratings().assign(quality=lambda frame: np.where(frame.truth == "real", 1, 3))
    result = quality_by_kind(lower_real)
    assert result["rank_biserial"] == -1.0
    assert result["mann_whitney_u"] == 0


def test_too_few_ratings_and_empty_side():
    ratings = golden_ratings()
    few_real = pd.concat([ratings[ratings.truth == "real"].head(4), ratings[ratings.truth == "synthetic"]])
    result = quality_by_kind(few_real)
    assert result["note"].startswith("too few ratings")
    assert "real n=4" in result["note"]
    assert result["p"] == pytest.approx(
        stats.mannwhitneyu(
            few_real[few_real.truth == "real"].quality, ratings[ratings.truth == "synthetic"].quality
        ).pvalue
    )
    no_real = quality_by_kind(ratings[ratings.truth == "synthetic"])
    assert no_real["real"]["n"] == 0 and math.isnan(no_real["real"]["mean"])
    assert all(math.isnan(no_real[key]) for key in ("mann_whitney_u", "p", "rank_biserial"))
    empty = quality_by_kind(ratings.iloc[:0])
    assert math.isnan(empty["synthetic"]["mean"]) and math.isnan(empty["p"])


def test_missing_columns_and_non_numeric_scores_are_refused():
    ratings = golden_ratings()
    with pytest.raises(ValueError, match=r"lacks the column\(s\) quality"):
        quality_summary(ratings.drop(columns="quality"), "rater")
    with pytest.raises(ValueError, match="hospital"):
        quality_summary(ratings, ["rater", "hospital"])
    with pytest.raises(ValueError, match=r"lacks the column\(s\) truth"):
        quality_by_kind(ratings.drop(columns="truth"))
    with pytest.raises(ValueError, match="numeric"):
        quality_by_kind(ratings.assign(quality="good"))
    with pytest.raises(ValueError, match="truth"):
        quality_by_kind(ratings.assign(truth="fake"))
