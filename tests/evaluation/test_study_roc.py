"""`evaluation.study_roc`: the ROC and MRMC tables of a rating study, checked against the tests run directly."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation import study_roc
from evaluation.analysis import analyse, methods_paragraph, results_table
from evaluation.mrmc import or_hillis
from evaluation.turing import turing_table
from tests.evaluation.golden import N_REAL, golden_ratings


def with_confidence(ratings, seed=0):
    """Confidence 1-5 that is higher when the answer is right, so a 10-level score carries more than the answer."""
    rng = np.random.default_rng(seed)
    right = ratings["answer"] == ratings["truth"]
    confidence = np.clip(np.where(right, 4, 2) + rng.integers(-1, 2, len(ratings)), 1, 5)
    return ratings.assign(confidence=confidence)


def mrmc_input(ratings):
    return pd.DataFrame(
        {
            "reader": ratings["rater"],
            "case": ratings["item"].astype(str),
            "truth": (ratings["truth"] == "synthetic").astype(int),
            "score": ratings["score"],
        }
    )


def test_without_confidence_each_raters_auc_is_their_balanced_accuracy():
    ratings = golden_ratings()
    by_rater = study_roc.roc_by_rater(ratings).set_index("rater")
    balanced = turing_table(ratings, "rater").set_index("group")["balanced_accuracy"]
    assert by_rater["auc"].to_dict() == pytest.approx(balanced.to_dict())
    assert (by_rater["n_images"] == 68).all() and (by_rater["n_real"] == N_REAL).all()


def test_with_confidence_each_raters_auc_is_the_mann_whitney_u_of_the_ten_level_score():
    ratings = with_confidence(golden_ratings())
    scored = study_roc.scored(ratings)
    assert set(scored["score"]) <= set(range(1, 11)) and scored["score"].nunique() > 2
    by_rater = study_roc.roc_by_rater(ratings).set_index("rater")
    for rater, own in scored.groupby("rater"):
        synthetic, real = own.loc[own["positive"] == 1, "score"], own.loc[own["positive"] == 0, "score"]
        expected = stats.mannwhitneyu(synthetic, real).statistic / (len(synthetic) * len(real))
        assert by_rater.loc[rater, "auc"] == pytest.approx(expected)
        assert by_rater.loc[rater, "low"] < expected < by_rater.loc[rater, "high"]


def test_a_rater_who_rated_few_images_leaves_the_crossed_block_and_the_note_says_so():
    ratings = with_confidence(golden_ratings(n_raters=4))
    partial = ratings[(ratings["rater"] != "rater03") | (ratings["item"] < 10)]
    summary = study_roc.reader_averaged(partial)
    assert (summary["n_readers"], summary["n_raters"], summary["n_cases"]) == (3, 4, 68)
    assert summary["note"].startswith("fully crossed block: 3 of 4 raters x 68 of 68 images")
    block = study_roc.scored(partial[partial["rater"] != "rater03"])
    direct = or_hillis(mrmc_input(block))["modalities"][0]
    assert summary["auc"] == pytest.approx(direct["auc"]) and summary["rrrc"] == pytest.approx(direct["rrrc"])


def test_one_rater_gives_no_reader_averaged_auc_but_a_reason():
    summary = study_roc.reader_averaged(golden_ratings(n_raters=1))
    assert np.isnan(summary["auc"]) and "needs two raters" in summary["note"]


def test_each_set_is_analysed_against_every_real_image():
    ratings = with_confidence(golden_ratings())
    ratings.loc[(ratings["truth"] == "synthetic") & (ratings["item"] % 2 == 0), "set"] = "dcgan64-e500"
    table = study_roc.by_group(ratings, ["set"]).set_index("set")
    assert list(table.index) == ["dcgan64-e300", "dcgan64-e500"]
    scored = study_roc.scored(ratings)
    for name, row in table.iterrows():
        subset = scored[(scored["truth"] == "real") | (scored["set"] == name)]
        direct = or_hillis(mrmc_input(subset))["modalities"][0]
        assert (row["auc"], row["low"], row["high"]) == pytest.approx(
            (direct["auc"], direct["rrrc"]["low"], direct["rrrc"]["high"])
        )
        assert (row["n_real"], row["n_synthetic"], row["n_images"]) == (N_REAL, 30, N_REAL + 30)


def test_two_studies_of_the_same_images_and_readers_are_compared():
    first = with_confidence(golden_ratings(seed=0)).assign(study="64 px")
    second = with_confidence(golden_ratings(seed=5), seed=5).assign(study="128 px")
    comparison = study_roc.condition_comparison(pd.concat([first, second], ignore_index=True))
    (pair,) = comparison["comparisons"]
    aucs = {modality["modality"]: modality["auc"] for modality in comparison["modalities"]}
    assert pair["difference"] == pytest.approx(aucs[pair["modality_a"]] - aucs[pair["modality_b"]])
    assert comparison["n_readers"] == 3 and comparison["n_cases"] == 68
    assert study_roc.condition_comparison(first) is None


def test_the_analysis_carries_the_roc_and_mrmc_results_with_their_n():
    ratings = with_confidence(golden_ratings())
    analysis = analyse(ratings, resamples=50)
    results = results_table(analysis)
    reader_averaged = results[results["section"] == "MRMC: reader-averaged"].set_index("statistic")
    summary = analysis.summaries["mrmc"]
    rrrc = reader_averaged.loc["AUC, random readers and cases (OR-Hillis)"]
    assert (rrrc["estimate"], rrrc["low"], rrrc["high"], rrrc["p"]) == pytest.approx(
        (summary["auc"], summary["rrrc"]["low"], summary["rrrc"]["high"], summary["rrrc"]["p_vs_half"])
    )
    assert rrrc["n"] == 68
    assert len(results[results["section"] == "ROC: by rater"]) == 3
    assert set(results.loc[results["section"] == "MRMC: variance components", "statistic"]) == {"var_r", "cov2", "var_error"}
    assert "10-level score" in methods_paragraph(analysis, ratings)
    assert "2-level score" in methods_paragraph(analyse(golden_ratings(), resamples=50), golden_ratings())


def test_planning_needs_fewer_images_with_more_readers():
    summary = study_roc.reader_averaged(with_confidence(golden_ratings(n_raters=4)))
    table = study_roc.planning(summary, effect=0.1)
    cases = [row["n_cases"] for row in table if row["n_cases"] is not None]
    assert cases and cases == sorted(cases, reverse=True)
    assert all(row["power"] >= 0.8 for row in table if row["n_cases"] is not None)


def test_perfect_readers_leave_no_variance_and_no_planning_but_say_why():
    ratings = golden_ratings()
    ratings = ratings.assign(answer=ratings["truth"], confidence=5)
    summary = study_roc.reader_averaged(ratings)
    assert summary["auc"] == 1 and "no variance left" in summary["note"]
    assert study_roc.planning(summary, effect=0.1) is None
    assert study_roc.power_of(summary, 0.1, 5, 100) is None
    assert len(results_table(analyse(ratings, resamples=20))) > 0
