"""Set-level agreement of metrics with clinicians' ratings, against independent computations."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from evaluation import correlation, frames, image_level
from evaluation.correlation import SET_COLUMNS, fit_band, pearson, set_level_table, spearman
from evaluation.image_level import image_level_table
from tests.evaluation.rating_studies import Z_95, simulated_ratings, with_constant


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
