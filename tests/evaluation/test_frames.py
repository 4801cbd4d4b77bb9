"""The helpers the statistics modules share, each against an independent implementation."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from evaluation.frames import (
    TABLE_CONFIDENCE,
    holm,
    is_constant,
    missing_columns,
    normal_quantile,
    numbers,
    require_columns,
    table_rows,
    untested,
)


def test_holm_equals_statsmodels_over_the_finite_p_values_and_keeps_nan():
    p_values = np.random.default_rng(3).uniform(0, 0.2, size=40)
    p_values[[2, 17, 30]] = np.nan
    finite = np.isfinite(p_values)
    adjusted = holm(p_values)
    # statsmodels.stats.multitest.multipletests(method="holm"), the reference the module docstring names.
    assert adjusted[finite] == pytest.approx(multipletests(p_values[finite], method="holm")[1], rel=1e-12)
    assert np.isnan(adjusted[~finite]).all()


def test_holm_of_tied_p_values_and_of_none():
    assert holm([0.01, 0.01, 0.04]) == pytest.approx([0.03, 0.03, 0.04])
    assert holm([]).shape == (0,)


def test_normal_quantile_of_the_tables_confidence_is_scipys_1_96():
    assert TABLE_CONFIDENCE == 0.95
    assert normal_quantile(TABLE_CONFIDENCE) == pytest.approx(stats.norm.ppf(0.975), rel=1e-15)
    assert normal_quantile(0.99) == pytest.approx(2.5758293035489, rel=1e-12)


def test_a_missing_column_is_named_with_what_is_needed_and_what_there_is():
    frame = pd.DataFrame({"rater": [1], "quality": [3]})
    assert missing_columns(frame, ["rater", "item", "answer"]) == ["item", "answer"]
    with pytest.raises(ValueError, match=r"set table lacks the column\(s\) item, answer \(needs rater, item, answer; "):
        require_columns(frame, ["rater", "item", "answer"], name="set table")
    require_columns(frame, ["quality"])


def test_numbers_constants_named_tables_and_untested_rows():
    assert np.isnan(numbers(pd.Series([1, None, 3], dtype="Int64"))[1])
    assert is_constant(np.array([2.0, 2.0])) and is_constant(np.array([])) and not is_constant(np.array([1.0, 2.0]))
    tables = {"turing_pooled": pd.DataFrame({"group": ["all"], "accuracy": [0.5]})}
    assert table_rows(tables, "turing_pooled") == [{"group": "all", "accuracy": 0.5}]
    assert table_rows(tables, "kappa_answer") == []
    table = pd.DataFrame({"a_p": [0.1, np.nan, np.nan], "b_p": [np.nan, 0.2, np.nan]})
    assert untested(table, ("a_p", "b_p")).tolist() == [False, False, True]
