"""Attention checks: images whose answer is plain to a rater who looks, scored apart from the study.

Each rater's pass rate is the share of the attention items they answered with the answer the researcher
expected. A rater below a chosen pass rate can be excluded from every other statistic; a rater who answered
no attention item has no pass rate and is never excluded, since nothing says they were not attending.
"""

import pandas as pd

PASS_RATE_COLUMNS = ["rater", "n_answered", "n_passed", "pass_rate", "excluded"]


def pass_rates(attention, raters, minimum_percent=None):
    """One row per rater of ``raters`` (and any other rater in ``attention``): attention items answered and passed,
    the pass rate, and whether it is below ``minimum_percent`` (None: nobody is excluded).

    ``attention`` has a row per answer to an attention item with ``rater`` and ``passed`` (a bool).
    """
    everyone = pd.unique(pd.Series([*raters, *attention["rater"]], dtype=object))
    counts = attention.groupby("rater")["passed"].agg(n_answered="size", n_passed="sum")
    table = counts.reindex(everyone, fill_value=0).astype(int).rename_axis("rater").reset_index()
    table["pass_rate"] = table["n_passed"] / table["n_answered"].where(table["n_answered"] > 0)
    # In whole counts, so that 29 of 100 is below 29% (0.29 * 100 is 28.999... in floating point).
    table["excluded"] = (
        False
        if minimum_percent is None
        else (table["n_answered"] > 0) & (100 * table["n_passed"] < minimum_percent * table["n_answered"])
    )
    return table[PASS_RATE_COLUMNS]


def methods_text(table, n_items, minimum_percent=None):
    """The attention-check sentences of the methods paragraph, from `pass_rates`' ``table`` and the number of
    distinct attention images; empty when no rater answered one."""
    answered, passed = int(table["n_answered"].sum()), int(table["n_passed"].sum())
    if not answered:
        return ""
    text = (
        f"{n_items} attention-check images, whose answer the researcher stated, were shown like every other image "
        f"and enter no other statistic; raters gave the expected answer {passed} times in {answered} "
        f"({100 * passed / answered:.1f}%)."
    )
    if minimum_percent is None:
        return text + " No rater was excluded on attention."
    excluded = table[table["excluded"]]
    if excluded.empty:
        return text + f" No rater passed fewer than {minimum_percent:g}% of their attention checks."
    named = ", ".join(f"{row.rater} ({row.n_passed} of {row.n_answered})" for row in excluded.itertuples())
    return text + f" Raters who passed fewer than {minimum_percent:g}% were excluded from every analysis: {named}."
