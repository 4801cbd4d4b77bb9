"""Set-level and image-level agreement of metrics with clinicians' ratings, against independent computations."""

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.genmod.cov_struct import Exchangeable
from statsmodels.stats.multitest import multipletests

from evaluation import correlation, frames, image_level, logistic_gee
from evaluation.correlation import SET_COLUMNS, fit_band, pearson, set_level_table, spearman
from evaluation.image_level import IMAGE_COLUMNS, image_level_table
from evaluation.logistic_gee import GEE_MAX_ITERATIONS

Z_95 = 1.959963984540054


def with_constant(regressor):
    return np.column_stack([np.ones(len(regressor)), regressor])


def study_sets(seed=0, n=20):
    """20 synthetic sets: quality = 2 x + 1 + noise, an unrelated metric, and an FID that falls with quality."""
    rng = np.random.default_rng(seed)
    known = rng.uniform(0.5, 2.0, n)
    quality = 2.0 * known + 1.0 + rng.normal(0, 0.3, n)
    return pd.DataFrame(
        {
            "known": known,
            "unrelated": rng.normal(size=n),
            "fid": 80.0 - 10.0 * quality + rng.normal(0, 4.0, n),
            "mean_quality": quality,
        }
    )


def test_pearson_and_spearman_equal_scipy_with_fisher_intervals():
    rng = np.random.default_rng(1)
    x = rng.normal(size=20)
    y = 0.5 * x + rng.normal(size=20)
    linear, rank = pearson(x, y), spearman(x, y)
    assert linear["n"] == rank["n"] == 20
    assert linear["r"] == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-12)
    assert linear["p"] == pytest.approx(stats.pearsonr(x, y).pvalue, rel=1e-12)
    r = linear["r"]
    assert linear["low"] == pytest.approx(np.tanh(np.arctanh(r) - Z_95 / np.sqrt(17)), rel=1e-9)
    assert linear["high"] == pytest.approx(np.tanh(np.arctanh(r) + Z_95 / np.sqrt(17)), rel=1e-9)
    rho = stats.spearmanr(x, y).statistic
    assert rank["rho"] == pytest.approx(rho, rel=1e-12)
    assert rank["p"] == pytest.approx(stats.spearmanr(x, y).pvalue, rel=1e-12)
    bonett_wright_se = np.sqrt((1 + rho**2 / 2) / 17)
    assert rank["low"] == pytest.approx(np.tanh(np.arctanh(rho) - Z_95 * bonett_wright_se), rel=1e-9)
    assert rank["high"] == pytest.approx(np.tanh(np.arctanh(rho) + Z_95 * bonett_wright_se), rel=1e-9)
    narrower = spearman(x, y, confidence=0.80)
    half_width_80 = stats.norm.ppf(0.90) * bonett_wright_se
    assert narrower["low"] == pytest.approx(np.tanh(np.arctanh(rho) - half_width_80), rel=1e-9)


def test_correlations_drop_non_finite_pairs_and_need_four_for_an_interval():
    x = np.array([1.0, 2.0, np.nan, 4.0, np.inf, 3.0])
    y = np.array([1.0, 3.0, 2.0, 2.5, 1.0, np.nan])
    result = pearson(x, y)
    assert result["n"] == 3
    assert result["r"] == pytest.approx(stats.pearsonr([1, 2, 4], [1, 3, 2.5]).statistic, rel=1e-12)
    assert np.isnan(result["low"]) and np.isnan(result["high"])
    assert np.isnan(spearman([1, 1, 1, 1], [1, 2, 3, 4])["rho"])


def rank_correlation_with(y):
    """Spearman's rho of every row of a batch of x orders with ``y`` (Pearson's r of average ranks)."""
    y_ranks = stats.rankdata(y)
    y_centred = y_ranks - y_ranks.mean()

    def statistic(x, axis):
        x_ranks = stats.rankdata(x, axis=axis)
        x_centred = x_ranks - x_ranks.mean(axis=axis, keepdims=True)
        return (x_centred @ y_centred) / np.sqrt((x_centred**2).sum(axis=axis) * (y_centred @ y_centred))

    return statistic


