"""Tidy result rows: where a statistic's numbers sit in an analysis table, and one row per estimate.

`estimate_rows` turns rows of any analysis table into rows of the one results table (`RESULT_COLUMNS`:
section, group, statistic, estimate, 95% CI, p, Holm p, N, note) that `evaluation.analysis.results_table`
writes as CSV and JSON; an `Estimate` names the columns each statistic's numbers come from.
"""

import math
from typing import NamedTuple

RESULT_COLUMNS = ["section", "group", "statistic", "estimate", "low", "high", "p", "p_holm", "n", "note"]


class Estimate(NamedTuple):
    """Where one statistic's numbers sit in a row of an analysis table (column names; None: not given)."""

    statistic: str
    estimate: str
    low: str | None = None
    high: str | None = None
    p: str | None = None
    p_holm: str | None = None
    n: str | None = None
    note: str | None = None
    # Left out where not estimated (the log fit of a metric that is not always positive).
    optional: bool = False


def estimate_rows(section, rows, group, estimates):
    """One tidy row per (row of ``rows``, estimate); ``group(row)`` names the row's group."""
    return [
        {
            "section": section,
            "group": str(group(row)),
            "statistic": spec.statistic,
            **{
                column: row.get(getattr(spec, column), math.nan) if getattr(spec, column) else math.nan
                for column in ("estimate", "low", "high", "p", "p_holm")
            },
            "n": row.get(spec.n) if spec.n else None,
            "note": row.get(spec.note, "") if spec.note else "",
        }
        for row in rows
        for spec in estimates
        if not (spec.optional and not math.isfinite(row[spec.estimate]))
    ]


def flat(nested, prefix=""):
    """``{"rrrc": {"se": 1}}`` as ``{"rrrc_se": 1}``, for `estimate_rows`."""
    items = {}
    for key, value in nested.items():
        if isinstance(value, dict):
            items.update(flat(value, f"{prefix}{key}_"))
        else:
            items[f"{prefix}{key}"] = value
    return items


def setting_label(row, settings):
    """A training setting as one label: ``"model dcgan64, train_images 300, epoch 500"``."""
    return ", ".join(f"{name} {row[name]}" for name in settings)
