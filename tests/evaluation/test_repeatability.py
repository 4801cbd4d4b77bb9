"""Intra-rater kappas equal hand computations (Cohen 1960; Cohen 1968), statsmodels and a published example;
the percentile bootstrap (Efron & Tibshirani 1993, ch. 13) resamples a rater's pairs, and images as clusters
when pooled, in the draw order the module documents."""

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from evaluation.repeatability import PAIR_COLUMNS, RELIABILITY_COLUMNS, intra_rater_agreement, methods_text

ANSWERS = ["real", "synthetic"]
QUALITY = [1, 2, 3, 4, 5]
R, S = "real", "synthetic"

# Two raters, the same five images, each shown twice: (first answer, second answer), then quality scores.
HAND_EXAMPLE = {
    "A": ([(R, R), (R, R), (S, S), (S, R), (S, S)], [1, 2, 3, 4, 5], [1, 3, 3, 5, 5]),
    "B": ([(R, R), (R, R), (R, R), (S, S), (S, R)], [5, 4, 4, 2, 1], [5, 4, 3, 2, 2]),
}


def make_pairs(raters):
    """Pairs frame from ``{rater: (answer pairs, quality_first, quality_second)}``, images numbered from 1."""
    rows = []
    for rater, (answers, quality_first, quality_second) in raters.items():
        for image, ((first, second), q_first, q_second) in enumerate(
            zip(answers, quality_first, quality_second, strict=True), start=1
        ):
            rows.append([rater, image, first, second, q_first, q_second])
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def random_pairs(raters, images, seed, repeat_probability=0.8):
    """Pairs of raters who each answer the same way again with ``repeat_probability`` and score within one step."""
    rng = np.random.default_rng(seed)
    rows = []
    for rater in raters:
        for image in images:
            first, quality = rng.choice(ANSWERS), int(rng.integers(1, 6))
            second = first if rng.random() < repeat_probability else {R: S, S: R}[first]
            rows.append([rater, image, first, second, quality, int(np.clip(quality + rng.integers(-1, 2), 1, 5))])
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def statsmodels_kappa(first, second, categories, wt=None):
    """statsmodels' kappa of the contingency table of ``first`` (rows) against ``second`` (columns)."""
    positions = {category: position for position, category in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    np.add.at(table, ([positions[x] for x in first], [positions[y] for y in second]), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return cohens_kappa(table, wt=wt, return_results=False)


def pooled_over_raters(pairs, first, second, categories, quadratic=False):
    """de Vries et al. (2008)'s pooled kappa written out: 1 - sum_r n_r (1 - p_o,r) / sum_r n_r (1 - p_e,r), each
    rater's weighted p_o and p_e from their own contingency table (agreement weights 1 - ((i - j) / (K - 1))^2)."""
    size = len(categories)
    distance = np.subtract.outer(np.arange(size), np.arange(size)) / (size - 1)
    agreement = 1 - distance**2 if quadratic else (distance == 0).astype(float)
    observed_disagreement = expected_disagreement = 0.0
    for _, own in pairs.groupby("rater"):
        table = np.zeros((size, size))
        np.add.at(table, ([categories.index(x) for x in own[first]], [categories.index(y) for y in own[second]]), 1)
        proportions = table / len(own)
        p_o = (agreement * proportions).sum()
        p_e = (agreement * np.outer(proportions.sum(axis=1), proportions.sum(axis=0))).sum()
        observed_disagreement += len(own) * (1 - p_o)
        expected_disagreement += len(own) * (1 - p_e)
    return 1 - observed_disagreement / expected_disagreement if expected_disagreement else math.nan


def test_kappas_of_the_hand_example():
    # Answers, kappa = (p_o - p_e) / (1 - p_e) (Cohen 1960), rows first showing, columns second:
    #   A: real-real 2, synthetic-real 1, synthetic-synthetic 2. p_o = 4/5; first real 2/5, synthetic 3/5;
    #      second real 3/5, synthetic 2/5; p_e = 2/5 * 3/5 + 3/5 * 2/5 = 12/25; kappa = (8/25) / (13/25) = 8/13.
    #   B: real-real 3, synthetic-real 1, synthetic-synthetic 1. p_o = 4/5; first 3/5, 2/5; second 4/5, 1/5;
    #      p_e = 12/25 + 2/25 = 14/25; kappa = (6/25) / (11/25) = 6/11.
    #   Pooled (de Vries et al. 2008), each rater's chance agreement from their own margins, 5 pairs each:
    #      (mean p_o - mean p_e) / (1 - mean p_e) = (4/5 - 13/25) / (12/25) = (7/25) / (12/25) = 7/12.
    # Quality, quadratic weights (Cohen 1968): agreement weight 1 - ((x - y) / 4)^2, so
    #   p_o(w) = 1 - mean_i (x_i - y_i)^2 / 16 and p_e(w) = 1 - mean_ij (x_i - y_j)^2 / 16 over all n^2 pairings.
    #   A: x = 1 2 3 4 5, y = 1 3 3 5 5. sum_i (x_i - y_i)^2 = 2, p_o(w) = 1 - 2/80 = 39/40.
    #      sum_ij (x_i - y_j)^2 = 40 + 21 + 12 + 13 + 24 = 110 (rows x = 1..5), p_e(w) = 1 - 110/400 = 29/40;
    #      kappa = (39/40 - 29/40) / (11/40) = 10/11.
    #   B: x = 5 4 4 2 1, y = 5 4 3 2 2. sum_i = 2, p_o(w) = 39/40. sum_ij = 23 + 10 + 10 + 14 + 31 = 88,
    #      p_e(w) = 1 - 88/400 = 39/50; kappa = (39/40 - 39/50) / (11/50) = (39/200) / (44/200) = 39/44.
    #   Pooled: mean p_o(w) = 39/40, mean p_e(w) = (29/40 + 39/50) / 2 = (145 + 156) / 400 = 301/400;
    #      kappa = (390/400 - 301/400) / (99/400) = 89/99.
    table = intra_rater_agreement(make_pairs(HAND_EXAMPLE), resamples=50).set_index("rater")
    assert list(table.index) == ["A", "B", "pooled"]
    assert list(table.n_pairs) == [5, 5, 10]
    assert list(table.answer_agreement) == pytest.approx([4 / 5, 4 / 5, 8 / 10], abs=1e-12)
    assert list(table.kappa_answer) == pytest.approx([8 / 13, 6 / 11, 7 / 12], abs=1e-12)
    assert list(table.kappa_quality) == pytest.approx([10 / 11, 39 / 44, 89 / 99], abs=1e-12)


def test_kappas_equal_statsmodels():
    pairs = pd.concat([make_pairs(HAND_EXAMPLE), random_pairs(["C", "D"], range(40), seed=3)], ignore_index=True)
    table = intra_rater_agreement(pairs, resamples=20).set_index("rater")
    for rater, own in pairs.groupby("rater"):
        expected_answer = statsmodels_kappa(own.answer_first, own.answer_second, ANSWERS)
        expected_quality = statsmodels_kappa(own.quality_first, own.quality_second, QUALITY, wt="quadratic")
        assert table.loc[rater, "kappa_answer"] == pytest.approx(expected_answer, abs=1e-12), rater
        assert table.loc[rater, "kappa_quality"] == pytest.approx(expected_quality, abs=1e-12), rater
    pooled_answer = pooled_over_raters(pairs, "answer_first", "answer_second", ANSWERS)
    pooled_quality = pooled_over_raters(pairs, "quality_first", "quality_second", QUALITY, quadratic=True)
    assert table.loc["pooled", "kappa_answer"] == pytest.approx(pooled_answer, abs=1e-12)
    assert table.loc["pooled", "kappa_quality"] == pytest.approx(pooled_quality, abs=1e-12)


def test_raters_who_each_keep_to_their_own_answer_are_not_pooled_into_agreement():
    # A answers real at 10 of 11 first showings and 10 of 11 second ones, B synthetic, each disagreeing with
    # themselves twice: p_o = 9/11 = 99/121, p_e = (10/11)^2 + (1/11)^2 = 101/121, kappa = -2/20 = -0.1 for each,
    # and pooled. One table of all 22 pairs (chance from the pooled margins, p_e = 1/2) would say 0.64.
    a = [(R, R)] * 9 + [(R, S), (S, R)]
    b = [(S, S)] * 9 + [(S, R), (R, S)]
    quality = [3] * 11
    table = intra_rater_agreement(make_pairs({"A": (a, quality, quality), "B": (b, quality, quality)}), resamples=50)
    assert list(table.kappa_answer) == pytest.approx([-0.1, -0.1, -0.1], abs=1e-12)


def test_answer_kappa_of_the_published_two_by_two_example():
    # Wikipedia, "Cohen's kappa", simple example: 50 items, yes-yes 20, yes-no 5, no-yes 10, no-no 15;
    # p_o = 0.7, p_e = 0.5, kappa = 0.4. Here the two readers are one rater's two showings.
    answers = [(R, R)] * 20 + [(R, S)] * 5 + [(S, R)] * 10 + [(S, S)] * 15
    quality = [3] * 50
    row = intra_rater_agreement(make_pairs({"A": (answers, quality, quality)}), resamples=20).iloc[0]
    assert row.answer_agreement == pytest.approx(0.7, abs=1e-12)
    assert row.kappa_answer == pytest.approx(0.4, abs=1e-12)
    # One score at every showing: chance agreement is already perfect, so the weighted kappa is undefined.
    assert math.isnan(row.kappa_quality) and math.isnan(row.kappa_quality_low)


def test_bootstrap_interval_holds_the_estimate_and_is_reproducible():
    pairs = random_pairs(["A", "B", "C"], range(30), seed=1)
    table = intra_rater_agreement(pairs, resamples=200, seed=7)
    for name in ("kappa_answer", "kappa_quality"):
        assert (table[f"{name}_low"] <= table[name]).all() and (table[name] <= table[f"{name}_high"]).all(), name
        assert (table[f"{name}_low"] < table[f"{name}_high"]).all(), name
    pd.testing.assert_frame_equal(table, intra_rater_agreement(pairs, resamples=200, seed=7))
    other_seed = intra_rater_agreement(pairs, resamples=200, seed=8)
    assert not np.allclose(table.kappa_answer_low, other_seed.kappa_answer_low)
    # Each row draws from its own default_rng(seed): a rater's interval does not depend on who else is in the frame.
    without_c = intra_rater_agreement(pairs[pairs.rater != "C"], resamples=200, seed=7)
    pd.testing.assert_frame_equal(without_c.iloc[:2], table.iloc[:2])


def test_pooled_bootstrap_resamples_images_as_clusters():
    # Raters see different, overlapping images, so the clusters (one image's pairs) differ in size.
    pairs = pd.concat(
        [random_pairs(["A"], range(0, 20), seed=1), random_pairs(["B"], range(10, 30), seed=2)], ignore_index=True
    )
    pairs = pd.concat([pairs, random_pairs(["C"], range(5, 25), seed=3)], ignore_index=True)
    seed, resamples = 11, 200
    pooled = intra_rater_agreement(pairs, resamples=resamples, seed=seed).iloc[-1]
    # The documented draw order: images sorted, one integers(0, n, size=(resamples, n)) call, row b = resample b.
    images = np.sort(pairs.image.unique())
    draws = np.random.default_rng(seed).integers(0, len(images), size=(resamples, len(images)))
    answer_kappas, quality_kappas = [], []
    for draw in draws:
        resample = pd.concat([pairs[pairs.image == images[i]] for i in draw])
        answer_kappas.append(pooled_over_raters(resample, "answer_first", "answer_second", ANSWERS))
        quality_kappas.append(
            pooled_over_raters(resample, "quality_first", "quality_second", QUALITY, quadratic=True)
        )
    for name, kappas in (("kappa_answer", answer_kappas), ("kappa_quality", quality_kappas)):
        low, high = np.nanpercentile(kappas, [2.5, 97.5])
        assert pooled[f"{name}_low"] == pytest.approx(low, abs=1e-12), name
        assert pooled[f"{name}_high"] == pytest.approx(high, abs=1e-12), name


def test_pooled_interval_of_identical_raters_is_one_raters_interval():
    # B repeats A's pairs image for image. A cluster resample of images holds each drawn image's pair twice, which
    # leaves every proportion, and so the kappa, as in the same draw of A's pairs: the intervals are equal.
    one = random_pairs(["A"], range(25), seed=5)
    pairs = pd.concat([one, one.assign(rater="B")], ignore_index=True)
    table = intra_rater_agreement(pairs, resamples=300, seed=2).set_index("rater")
    bounds = ["kappa_answer_low", "kappa_answer_high", "kappa_quality_low", "kappa_quality_high"]
    assert list(table.loc["pooled", bounds]) == pytest.approx(list(table.loc["A", bounds]), abs=1e-12)
    # A bootstrap of the 50 pairs as if independent would be narrower, roughly by 1/sqrt(2).
    draws = np.random.default_rng(2).integers(0, len(pairs), size=(300, len(pairs)))
    first, second = pairs.answer_first.to_numpy(), pairs.answer_second.to_numpy()
    naive = [statsmodels_kappa(first[d], second[d], ANSWERS) for d in draws]
    naive_low, naive_high = np.nanpercentile(naive, [2.5, 97.5])
    assert naive_high - naive_low < table.loc["pooled", "kappa_answer_high"] - table.loc["pooled", "kappa_answer_low"]


def test_perfect_agreement_has_kappa_one():
    answers = [(R, R), (S, S), (R, R), (S, S), (S, S), (R, R)]
    quality = [1, 3, 5, 2, 4, 4]
    table = intra_rater_agreement(make_pairs({"A": (answers, quality, quality)}), resamples=100)
    # Every resample agrees perfectly too: its kappa is 1, or undefined when it drew a single category.
    for column in RELIABILITY_COLUMNS[2:]:
        assert list(table[column]) == [1.0, 1.0], column


def test_a_rater_with_one_pair_has_no_interval():
    pairs = make_pairs({**HAND_EXAMPLE, "C": ([(R, S)], [2], [3])})
    row = intra_rater_agreement(pairs, resamples=50).set_index("rater").loc["C"]
    assert row.n_pairs == 1
    for column in ["kappa_answer_low", "kappa_answer_high", "kappa_quality_low", "kappa_quality_high"]:
        assert math.isnan(row[column]), column


def test_empty_pairs_and_missing_columns():
    table = intra_rater_agreement(pd.DataFrame(columns=PAIR_COLUMNS))
    assert list(table.columns) == RELIABILITY_COLUMNS and table.empty
    assert methods_text(table, n_images=0, gap=5) == ""
    with pytest.raises(ValueError, match="quality_second"):
        intra_rater_agreement(make_pairs(HAND_EXAMPLE).drop(columns="quality_second"))


def test_methods_text_wording():
    row = {"rater": "pooled", "n_pairs": 10, "answer_agreement": 0.8, "kappa_answer": 0.6}
    row |= {"kappa_answer_low": 0.2, "kappa_answer_high": 0.9, "kappa_quality": math.nan}
    row |= {"kappa_quality_low": math.nan, "kappa_quality_high": math.nan}
    text = methods_text(pd.DataFrame([row], columns=RELIABILITY_COLUMNS), n_images=5, gap=20)
    assert text == (
        "5 images were shown to each rater a second time, at least 20 images after the first showing, and only the "
        "first showing enters the other statistics; intra-rater agreement over 10 pairs (the same answer in 80.0%): "
        "Cohen's kappa of real/synthetic 0.60 (95% CI 0.20 to 0.90), quadratic weighted kappa of quality undefined "
        "(95% CI undefined), bootstrap over images."
    )
    assert "nan" not in text.lower()