def test_spearman_p_is_exact_up_to_nine_points_and_a_perfect_order_has_no_interval():
    perfect = spearman([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 3.0, 5.0, 8.0, 9.0])
    assert perfect["rho"] == 1.0
    assert perfect["p"] == pytest.approx(2 / 120, rel=1e-12)  # rho = 1 or -1 in 2 of the 5! pairings
    assert np.isnan(perfect["low"]) and np.isnan(perfect["high"])
    line = pearson([1.0, 2.0, 3.0, 4.0, 5.0], [3.0, 5.0, 7.0, 9.0, 11.0])
    assert line["r"] == 1.0 and np.isnan(line["low"]) and np.isnan(line["high"])
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=7), rng.normal(size=7)
    exact = stats.permutation_test(
        (x,), rank_correlation_with(y), permutation_type="pairings", n_resamples=np.inf, vectorized=True
    )
    assert spearman(x, y)["p"] == pytest.approx(exact.pvalue, rel=1e-12)
    # Ties in both variables: the null distribution of rho is not symmetric, so compare |rho| one-sided.
    x, y = rng.integers(0, 4, size=8).astype(float), rng.integers(0, 3, size=8).astype(float)
    exact = stats.permutation_test(
        (x,),
        lambda permuted, axis: abs(rank_correlation_with(y)(permuted, axis)),
        permutation_type="pairings",
        alternative="greater",
        n_resamples=np.inf,
        vectorized=True,
    )
    assert spearman(x, y)["p"] == pytest.approx(exact.pvalue, rel=1e-12)
    # Ten points and more keep scipy's t approximation.
    x, y = rng.normal(size=10), rng.normal(size=10)
    assert spearman(x, y)["p"] == pytest.approx(stats.spearmanr(x, y).pvalue, rel=1e-12)


def test_noise_metrics_over_five_sets_never_survive_holm():
    rng = np.random.default_rng(0)
    noise = [f"V{index}" for index in range(256)]
    sets = pd.DataFrame(rng.normal(size=(5, 256)), columns=noise).assign(mean_quality=rng.normal(size=5))
    table = set_level_table(sets, noise)
    perfect = table[table.spearman_rho.abs() == 1.0]
    assert len(perfect) >= 2  # 2 in 120 orders are perfect: about 4 of 256 noise metrics
    assert not table.conclusion.str.contains("survives Holm").any()
    assert perfect.spearman_p.to_numpy() == pytest.approx(np.full(len(perfect), 2 / 120))
    assert (perfect.spearman_p_holm == 1.0).all()
    assert perfect.spearman_low.isna().all() and perfect.spearman_high.isna().all()
    for _, row in perfect.iterrows():
        direction = "positive" if row.spearman_rho > 0 else "negative"
        assert row.conclusion == f"{direction} association, CI undefined (perfect rank order, n=5)"


def test_a_perfect_order_is_an_association_only_when_its_exact_p_says_so():
    sets = pd.DataFrame({"fid": [50.0, 40.0, 30.0, 20.0, 10.0, 5.0], "mean_quality": [1.0, 2.0, 2.5, 3.0, 4.0, 4.5]})
    row = set_level_table(sets, ["fid"]).iloc[0]
    assert row.spearman_p == pytest.approx(2 / 720)
    assert row.conclusion == "negative association, CI undefined (perfect rank order, n=6) (survives Holm)"
    row = set_level_table(sets.head(4), ["fid"]).iloc[0]
    assert row.spearman_p == pytest.approx(2 / 24)
    assert row.conclusion == "CI undefined (perfect negative rank order, n=4)"


