"""Intra-rater reliability: whether a rater answers alike when an image is shown to them a second time.

Input: a pairs frame (pandas DataFrame, one row per rater and repeated image) with the columns ``rater``,
``image``, ``answer_first`` and ``answer_second`` (``"real"`` or ``"synthetic"``: the rater's answer at the
first and at the second showing) and ``quality_first`` and ``quality_second`` (the quality scores at the same
showings, integers 1-5); other columns are ignored, a missing one raises ``ValueError``.

For each rater the two showings take the place of two raters:

    answer_agreement = #(answer_first = answer_second) / n_pairs
    kappa_answer     = Cohen's kappa of answer_first against answer_second, categories real, synthetic
    kappa_quality    = weighted kappa of quality_first against quality_second, quadratic weights on 1..5

(J. Cohen, "A coefficient of agreement for nominal scales", Educ. Psychol. Meas. 1960; J. Cohen, "Weighted
kappa", Psychol. Bull. 1968). With ``O`` the table of first against second showing, ``E`` the table its margins
expect by chance and ``w_ij = ((i - j) / 4)^2``,

    kappa = (p_o - p_e) / (1 - p_e),  weighted kappa = 1 - sum(w O) / sum(w E)

NaN where undefined (e.g. a rater who gave one answer at every showing). Pooled over raters, each rater's
chance agreement comes from their own margins (`evaluation.agreement.pooled_kappa`, de Vries et al. 2008):
``kappa = 1 - sum_r sum(w O_r) / sum_r sum(w E_r)``, so that raters who each keep to a favourite answer of
their own do not look consistent.

Intervals: percentile bootstrap (B. Efron, R. J. Tibshirani, An Introduction to the Bootstrap, 1993, ch. 13).
Both kappas are recomputed on each of ``resamples`` resamples; the bounds are the 100 (1 - confidence) / 2
and 100 (1 + confidence) / 2 percentiles (``np.nanpercentile``, linear interpolation) of the resampled
kappas, those that are NaN left out. The unit resampled is the image. A rater's pairs are each one image,
so they are resampled. Pooled, an image is repeated for many raters, whose pairs of it are not independent:
the distinct images are resampled and each drawn image brings every rater's pair of it (a cluster
bootstrap); resampling the pairs themselves would make the interval too narrow.

Draw order, the same for every row: a fresh ``numpy.random.default_rng(seed)`` makes the single call
``integers(0, n, size=(resamples, n))``, where the ``n`` units are the rater's pairs sorted by image, or,
pooled, the distinct images sorted; row ``b`` of the draws lists the units of resample ``b``. With fewer
than 2 units, or no resample whose kappa is defined, the bounds are NaN.
"""

import math

import numpy as np
import pandas as pd

from evaluation.agreement import pooled_kappa
from evaluation.frames import TABLE_CONFIDENCE, require_columns
from evaluation.turing import LABELS

PAIR_COLUMNS = ["rater", "image", "answer_first", "answer_second", "quality_first", "quality_second"]
RELIABILITY_COLUMNS = [
    "rater",
    "n_pairs",
    "answer_agreement",
    "kappa_answer",
    "kappa_answer_low",
    "kappa_answer_high",
    "kappa_quality",
    "kappa_quality_low",
    "kappa_quality_high",
]
ANSWER_COLUMNS = ("answer_first", "answer_second")
QUALITY_COLUMNS = ("quality_first", "quality_second")
QUALITY_SCORES = [1, 2, 3, 4, 5]
POOLED = "pooled"


def intra_rater_agreement(pairs, resamples=2000, seed=0, confidence=TABLE_CONFIDENCE):
    """One row of RELIABILITY_COLUMNS per rater (sorted by rater), then the ``pooled`` row; empty for no pairs."""
    require_columns(pairs, PAIR_COLUMNS)
    pairs = pairs.sort_values(["rater", "image"], kind="stable", ignore_index=True)
    rows = []
    for rater, own in pairs.groupby("rater", sort=True):
        each_pair = list(np.arange(len(own))[:, None])
        rows.append({"rater": rater, **reliability(own, each_pair, resamples, seed, confidence)})
    if rows:
        images = pairs["image"].to_numpy()
        each_image = [np.flatnonzero(images == image) for image in np.unique(images)]
        rows.append({"rater": POOLED, **reliability(pairs, each_image, resamples, seed, confidence)})
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


