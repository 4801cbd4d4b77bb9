"""What the statistics modules share to read a pandas frame, to give a table's intervals and to correct its
p-values.

* `require_columns` raises ``ValueError`` naming every column a frame lacks (`missing_columns` lists them
  for modules that raise their own error); `numbers` is a column as float64 with missing values as NaN;
  `is_constant` says whether values are all the same.
* `holm`: Holm's step-down correction (S. Holm, "A simple sequentially rejective multiple test procedure",
  Scand. J. Statist. 1979) over the finite p-values of a column, NaN staying NaN. With the m finite
  p-values sorted, ``p_(1) <= ... <= p_(m)``::

      p_holm_(k) = min(1, max_{j <= k} (m - j + 1) p_(j))

  the values of ``statsmodels.stats.multitest.multipletests(method="holm")``, computed here because that
  function runs a full garbage collection on every call (slower than a whole small table; bench/README.md).
* ``TABLE_CONFIDENCE`` (0.95) is the confidence of every interval in the analysis tables, and
  `normal_quantile` the two-sided normal quantile of a confidence, ``Phi^-1(1 - (1 - confidence) / 2)``.
* `table_rows`: the rows of one named table of an analysis (a dict of frames), none where it is absent.
* `untested`: the rows of a table whose tests all lack a p-value (too few points, a constant metric, every
  model failed): they are no tests, so Holm's correction does not count them.
"""

import numpy as np
import pandas as pd
from scipy import stats

TABLE_CONFIDENCE = 0.95


def missing_columns(frame, columns):
    """The columns of ``columns`` that ``frame`` lacks, in the order given."""
    return [column for column in columns if column not in frame.columns]


def require_columns(frame, columns, name="ratings frame"):
    """Raise ``ValueError`` naming every column of ``columns`` that ``frame`` (called ``name``) lacks."""
    missing = missing_columns(frame, columns)
    if missing:
        raise ValueError(
            f"{name} lacks the column(s) {', '.join(map(str, missing))} (needs {', '.join(map(str, columns))}; "
            f"has {', '.join(map(str, frame.columns)) or 'none'})"
        )


def numbers(values):
    """A column (or any sequence) as a float64 array, missing values as NaN."""
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def is_constant(values):
    """True for no values or values all equal."""
    # Exact comparison: a standard deviation of identical floats can come out as 1e-17 instead of 0.
    return len(values) == 0 or values.max() == values.min()


def holm(p_values):
    """Holm-adjusted p over the finite entries; NaN stays NaN (module docstring)."""
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p_values.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p_values))
    order = tested[np.argsort(p_values[tested], kind="stable")]
    multipliers = np.arange(len(order), 0, -1)
    adjusted[order] = np.minimum(np.maximum.accumulate(p_values[order] * multipliers), 1.0)
    return adjusted


def untested(table, tests):
    """Which rows of ``table`` are no test: none of the p-value columns ``tests`` has a value in them.

    ``tests`` is `evaluation.correlation.SET_LEVEL_TESTS` for a set-level table and
    `evaluation.image_level.IMAGE_LEVEL_TESTS` for an image-level one; such a row's reason (its conclusion
    or note) is all it says.
    """
    return ~np.isfinite(table[list(tests)].to_numpy(dtype=float)).any(axis=1)


def normal_quantile(confidence):
    """The two-sided normal quantile ``Phi^-1(1 - (1 - confidence) / 2)`` of a ``confidence`` interval."""
    return stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0)


def table_rows(tables, name):
    """The rows (dicts) of the table ``name`` of ``tables``, or none where the analysis has no such table."""
    return tables[name].to_dict("records") if name in tables else []
