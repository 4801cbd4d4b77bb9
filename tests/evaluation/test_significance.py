"""Kruskal-Wallis and ANOVA tables equal scipy called directly."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.significance import significance_table


def per_image_frame():
    rng = np.random.default_rng(0)
    subset = np.repeat([100, 200, 400], 20)
    epoch = np.tile([5, 25], 30)
    psnr = rng.normal(12, 1, size=60) + (subset == 400) * 1.5
    psnr[3] = np.inf  # an exact copy: left out
    return pd.DataFrame(
        {"subset_size": subset, "epoch": epoch, "psnr_mean_db": psnr, "mi_mean_bits": rng.normal(0.3, 0.05, size=60)}
    )


def test_table_equals_scipy():
    frame = per_image_frame()
    table = significance_table(frame, ["psnr_mean_db", "mi_mean_bits"], ["subset_size", "epoch"])
    assert list(table.columns) == ["metric", "factor", "test", "statistic", "p"]
    assert len(table) == 8
    finite = frame[np.isfinite(frame.psnr_mean_db)]
    groups = [finite.psnr_mean_db[finite.subset_size == level] for level in (100, 200, 400)]
    row = table[(table.metric == "psnr_mean_db") & (table.factor == "subset_size")].set_index("test")
    assert row.loc["kruskal-wallis", "statistic"] == pytest.approx(stats.kruskal(*groups).statistic, rel=1e-12)
    assert row.loc["kruskal-wallis", "p"] == pytest.approx(stats.kruskal(*groups).pvalue, rel=1e-12)
    assert row.loc["anova", "statistic"] == pytest.approx(stats.f_oneway(*groups).statistic, rel=1e-12)
    assert row.loc["anova", "p"] == pytest.approx(stats.f_oneway(*groups).pvalue, rel=1e-12)
    assert row.loc["anova", "p"] < 0.001
    epoch = table[(table.metric == "mi_mean_bits") & (table.factor == "epoch")].set_index("test")
    assert epoch.loc["anova", "p"] == pytest.approx(
        stats.f_oneway(*[frame.mi_mean_bits[frame.epoch == level] for level in (5, 25)]).pvalue, rel=1e-12
    )


def test_single_level_factor_and_constant_metric_are_skipped_and_unknown_columns_refused(recwarn):
    frame = per_image_frame().assign(run=1, pixel_flag=0)
    assert significance_table(frame, ["psnr_mean_db"], ["run"]).empty
    assert significance_table(frame, ["pixel_flag"], ["epoch"]).empty
    assert not recwarn.list
    with pytest.raises(KeyError, match="nmi"):
        significance_table(frame, ["nmi"], ["epoch"])