def reliability(pairs, units, resamples, seed, confidence):
    """Agreement and both kappas of ``pairs``, bootstrapped over ``units`` (arrays of row positions in ``pairs``);
    the raters are the strata of `pooled_kappa`."""
    raters = pd.factorize(pairs["rater"])[0]
    answer_first, answer_second = (pairs[column].map(LABELS.index).to_numpy() for column in ANSWER_COLUMNS)
    quality_first, quality_second = (pairs[column].to_numpy(int) - 1 for column in QUALITY_COLUMNS)
    # Each unit's table per rater of first against second showing; a resample's tables are sums of its units'.
    answer_tables = unit_tables(raters, answer_first, answer_second, units, len(LABELS))
    quality_tables = unit_tables(raters, quality_first, quality_second, units, len(QUALITY_SCORES))
    kappa_answer = float(pooled_kappa(answer_tables.sum(axis=0)))
    kappa_quality = float(pooled_kappa(quality_tables.sum(axis=0), "quadratic"))
    (answer_low, answer_high), (quality_low, quality_high) = (math.nan, math.nan), (math.nan, math.nan)
    if len(units) >= 2:
        draws = np.random.default_rng(seed).integers(0, len(units), size=(resamples, len(units)))
        multiplicity = np.zeros((resamples, len(units)))
        np.add.at(multiplicity, (np.arange(resamples)[:, None], draws), 1)
        answer_low, answer_high = percentile_interval(
            pooled_kappa(np.einsum("bu,urij->brij", multiplicity, answer_tables)), confidence
        )
        quality_low, quality_high = percentile_interval(
            pooled_kappa(np.einsum("bu,urij->brij", multiplicity, quality_tables), "quadratic"), confidence
        )
    return {
        "n_pairs": len(pairs),
        "answer_agreement": float(np.mean(answer_first == answer_second)),
        "kappa_answer": kappa_answer,
        "kappa_answer_low": answer_low,
        "kappa_answer_high": answer_high,
        "kappa_quality": kappa_quality,
        "kappa_quality_low": quality_low,
        "kappa_quality_high": quality_high,
    }


def unit_tables(raters, first, second, units, size):
    """``(units, raters, size, size)`` counts of the category codes ``first`` against ``second`` of each rater
    (codes ``raters``) within each unit."""
    tables = np.zeros((len(units), raters.max() + 1, size, size))
    for index, rows in enumerate(units):
        np.add.at(tables[index], (raters[rows], first[rows], second[rows]), 1)
    return tables


def percentile_interval(values, confidence):
    """The central ``confidence`` percentile interval of ``values``, NaNs left out; NaN bounds if all are NaN."""
    if np.isnan(values).all():
        # np.nanpercentile would warn and give NaN anyway.
        return math.nan, math.nan
    low, high = np.nanpercentile(values, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(low), float(high)


def methods_text(table, n_images, gap, confidence=TABLE_CONFIDENCE):
    """The repeatability sentences of the methods paragraph, from `intra_rater_agreement`'s ``table``, the number
    of images shown twice and the fewest images between an image's two showings; empty for an empty table."""
    if table.empty:
        return ""
    pooled = table.iloc[-1]
    return (
        f"{n_images} images were shown to each rater a second time, at least {gap} images after the first showing, "
        f"and only the first showing enters the other statistics; intra-rater agreement over {pooled['n_pairs']} "
        f"pairs (the same answer in {100 * pooled['answer_agreement']:.1f}%): Cohen's kappa of real/synthetic "
        f"{estimate(pooled, 'kappa_answer', confidence)}, quadratic weighted kappa of quality "
        f"{estimate(pooled, 'kappa_quality', confidence)}, bootstrap over images."
    )


def estimate(row, name, confidence):
    """``0.61 (95% CI 0.40 to 0.80)`` for the statistic ``name`` of ``row``, "undefined" for what is NaN."""
    low, high = row[f"{name}_low"], row[f"{name}_high"]
    interval = "undefined" if math.isnan(low) or math.isnan(high) else f"{low:.2f} to {high:.2f}"
    return f"{number(row[name])} ({confidence:.0%} CI {interval})"


def number(value):
    return "undefined" if math.isnan(value) else f"{value:.2f}"