def test_set_level_table_equals_statsmodels_scipy_and_holm():
    sets = study_sets()
    table = set_level_table(sets, ["unrelated", "known", "fid"])
    assert list(table.columns) == SET_COLUMNS
    assert list(table.metric) == ["known", "fid", "unrelated"]  # by |rho|, descending
    row = table.set_index("metric").loc["fid"]
    fit = sm.OLS(sets.mean_quality, with_constant(sets.fid)).fit()
    assert row.n == 20
    assert row.slope == pytest.approx(fit.params.iloc[1], rel=1e-10)
    assert row.intercept == pytest.approx(fit.params.iloc[0], rel=1e-10)
    assert [row.slope_low, row.slope_high] == pytest.approx(list(fit.conf_int().iloc[1]), rel=1e-10)
    assert row.r_squared == pytest.approx(fit.rsquared, rel=1e-10)
    assert row.p == pytest.approx(fit.pvalues.iloc[1], rel=1e-8)
    assert row.pearson_r == pytest.approx(stats.pearsonr(sets.fid, sets.mean_quality).statistic, rel=1e-12)
    assert row.spearman_rho == pytest.approx(stats.spearmanr(sets.fid, sets.mean_quality).statistic, rel=1e-12)
    log_fit = sm.OLS(sets.mean_quality, with_constant(np.log(sets.fid))).fit()
    assert row.log_a == pytest.approx(log_fit.params.iloc[1], rel=1e-10)
    assert row.log_b == pytest.approx(log_fit.params.iloc[0], rel=1e-10)
    assert row.log_r_squared == pytest.approx(log_fit.rsquared, rel=1e-10)
    assert row.log_p == pytest.approx(log_fit.pvalues.iloc[1], rel=1e-8)
    assert table.p_holm.to_numpy() == pytest.approx(multipletests(table.p, method="holm")[1], rel=1e-12)
    assert table.spearman_p_holm.to_numpy() == pytest.approx(
        multipletests(table.spearman_p, method="holm")[1], rel=1e-12
    )
    assert row.conclusion == "negative association (survives Holm)"


def test_known_slope_is_recovered_and_noise_is_not_an_association():
    table = set_level_table(study_sets(), ["known", "unrelated"]).set_index("metric")
    known = table.loc["known"]
    assert known.slope_low < 2.0 < known.slope_high
    assert known.slope_low < known.slope < known.slope_high
    assert abs(known.slope - 2.0) < 0.3
    assert known.conclusion == "positive association (survives Holm)"
    unrelated = table.loc["unrelated"]
    assert unrelated.spearman_low < 0 < unrelated.spearman_high
    assert unrelated.conclusion == "no evidence of association (95% CI of rho covers 0)"


def test_set_level_edge_cases():
    sets = study_sets(seed=2)
    sets["constant"] = 3.0
    sets["gappy"] = sets.known
    sets.loc[[0, 1], "gappy"] = np.nan
    sets.loc[2, "gappy"] = np.inf
    sets["few"] = np.nan
    sets.loc[[0, 1, 2], "few"] = [1.0, 2.0, 4.0]
    sets["centred"] = sets.known - sets.known.mean()  # has x <= 0: no log fit
    table = set_level_table(sets, ["constant", "gappy", "few", "centred"]).set_index("metric")
    assert table.loc["constant", "conclusion"] == "constant metric"
    assert np.isnan(table.loc["constant", ["slope", "pearson_r", "spearman_rho", "p_holm"]].astype(float)).all()
    assert table.loc["gappy", "n"] == 17
    clean = sets.drop(index=[0, 1, 2])
    fit = sm.OLS(clean.mean_quality, with_constant(clean.known)).fit()
    assert table.loc["gappy", "slope"] == pytest.approx(fit.params.iloc[1], rel=1e-10)
    few = table.loc["few"]
    assert few.n == 3 and few.conclusion == "too few sets (n=3)"
    assert np.isfinite(few.slope) and np.isnan(few.pearson_low) and np.isnan(few.spearman_low)
    assert np.isnan(table.loc["centred", "log_a"]) and np.isfinite(table.loc["centred", "slope"])
    assert list(table.index[-1:]) == ["constant"]  # NaN rho sorts last
    # Four sets with a test p-value each: Holm counts the three metrics that have one.
    tested = table.p.dropna()
    assert table.p_holm.dropna().to_numpy() == pytest.approx(multipletests(tested, method="holm")[1])
    with pytest.raises(ValueError, match="fid_typo"):
        set_level_table(sets, ["known", "fid_typo"])
    with pytest.raises(ValueError, match="quality_mean"):
        set_level_table(sets, ["known"], outcome="quality_mean")


def test_rows_without_any_p_value_are_untested_and_the_rest_are_tests():
    sets = study_sets(seed=2)
    sets["constant"] = 3.0
    sets["two"] = np.nan
    sets.loc[[0, 1], "two"] = [1.0, 2.0]
    sets["three"] = np.nan
    sets.loc[[0, 1, 2], "three"] = [1.0, 2.0, 4.0]  # too few for a conclusion, but tested
    table = set_level_table(sets, ["known", "constant", "two", "three"])
    untested = dict(zip(table.metric, frames.untested(table, correlation.SET_LEVEL_TESTS), strict=True))
    assert untested == {"known": False, "constant": True, "two": True, "three": False}
    assert table.loc[~frames.untested(table, correlation.SET_LEVEL_TESTS), "spearman_p_holm"].notna().all()

    ratings = simulated_ratings(raters=2, per_rater=60, seed=5)
    ratings["constant"] = 7.0
    ratings["separating"] = np.where(ratings.called_real == 1, 1.0, 0.0) + np.arange(len(ratings)) * 1e-3
    table = image_level_table(ratings, ["constant", "separating"])
    untested = dict(zip(table.metric, frames.untested(table, image_level.IMAGE_LEVEL_TESTS), strict=True))
    assert untested == {"constant": True, "separating": False}  # the mixed model ran; the GEE did not


