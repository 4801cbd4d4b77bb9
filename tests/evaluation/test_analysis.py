"""`evaluation.analysis` runs every test on the golden ratings and its tidy results equal the tests run directly."""

import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation import plots
from evaluation.agreement import fleiss_kappa
from evaluation.analysis import RESULT_COLUMNS, analyse, methods_paragraph, quality_grid, results_table
from evaluation.turing import turing_summary
from tests.evaluation.golden import N_REAL, golden_ratings

SETS = 20


def grid_ratings():
    """The golden ratings with the 60 synthetic images spread over 20 sets of a 4 x 5 grid whose quality rises."""
    ratings = golden_ratings()
    synthetic = ratings["truth"] == "synthetic"
    set_index = (ratings["item"] - N_REAL) % SETS
    ratings.loc[synthetic, "set"] = "set" + set_index[synthetic].astype(str)
    ratings["train_images"] = np.where(synthetic, 100 * (1 + set_index // 5), np.nan)
    ratings["epoch"] = np.where(synthetic, 50 * (1 + set_index % 5), np.nan)
    rng = np.random.default_rng(1)
    shift = np.clip(np.rint(set_index / 6 + rng.normal(0, 0.3, len(ratings))), -2, 2)
    ratings.loc[synthetic, "quality"] = np.clip(ratings.loc[synthetic, "quality"] + shift[synthetic], 1, 5)
    return ratings


def metric_frames(ratings):
    """A set metric that follows each set's mean quality, one that is noise; per-image ones likewise."""
    rng = np.random.default_rng(2)
    synthetic = ratings[ratings["truth"] == "synthetic"]
    means = synthetic.groupby("set")["quality"].mean()
    sets = pd.DataFrame({"set": means.index, "fid": 200 - 40 * means.to_numpy() + rng.normal(0, 2, len(means))}).assign(
        noise=rng.normal(0, 1, len(means))
    )
    image_means = synthetic.groupby("item")["quality"].mean()
    images = pd.DataFrame(
        {"item": image_means.index, "psnr": 8 + image_means.to_numpy() + rng.normal(0, 0.2, len(image_means))}
    )
    return sets, images.assign(noise=rng.normal(0, 1, len(images)))


@pytest.fixture(scope="module")
def analysed():
    ratings = grid_ratings()
    sets, images = metric_frames(ratings)
    return ratings, sets, images, analyse(ratings, sets, images, resamples=200, seed=3)


def test_every_table_equals_the_test_run_directly(analysed):
    ratings, sets, _, analysis = analysed
    pooled = analysis.tables["turing_pooled"].iloc[0]
    assert pooled["accuracy"] == turing_summary(ratings)["accuracy"]
    assert analysis.summaries["fleiss_answer"] == fleiss_kappa(ratings)
    by_rater = analysis.tables["turing_by_rater"]
    assert list(by_rater["group"]) == sorted(ratings["rater"].unique())
    set_table = analysis.tables["sets"].set_index("set")
    synthetic = ratings[ratings["truth"] == "synthetic"]
    assert set_table["mean_quality"].to_dict() == pytest.approx(synthetic.groupby("set")["quality"].mean().to_dict())
    assert (set_table["n_ratings"] == 9).all() and len(set_table) == SETS
    fid = analysis.tables["set_level"].set_index("metric").loc["fid"]
    assert set_table["fid"].to_dict() == sets.set_index("set")["fid"].to_dict()
    assert fid["spearman_rho"] == pytest.approx(stats.spearmanr(set_table["fid"], set_table["mean_quality"]).statistic)
    assert fid["n"] == SETS and "negative association" in fid["conclusion"]
    assert "no evidence" in analysis.tables["set_level"].set_index("metric").loc["noise", "conclusion"]
    image_level = analysis.tables["image_level"].set_index("metric")
    assert image_level.loc["psnr", "mixed_low"] > 0 and image_level.loc["psnr", "n_ratings"] == len(synthetic)


def test_quality_by_setting_and_the_grid(analysed):
    ratings, _, _, analysis = analysed
    by_setting = analysis.tables["quality_by_setting"]
    assert len(by_setting) == SETS and by_setting["n"].sum() == (ratings["truth"] == "synthetic").sum()
    grid = quality_grid(analysis.tables["sets"])
    assert grid.shape == (4, 5) and list(grid.index) == [100, 200, 300, 400]
    one_set = analysis.tables["sets"].iloc[0]
    assert grid.loc[one_set["train_images"], one_set["epoch"]] == pytest.approx(one_set["mean_quality"])
    assert quality_grid(analysis.tables["sets"].drop(columns="epoch")) is None


def test_results_table_is_tidy_and_complete(analysed):
    _, _, _, analysis = analysed
    results = results_table(analysis)
    assert list(results.columns) == RESULT_COLUMNS
    accuracy = results[(results["section"] == "turing: pooled") & (results["statistic"] == "accuracy")].iloc[0]
    pooled = analysis.tables["turing_pooled"].iloc[0]
    assert (accuracy["estimate"], accuracy["low"], accuracy["high"], accuracy["p"], accuracy["n"]) == (
        pooled["accuracy"],
        pooled["accuracy_low"],
        pooled["accuracy_high"],
        pooled["binomial_p"],
        pooled["n_ratings"],
    )
    rho = results[(results["group"] == "fid") & (results["statistic"] == "Spearman rho")].iloc[0]
    assert rho["p_holm"] >= rho["p"] and rho["n"] == SETS
    assert results.groupby("section").size()["turing: by rater"] == 3 * 5
    log_fits = results[results["statistic"].str.startswith("log fit")]
    assert list(log_fits["group"]) == ["fid"]  # the noise metric takes negative values: no log fit
    by_kind = results[(results["section"] == "quality: by kind") & (results["statistic"] == "mean quality")]
    assert list(by_kind["group"]) == ["real", "synthetic"]
    assert by_kind["n"].sum() == len(analysed[0])
    round_trip = pd.read_csv(io.StringIO(results.to_csv(index=False)))
    assert len(round_trip) == len(results)
    np.testing.assert_allclose(round_trip["estimate"], results["estimate"].astype(float), equal_nan=True)


def test_methods_paragraph_states_counts_seeds_and_versions(analysed):
    ratings, _, _, analysis = analysed
    text = methods_paragraph(analysis, ratings, ["Golden"], [7], {"fid": "fid/v1"})
    assert (
        "3 raters (1 clinician, 1 engineer, 1 sonographer) gave 204 ratings of 68 images (8 real, 60 synthetic" in text
    )
    assert "from 20 synthetic sets) in Golden; pool and order seeds 7" in text
    assert "(200 resamples, seed 3)" in text and "fid fid/v1" in text and "Holm" in text


def test_without_metrics_the_regressions_are_left_out():
    analysis = analyse(golden_ratings(), resamples=50)
    assert "set_level" not in analysis.tables and "image_level" not in analysis.tables
    assert not results_table(analysis)["section"].isin(["set level", "image level"]).any()


def test_a_missing_column_is_named():
    with pytest.raises(ValueError, match="quality"):
        analyse(golden_ratings().drop(columns="quality"))


def test_plots_render_as_png_and_svg(analysed):
    ratings, _, _, analysis = analysed
    figures = [
        plots.accuracy_forest(analysis.tables["turing_by_rater"]),
        plots.confusion_plot(analysis.tables["confusion"]),
        plots.quality_histograms(ratings),
        plots.quality_heat_map(quality_grid(analysis.tables["sets"])),
        plots.metric_scatter(analysis.tables["sets"], "fid", "mean_quality"),
    ]
    for figure in figures:
        assert plots.figure_bytes(figure, "png").startswith(b"\x89PNG\r\n\x1a\n")
        assert b"<svg" in plots.figure_bytes(figure, "svg")
    with pytest.raises(ValueError, match="unknown figure format"):
        plots.figure_bytes(figures[0], "gif")


@pytest.mark.parametrize("rows, columns", [(1, 1), (2, 1), (3, 2), (5, 4)])
def test_no_text_of_the_heat_map_is_clipped_however_small_the_grid(rows, columns):
    table = pd.DataFrame(
        np.linspace(1, 5, rows * columns).reshape(rows, columns),
        index=pd.Index([100 * (row + 1) for row in range(rows)], name="train_images"),
        columns=pd.Index([300 * (column + 1) for column in range(columns)], name="epoch"),
    )
    figure = plots.quality_heat_map(table)
    plots.figure_bytes(figure, "png")  # lays the figure out as the PNG and the SVG are drawn
    assert figure.get_suptitle() == "Mean quality score per training setting"
    drawn = figure.get_tightbbox()  # every text and shape drawn, in inches
    width, height = figure.get_size_inches()
    assert drawn.x0 >= 0 and drawn.y0 >= 0 and drawn.x1 <= width and drawn.y1 <= height


def test_sets_trained_differently_never_share_a_grid_cell_and_uploads_keep_their_own_group():
    ratings = grid_ratings()
    synthetic = ratings["truth"] == "synthetic"
    ratings["model"] = np.where(synthetic, np.where(ratings["item"] % 2 == 0, "dcgan64", "dcgan128"), None)
    ratings["set"] = np.where(synthetic, ratings["set"] + "-" + ratings["model"].astype(str), ratings["set"])
    upload = synthetic & (ratings["item"] % 20 == 9)
    ratings.loc[upload, ["set", "model", "train_images", "epoch"]] = ["upload", "stylegan", np.nan, 300]
    analysis = analyse(ratings, resamples=20)
    grid = quality_grid(analysis.tables["sets"])
    assert grid.index.names == ["model", "train_images"]
    assert {model for model, _ in grid.index} == {"dcgan64", "dcgan128"}  # the upload has no grid cell
    sets = analysis.tables["sets"].set_index("set")
    one = sets.drop("upload").iloc[0]
    assert grid.loc[(one["model"], one["train_images"]), one["epoch"]] == pytest.approx(one["mean_quality"])
    by_setting = analysis.tables["quality_by_setting"]
    uploaded = by_setting[by_setting["model"] == "stylegan"]
    assert len(uploaded) == 1 and uploaded["n"].iloc[0] == upload.sum()
    assert by_setting["n"].sum() == synthetic.sum()


def test_every_estimate_has_its_n_and_wide_intervals_say_so(analysed):
    _, _, _, analysis = analysed
    results = results_table(analysis)
    hype = results[results["section"] == "HYPE-infinity"].set_index("statistic")
    pooled = analysis.tables["turing_pooled"].iloc[0]
    assert hype.loc["synthetic judged real, %", "n"] == pooled["n_synthetic"]
    assert hype.loc["real judged synthetic, %", "n"] == pooled["n_real"]
    by_set = results[results["section"] == "quality: by set"]
    wide = by_set["high"] - by_set["low"] > 1
    assert wide.any() and by_set.loc[wide, "note"].str.startswith("CI wider than one score point").all()
    assert (by_set.loc[~wide, "note"] == "").all()
    assert results["n"].notna().all()
