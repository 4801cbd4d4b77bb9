"""Kappas equal worked examples and statsmodels; ICC(2,1) equals Shrout & Fleiss (1979) and an OLS ANOVA."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats import anova
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from evaluation.agreement import cohen_kappa, fleiss_kappa, icc, pairwise_kappa
from tests.evaluation.golden import golden_ratings

QUALITY = [1, 2, 3, 4, 5]

# Shrout & Fleiss (1979), Table 2: 6 targets (rows) scored by 4 judges (columns). Their Table 3 gives the
# ANOVA mean squares below and ICC(2,1) = 0.29.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
SHROUT_FLEISS_MEAN_SQUARES = {"ms_items": 11.24, "ms_raters": 32.49, "ms_error": 1.02}

# Fleiss (1971) style example (as worked in the Wikipedia article "Fleiss' kappa"): 10 items, 14 raters
# each, counts per category 1..5; kappa = 0.210.
FLEISS_COUNTS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def table_ratings(scores):
    """Long ratings frame of an items x raters matrix."""
    items, raters = np.indices(scores.shape)
    return pd.DataFrame(
        {"item": items.ravel(), "rater": [f"judge{r}" for r in raters.ravel()], "quality": scores.ravel()}
    )


def labels_from_table(table):
    """Two label lists whose 2x2 cross-table is ``table`` (rows: rater a, columns: rater b)."""
    a, b = [], []
    for (i, j), count in np.ndenumerate(table):
        a += [["yes", "no"][i]] * count
        b += [["yes", "no"][j]] * count
    return a, b


def statsmodels_kappa(a, b, wt=None, categories=QUALITY):
    table = pd.crosstab(pd.Series(a, name="a"), pd.Series(b, name="b"))
    table = table.reindex(index=categories, columns=categories, fill_value=0).to_numpy()
    return cohens_kappa(table, wt=wt, return_results=False)


def test_cohen_kappa_of_a_worked_two_by_two_table():
    # 50 items: both say yes 20, a yes b no 5, a no b yes 10, both no 15.
    # p_o = 35/50 = 0.7; p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    a, b = labels_from_table(np.array([[20, 5], [10, 15]]))
    assert cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)
    assert cohen_kappa(a, a) == 1.0
    # Two categories: every weighting is the same disagreement indicator.
    assert cohen_kappa(a, b, weights="quadratic") == pytest.approx(0.4, abs=1e-12)


@pytest.mark.parametrize(("weights", "wt"), [(None, None), ("linear", "linear"), ("quadratic", "quadratic")])
def test_cohen_kappa_of_quality_equals_statsmodels(weights, wt):
    ratings = golden_ratings()
    a = ratings[ratings.rater == "rater00"].quality.to_numpy()
    b = ratings[ratings.rater == "rater01"].quality.to_numpy()
    expected = statsmodels_kappa(a, b, wt)
    assert cohen_kappa(a, b, weights=weights, categories=QUALITY) == pytest.approx(expected, abs=1e-12)


def test_weighted_kappa_scale_comes_from_the_categories():
    # Nobody used 2 or 4: with the full 1-5 scale a 1 against a 3 is 2 steps apart, not 1.
    a = [1, 3, 5, 5, 3, 1, 5, 3]
    b = [3, 3, 5, 3, 1, 1, 5, 5]
    full = cohen_kappa(a, b, weights="linear", categories=QUALITY)
    assert full == pytest.approx(statsmodels_kappa(a, b, "linear"), abs=1e-12)
    # Evenly spaced gaps keep linear weights in proportion, so kappa is unchanged...
    assert cohen_kappa(a, b, weights="linear") == pytest.approx(full, abs=1e-12)
    # ...but an uneven gap (1, 2, 5) changes the relative distances and so the kappa.
    c, d = [1, 2, 5, 5, 2, 1], [2, 2, 5, 1, 1, 1]
    assert cohen_kappa(c, d, weights="linear", categories=QUALITY) == pytest.approx(
        statsmodels_kappa(c, d, "linear"), abs=1e-12
    )
    assert cohen_kappa(c, d, weights="linear") != pytest.approx(cohen_kappa(c, d, weights="linear", categories=QUALITY))


def test_cohen_kappa_undefined_and_invalid_inputs():
    assert math.isnan(cohen_kappa([], []))
    # Both raters always say "synthetic": chance agreement is already perfect.
    assert math.isnan(cohen_kappa(["synthetic"] * 4, ["synthetic"] * 4))
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")
    with pytest.raises(ValueError, match="categories"):
        cohen_kappa([1, 6], [1, 2], categories=QUALITY)
    with pytest.raises(ValueError, match="missing"):
        cohen_kappa([1, None], [1, 2])


def test_pairwise_kappa_over_the_items_both_rated():
    ratings = golden_ratings(n_raters=4)
    # rater03 skipped the first ten images and rated image 11 twice (the first rating counts).
    ratings = ratings[~((ratings.rater == "rater03") & (ratings["item"] < 10))]
    repeat = ratings[(ratings.rater == "rater03") & (ratings["item"] == 11)].assign(answer="wrong-but-ignored")
    ratings = pd.concat([ratings, repeat], ignore_index=True)
    table = pairwise_kappa(ratings)
    assert list(table.columns) == ["rater_a", "rater_b", "n", "kappa"]
    raters = ["rater00", "rater01", "rater02", "rater03"]
    assert list(zip(table.rater_a, table.rater_b, strict=True)) == list(itertools.combinations(raters, 2))
    assert list(table.n) == [68, 68, 58, 68, 58, 58]
    first = ratings.drop_duplicates(["rater", "item"]).pivot(index="item", columns="rater", values="answer")
    for row in table.itertuples():
        both = first[[row.rater_a, row.rater_b]].dropna()
        expected = statsmodels_kappa(both[row.rater_a], both[row.rater_b], categories=["real", "synthetic"])
        assert row.kappa == pytest.approx(expected, abs=1e-12)


def test_pairwise_quadratic_kappa_and_pairs_that_share_no_item():
    ratings = golden_ratings()
    table = pairwise_kappa(ratings, column="quality", weights="quadratic")
    by_rater = ratings.pivot(index="item", columns="rater", values="quality")
    assert table.kappa.iloc[0] == pytest.approx(
        statsmodels_kappa(by_rater.rater00, by_rater.rater01, "quadratic"), abs=1e-12
    )
    # The fixture's quality depends on the image, so raters agree well beyond chance.
    assert (table.kappa > 0.4).all()
    apart = ratings[~((ratings.rater == "rater01") & (ratings["item"] < 68))]
    apart = pd.concat([apart, pd.DataFrame({"rater": ["rater01"], "item": [999], "answer": ["real"]})])
    row = pairwise_kappa(apart).set_index(["rater_a", "rater_b"]).loc[("rater00", "rater01")]
    assert row.n == 0 and math.isnan(row.kappa)


def test_fleiss_kappa_of_the_worked_example():
    rows = []
    for item, counts in enumerate(FLEISS_COUNTS):
        labels = np.repeat(np.arange(1, 6), counts)
        rows += [{"item": item, "rater": rater, "answer": label} for rater, label in enumerate(labels)]
    result = fleiss_kappa(pd.DataFrame(rows))
    assert result["kappa"] == pytest.approx(0.210, abs=5e-4)
    assert result["kappa"] == pytest.approx(statsmodels_fleiss_kappa(FLEISS_COUNTS), abs=1e-12)
    assert (result["n_items"], result["n_raters"]) == (10, 14)


def test_fleiss_kappa_uses_only_complete_items_and_equals_statsmodels():
    ratings = golden_ratings(n_raters=5)
    ratings = ratings[~((ratings.rater == "rater04") & ratings["item"].isin([3, 40, 41]))]
    result = fleiss_kappa(ratings)
    assert (result["n_items"], result["n_raters"], result["n_items_rated"]) == (65, 5, 68)
    complete = ratings[~ratings["item"].isin([3, 40, 41])].pivot(index="item", columns="rater", values="answer")
    counts, _ = aggregate_raters(complete.to_numpy())
    assert result["kappa"] == pytest.approx(statsmodels_fleiss_kappa(counts), abs=1e-12)
    two = ratings[ratings.rater.isin(["rater00", "rater01"])]
    # With two raters, Fleiss' kappa is Scott's pi, not Cohen's kappa: they differ a little.
    assert fleiss_kappa(two)["kappa"] == pytest.approx(
        statsmodels_fleiss_kappa(aggregate_raters(two.pivot(index="item", columns="rater", values="answer"))[0]),
        abs=1e-12,
    )


def test_fleiss_kappa_needs_two_raters_and_a_complete_item():
    ratings = golden_ratings()
    one = fleiss_kappa(ratings[ratings.rater == "rater00"])
    assert math.isnan(one["kappa"]) and one["n_raters"] == 1
    disjoint = ratings[
        (ratings.rater == "rater00") & (ratings["item"] < 30) | (ratings.rater == "rater01") & (ratings["item"] >= 30)
    ]
    none_complete = fleiss_kappa(disjoint)
    assert math.isnan(none_complete["kappa"]) and none_complete["n_items"] == 0
    empty = fleiss_kappa(ratings.iloc[:0])
    assert math.isnan(empty["kappa"]) and (empty["n_items"], empty["n_raters"]) == (0, 0)


def test_icc_equals_shrout_and_fleiss_1979():
    result = icc(table_ratings(SHROUT_FLEISS))
    for name, published in SHROUT_FLEISS_MEAN_SQUARES.items():
        assert result[name] == pytest.approx(published, abs=0.005), name
    n, k = SHROUT_FLEISS.shape
    ms = SHROUT_FLEISS_MEAN_SQUARES
    from_published = (ms["ms_items"] - ms["ms_error"]) / (
        ms["ms_items"] + (k - 1) * ms["ms_error"] + k * (ms["ms_raters"] - ms["ms_error"]) / n
    )
    assert result["icc"] == pytest.approx(0.29, abs=0.005)
    assert result["icc"] == pytest.approx(from_published, abs=1e-3)
    assert (result["n_items"], result["n_raters"]) == (6, 4)
    # R psych::ICC(sf), "Single_random_raters": F = 11 on (5, 15), p = 0.00013, 95% CI 0.019 to 0.76.
    assert result["p"] == pytest.approx(0.00013, abs=5e-6)
    assert result["low"] == pytest.approx(0.019, abs=5e-4)
    assert result["high"] == pytest.approx(0.76, abs=5e-3)


def test_icc_equals_two_way_anova_of_statsmodels_over_complete_items():
    ratings = golden_ratings(n_raters=4)
    incomplete = ratings[~((ratings.rater == "rater03") & (ratings["item"] >= 60))]
    result = icc(incomplete)
    assert (result["n_items"], result["n_raters"]) == (60, 4)
    complete = ratings[ratings["item"] < 60]
    fit = smf.ols("quality ~ C(item) + C(rater)", data=complete).fit()
    table = anova.anova_lm(fit, typ=2)
    mean_squares = table["sum_sq"] / table["df"]
    ms_items, ms_raters, ms_error = mean_squares["C(item)"], mean_squares["C(rater)"], mean_squares["Residual"]
    n, k = 60, 4
    expected = (ms_items - ms_error) / (ms_items + (k - 1) * ms_error + k * (ms_raters - ms_error) / n)
    assert result["icc"] == pytest.approx(expected, abs=1e-10)
    assert result["low"] < result["icc"] < result["high"]
    # The fixture's quality is mostly the image's own level: raters agree well.
    assert result["low"] > 0.3


def test_icc_edge_cases():
    assert icc(table_ratings(np.tile([[1], [3], [5]], 3)))["icc"] == 1.0
    same = icc(table_ratings(np.full((4, 3), 3)))
    assert math.isnan(same["icc"]) and math.isnan(same["p"])
    empty = icc(golden_ratings().iloc[:0])
    assert math.isnan(empty["icc"]) and math.isnan(empty["low"]) and empty["n_items"] == 0
    one_rater = icc(table_ratings(SHROUT_FLEISS[:, :1]))
    assert math.isnan(one_rater["icc"]) and one_rater["n_raters"] == 1
    with pytest.raises(ValueError, match="numeric"):
        icc(golden_ratings(), column="answer")


@pytest.mark.parametrize(
    ("function", "column"),
    [
        *[(function, column) for function in (pairwise_kappa, fleiss_kappa) for column in ("rater", "item", "answer")],
        *[(icc, column) for column in ("rater", "item", "quality")],
    ],
)
def test_missing_column_is_named(function, column):
    with pytest.raises(ValueError, match=f"lacks the column\\(s\\) {column}"):
        function(golden_ratings().drop(columns=column))
