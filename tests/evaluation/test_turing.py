"""Turing-test statistics equal statsmodels and scipy called directly, and Wilson's closed formula."""

import math

import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from evaluation.turing import confusion_matrix, turing_summary, turing_table, wilson_interval
from tests.evaluation.golden import golden_ratings


def wilson_by_formula(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (7, 12), (0, 60), (60, 60), (34, 60), (1, 1000)])
def test_wilson_interval_equals_statsmodels_and_closed_formula(k, n):
    low, high = wilson_interval(k, n)
    assert (low, high) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="wilson"), abs=1e-12)
    assert (low, high) == pytest.approx(wilson_by_formula(k, n), abs=1e-12)
    assert 0 <= low <= k / n <= high <= 1


def test_wilson_interval_other_confidence_empty_and_invalid():
    assert wilson_interval(34, 60, confidence=0.9) == pytest.approx(
        proportion_confint(34, 60, alpha=0.1, method="wilson"), abs=1e-12
    )
    assert all(math.isnan(bound) for bound in wilson_interval(0, 0))
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 4)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 4, confidence=95)


def test_summary_equals_counts_statsmodels_and_scipy():
    ratings = golden_ratings()
    summary = turing_summary(ratings)
    synthetic = ratings[ratings.truth == "synthetic"]
    real = ratings[ratings.truth == "real"]
    correct = int((ratings.truth == ratings.answer).sum())
    detected = int((synthetic.answer == "synthetic").sum())
    real_called_real = int((real.answer == "real").sum())
    assert summary["n_ratings"] == 204
    assert (summary["n_raters"], summary["n_images"]) == (3, 68)
    assert (summary["n_real"], summary["n_synthetic"]) == (24, 180)
    assert (summary["n_real_images"], summary["n_synthetic_images"]) == (8, 60)
    assert summary["correct"] == correct == detected + real_called_real
    assert summary["accuracy"] == pytest.approx(correct / 204, abs=1e-15)
    assert summary["binomial_p"] == pytest.approx(stats.binomtest(correct, 204, 0.5).pvalue, rel=1e-12)
    expected = {
        "accuracy": (correct, 204),
        "sensitivity": (detected, 180),
        "specificity": (real_called_real, 24),
        "synthetic_called_real": (180 - detected, 180),
    }
    for name, (k, n) in expected.items():
        assert summary[name] == pytest.approx(k / n, abs=1e-15), name
        assert (summary[f"{name}_low"], summary[f"{name}_high"]) == pytest.approx(
            proportion_confint(k, n, method="wilson"), abs=1e-12
        ), name
    assert summary["sensitivity"] + summary["synthetic_called_real"] == pytest.approx(1)
    assert summary["balanced_accuracy"] == pytest.approx((detected / 180 + real_called_real / 24) / 2)
    # The fixture's raters are right about 73% of the time: clearly better than chance.
    assert summary["accuracy_low"] > 0.5
    assert summary["conclusive"] is True
    assert summary["note"] == ""


@pytest.mark.parametrize(
    ("correct", "n", "conclusive", "note"),
    [
        (7, 12, False, "CI covers 50%: cannot tell whether raters beat chance; CI 32% to 81% is too wide to conclude"),
        (110, 200, False, "CI covers 50%: cannot tell whether raters beat chance (n=200)"),
        (5, 5, True, "CI 57% to 100% is too wide to conclude anything (n=5)"),
        (150, 200, True, ""),
        (40, 200, True, "raters are wrong more often than chance"),
    ],
)
def test_conclusive_and_note(correct, n, conclusive, note):
    ratings = pd.DataFrame(
        {
            "rater": "a",
            "item": range(n),
            "truth": "synthetic",
            "answer": ["synthetic"] * correct + ["real"] * (n - correct),
        }
    )
    summary = turing_summary(ratings)
    assert summary["conclusive"] is conclusive
    assert summary["note"].startswith(note) if note else summary["note"] == ""
    low, high = proportion_confint(correct, n, method="wilson")
    assert conclusive == (not low <= 0.5 <= high)