def test_association_that_does_not_survive_holm_is_not_marked_so():
    rng = np.random.default_rng(7)
    quality = rng.normal(size=20)
    sets = pd.DataFrame({"weak": quality + rng.normal(0, 1.0, 20), "mean_quality": quality})
    unrelated = [f"noise{index}" for index in range(9)]
    for name in unrelated:
        sets[name] = rng.normal(size=20)
    weak = set_level_table(sets, ["weak", *unrelated]).set_index("metric").loc["weak"]
    assert weak.spearman_low > 0 and weak.spearman_p < 0.05 <= weak.spearman_p_holm
    assert weak.conclusion == "positive association"


def test_wide_interval_is_called_too_wide():
    sets = pd.DataFrame({"metric": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "mean_quality": [2.0, 1.0, 4.0, 3.0, 2.5, 3.5]})
    row = set_level_table(sets, ["metric"]).iloc[0]
    width = row.spearman_high - row.spearman_low
    assert width > 1
    assert row.conclusion == f"CI too wide to conclude (width {width:.1f})"


def test_fit_band_equals_statsmodels_prediction():
    sets = study_sets()
    band = fit_band(sets.fid, sets.mean_quality, points=7, confidence=0.9)
    assert list(band.columns) == ["x", "fit", "low", "high"]
    assert band.x.to_numpy() == pytest.approx(np.linspace(sets.fid.min(), sets.fid.max(), 7))
    fit = sm.OLS(sets.mean_quality, with_constant(sets.fid)).fit()
    expected = fit.get_prediction(with_constant(band.x)).summary_frame(alpha=0.1)
    assert band.fit.to_numpy() == pytest.approx(expected["mean"].to_numpy(), rel=1e-10)
    assert band.low.to_numpy() == pytest.approx(expected["mean_ci_lower"].to_numpy(), rel=1e-10)
    assert band.high.to_numpy() == pytest.approx(expected["mean_ci_upper"].to_numpy(), rel=1e-10)
    logarithmic = fit_band(sets.fid, sets.mean_quality, points=5, log=True)
    log_fit = sm.OLS(sets.mean_quality, with_constant(np.log(sets.fid))).fit()
    assert logarithmic.fit.to_numpy() == pytest.approx(log_fit.predict(with_constant(np.log(logarithmic.x))))
    assert (logarithmic.low < logarithmic.fit).all() and (logarithmic.fit < logarithmic.high).all()
    with pytest.raises(ValueError, match="at least 3"):
        fit_band([1.0, 2.0, np.nan], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="constant"):
        fit_band([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="x > 0"):
        fit_band([-1.0, 1.0, 2.0], [1.0, 2.0, 3.0], log=True)


def simulated_ratings(raters=3, per_rater=200, seed=0, quality_per_sd=0.5, log_odds_per_sd=0.7, psnr_per_rater=0.0):
    """Ratings with a rater intercept on quality, a known per-SD quality effect and a known odds ratio of "real".

    ``psnr_per_rater`` shifts the mean PSNR of each successive rater's images (raters shown different images).
    """
    rng = np.random.default_rng(seed)
    rater = np.repeat([f"rater{index}" for index in range(raters)], per_rater)
    rater_shift = np.repeat(rng.normal(0, 0.6, raters), per_rater)
    psnr = rng.normal(14.0, 2.0, raters * per_rater) + np.repeat(np.arange(raters) * psnr_per_rater, per_rater)
    standardised = (psnr - 14.0) / 2.0
    quality = 3.0 + quality_per_sd * standardised + rater_shift + rng.normal(0, 0.8, raters * per_rater)
    called_real = rng.random(raters * per_rater) < 1 / (1 + np.exp(-(-0.2 + log_odds_per_sd * standardised)))
    return pd.DataFrame(
        {
            "rater": rater,
            "item": rng.integers(0, 150, raters * per_rater),
            "quality": quality,
            "called_real": called_real.astype(int),
            "psnr_mean_db": psnr,
            "lbp_V8": rng.normal(size=raters * per_rater),
        }
    )


def standardised(values):
    return (values - values.mean()) / values.std(ddof=1)


def crossed_study(seed, raters=3, images=40, quality_per_sd=0.0, log_odds_per_sd=0.0, rated_share=1.0):
    """Every rater rates every image (or a random ``rated_share`` of them) on 1-5, rounded.

    Images differ in quality and in how real they look for reasons other than the image-level metric, and
    raters differ in their mean score and in how readily they answer "real".
    """
    rng = np.random.default_rng(seed)
    item = np.tile(np.arange(images), raters)
    rater = np.repeat(np.arange(raters), images)
    metric = rng.normal(14.0, 2.0, images)
    standardised_metric = (metric[item] - 14.0) / 2.0
    image_quality, image_realism = rng.normal(0, 0.7, images), rng.normal(0, 1.0, images)
    rater_mean, rater_realism = rng.normal(0, 0.5, raters), rng.normal(0, 0.5, raters)
    quality = 3.0 + quality_per_sd * standardised_metric + image_quality[item] + rater_mean[rater]
    quality = np.clip(np.rint(quality + rng.normal(0, 0.8, len(item))), 1, 5)
    log_odds = -0.3 + log_odds_per_sd * standardised_metric + image_realism[item] + rater_realism[rater]
    ratings = pd.DataFrame(
        {
            "rater": [f"rater{index}" for index in rater],
            "item": item,
            "quality": quality,
            "called_real": (rng.random(len(item)) < 1 / (1 + np.exp(-log_odds))).astype(int),
            "psnr_mean_db": metric[item],
        }
    )
    return ratings[rng.random(len(ratings)) < rated_share].reset_index(drop=True)


def crossed_mixedlm(ratings):
    """statsmodels' REML fit with crossed variance components for rater and image, called directly."""
    data = ratings.assign(z=standardised(ratings.psnr_mean_db))
    components = {"rater": "0 + C(rater)", "item": "0 + C(item)"}
    return sm.MixedLM.from_formula("quality ~ z", data, groups=np.ones(len(data)), vc_formula=components).fit()


def image_clustered_gee(ratings, standardised_metric=None):
    """statsmodels' GEE clustered by image with rater dummies, called directly."""
    if standardised_metric is None:
        standardised_metric = standardised(ratings.psnr_mean_db)
    raters = pd.get_dummies(ratings.rater, drop_first=True, dtype=float).to_numpy()
    design = np.column_stack([with_constant(standardised_metric), raters])
    model = sm.GEE(
        ratings.called_real.to_numpy(),
        design,
        groups=ratings.item.to_numpy(),
        family=sm.families.Binomial(),
        cov_struct=Exchangeable(),
    )
    return model.fit(maxiter=GEE_MAX_ITERATIONS)


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


def test_unbalanced_crossed_model_stays_close_to_full_reml():
    # Raters rated different subsets of the images: the rater ratio of the intercept-only model is then
    # slightly off the one REML would choose with the metric, within about 1% here.
    ratings = crossed_study(seed=4, raters=4, quality_per_sd=0.3, rated_share=0.7)
    row = image_level_table(ratings, ["psnr_mean_db"]).iloc[0]
    mixed = crossed_mixedlm(ratings)
    assert row.mixed_slope == pytest.approx(mixed.fe_params.iloc[1], rel=0.02)
    standard_error = (row.mixed_high - row.mixed_low) / 2 / stats.t.ppf(0.975, row.n_images - 2)
    assert standard_error == pytest.approx(mixed.bse.iloc[1], rel=0.02)


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


def test_image_level_refuses_missing_columns_and_bad_answers():
    ratings = simulated_ratings()
    with pytest.raises(ValueError, match="psnr_nearest_db"):
        image_level_table(ratings, ["psnr_mean_db", "psnr_nearest_db"])
    with pytest.raises(ValueError, match="judge"):
        image_level_table(ratings, ["psnr_mean_db"], rater="judge")
    with pytest.raises(ValueError, match="0 or 1"):
        image_level_table(ratings.assign(called_real=2), ["psnr_mean_db"])