def test_table_by_rater_equals_summary_of_each_rater():
    ratings = golden_ratings()
    table = turing_table(ratings, by="rater")
    assert list(table.columns) == ["group", *turing_summary(ratings)]
    assert list(table.group) == ["rater00", "rater01", "rater02"]
    for row in table.itertuples(index=False):
        row = row._asdict()
        alone = turing_summary(ratings[ratings.rater == row.pop("group")])
        assert row.keys() == alone.keys()
        for key, value in alone.items():
            assert row[key] == value, key
    # Skills 0.55, 0.75, 0.9 must come out in that order.
    assert table.accuracy.is_monotonic_increasing


def test_table_pooled_and_by_profession_with_an_unknown_profession():
    ratings = golden_ratings(n_raters=6)
    pooled = turing_table(ratings)
    assert list(pooled.group) == ["all"]
    assert pooled.iloc[0].drop("group").to_dict() == turing_summary(ratings)
    ratings.loc[ratings.rater == "rater05", "profession"] = None
    by_profession = turing_table(ratings, by="profession")
    assert list(by_profession.group[:3]) == ["clinician", "engineer", "sonographer"]
    assert by_profession.group.iloc[3] is None or pd.isna(by_profession.group.iloc[3])
    assert list(by_profession.n_raters) == [2, 1, 2, 1]
    assert by_profession.n_ratings.sum() == len(ratings)


def test_group_without_real_images_gets_nan_specificity():
    ratings = golden_ratings()
    ratings = ratings[~((ratings.rater == "rater02") & (ratings.truth == "real"))]
    row = turing_table(ratings, by="rater").set_index("group").loc["rater02"]
    assert row.n_real == 0
    assert all(math.isnan(row[key]) for key in ("specificity", "specificity_low", "specificity_high"))
    assert row.sensitivity == pytest.approx((ratings[ratings.rater == "rater02"].answer == "synthetic").mean())


def test_empty_frame_gives_nan_estimates_and_empty_tables():
    empty = golden_ratings().iloc[:0]
    summary = turing_summary(empty)
    assert summary["n_ratings"] == 0 and summary["correct"] == 0
    nan_keys = [key for key in summary if key.startswith(("accuracy", "sensitivity", "specificity", "synthetic"))]
    assert all(math.isnan(summary[key]) for key in [*nan_keys, "binomial_p"])
    assert summary["conclusive"] is False
    assert summary["note"] == "no ratings"
    by_rater = turing_table(empty, by="rater")
    assert by_rater.empty and list(by_rater.columns) == ["group", *summary]
    assert turing_table(empty).iloc[0].n_ratings == 0
    assert confusion_matrix(empty).to_numpy().tolist() == [[0, 0], [0, 0]]


def test_confusion_matrix_counts_each_cell_and_fills_zeros():
    ratings = golden_ratings()
    matrix = confusion_matrix(ratings)
    assert matrix.index.name == "truth" and matrix.columns.name == "answer"
    assert list(matrix.index) == list(matrix.columns) == ["real", "synthetic"]
    for truth in ("real", "synthetic"):
        for answer in ("real", "synthetic"):
            assert matrix.loc[truth, answer] == ((ratings.truth == truth) & (ratings.answer == answer)).sum()
    always_synthetic = ratings.assign(answer="synthetic")
    assert confusion_matrix(always_synthetic).loc[:, "real"].tolist() == [0, 0]


@pytest.mark.parametrize("column", ["rater", "item", "truth", "answer"])
def test_missing_column_is_named(column):
    ratings = golden_ratings().drop(columns=column)
    with pytest.raises(ValueError, match=f"lacks the column\\(s\\) {column}"):
        turing_summary(ratings)
    with pytest.raises(ValueError, match=column):
        turing_table(ratings)


def test_unknown_group_column_and_labels_are_refused():
    ratings = golden_ratings()
    with pytest.raises(ValueError, match="hospital"):
        turing_table(ratings, by="hospital")
    with pytest.raises(ValueError, match="answer"):
        confusion_matrix(ratings.assign(answer="fake"))
    with pytest.raises(ValueError, match="truth"):
        turing_summary(ratings.assign(truth="Real"))
