"""How well each per-image metric agrees with the clinicians' ratings, rating by rating.

The reference study related metrics only to the mean quality of whole sets (`evaluation.correlation`).
Here every rating of a synthetic image counts: a linear mixed model for its quality score and a logistic
GEE for whether the rater called it real, both per SD of the metric and both clustered on the image.

Input: a DataFrame ``ratings`` with one row per rating of a synthetic image: the rater id, the quality
score (1-5), ``called_real`` (1 when the rater answered "real", 0 for "synthetic"), the image id
(``item``; optional, see the fallback below), and one column per per-image metric (``psnr_mean_db``,
``psnr_nearest_db``, MI, LBP chi-square, ``lbp_V0..lbp_V255``, nearest-real distances, ...). A row is used
for a metric when the metric, the quality, ``called_real``, the rater and the image are all present and
finite. The metric is standardised over those rows, ``z = (x - mean) / SD`` (sample SD, ddof = 1), so both
effects are per SD of the metric.

The metric describes the image, so it is repeated over each image's ratings, and images differ in quality
and realism for many reasons besides any one metric. A model without an image effect treats the R ratings
of an image as R independent pieces of evidence about the metric and its p-values are far too small: in
simulated studies with a metric unrelated to the ratings, a random intercept per rater alone and a logistic
GEE clustered on the few raters (its sandwich covariance needs many clusters) both found the metric
"significant" far more often than alpha (the rates are in bench/README.md). Both models below are
clustered on the image; each has its own module with its formulas, sources and numerical notes.

* Quality: linear mixed model with crossed random intercepts for rater and image, fitted by REML
  (`evaluation.crossed_mixed_model`): ``mixed_slope`` (quality points per SD of the metric), its interval
  ``mixed_low``, ``mixed_high`` and ``mixed_p``.
* P(called real): logistic GEE with exchangeable working correlation, the image as cluster, rater dummies
  (`evaluation.logistic_gee`): ``odds_ratio`` (the odds of "real" per SD of the metric), its interval
  ``odds_ratio_low``, ``odds_ratio_high`` and ``logistic_p``.
* Without an ``item`` column neither model can have an image effect: the quality model is the random
  intercept per rater and the GEE is clustered by rater without rater dummies; ``note`` says the p-values
  are then too small.
* With a single rater neither model is defined: OLS and a plain logistic regression are fitted instead,
  and ``note`` says so.
* Holm's correction (S. Holm, Scand. J. Statist. 1979; `evaluation.frames.holm`) over the metric rows,
  separately for ``mixed_p`` and ``logistic_p``; rows where neither model gave a p-value are no tests
  (`evaluation.frames.untested` with ``IMAGE_LEVEL_TESTS``).

Fewer than ``MIN_RATINGS`` ratings or a constant metric give a row of NaN with the reason in ``note``.
An outcome that does not vary, perfect separation of "real" and "synthetic" answers by the metric (the
logistic estimate is then infinite), a fit that does not converge or a singular information matrix give
NaN for that model with the reason in ``note``; warnings are collected into ``note`` rather than emitted
(`evaluation.fit_failures`).
"""

import numpy as np
import pandas as pd

from evaluation.crossed_mixed_model import CrossedRatings, quality_model
from evaluation.fit_failures import FitFailed
from evaluation.frames import holm, is_constant, numbers, require_columns
from evaluation.logistic_gee import logistic_model

IMAGE_COLUMNS = [
    "metric",
    "n_ratings",
    "n_images",
    "n_raters",
    "mixed_slope",
    "mixed_low",
    "mixed_high",
    "mixed_p",
    "odds_ratio",
    "odds_ratio_low",
    "odds_ratio_high",
    "logistic_p",
    "mixed_p_holm",
    "logistic_p_holm",
    "note",
]
# The p-values of the table's tests: a row with none of them is no test (`evaluation.frames.untested`).
IMAGE_LEVEL_TESTS = ("mixed_p", "logistic_p")
MIN_RATINGS = 4


def _image_row(metric, values, base, columns, rater_ratios):
    quality, called_real, rater_codes, image_codes = columns
    used = base & np.isfinite(values)
    x = values[used]
    raters, codes = np.unique(rater_codes[used], return_inverse=True)
    images = np.unique(image_codes[used], return_inverse=True)[1] if image_codes is not None else None
    row = {
        "metric": metric,
        "n_ratings": int(used.sum()),
        "n_images": len(np.unique(images)) if images is not None else np.nan,
        "n_raters": len(raters),
    }
    if row["n_ratings"] < MIN_RATINGS:
        return row | {"note": f"too few ratings (n={row['n_ratings']})"}
    if is_constant(x):
        return row | {"note": "constant metric"}
    z = (x - x.mean()) / x.std(ddof=1)
    single_rater = len(raters) == 1
    notes = []
    if single_rater:
        notes.append("one rater: OLS instead of the mixed model, plain logistic (GLM) instead of GEE")
    elif images is None:
        notes.append("no item column: no image intercept, GEE clustered by rater; p-values too small")
    crossed = CrossedRatings(images, codes) if images is not None and not single_rater else None

    def rater_ratio():
        # The rater and residual variances come from within-image contrasts, which an image-level metric does
        # not change: one REML fit per set of rows used serves every metric with those rows.
        key = used.tobytes()
        if key not in rater_ratios:
            rater_ratios[key] = crossed.rater_ratio(quality[used])
        return rater_ratios[key]

    models = (
        (
            "mixed",
            ["mixed_slope", "mixed_low", "mixed_high", "mixed_p"],
            lambda: quality_model(z, quality[used], codes, single_rater, crossed, rater_ratio),
        ),
        (
            "logistic",
            ["odds_ratio", "odds_ratio_low", "odds_ratio_high", "logistic_p"],
            lambda: logistic_model(z, called_real[used], codes, images, single_rater),
        ),
    )
    for name, keys, model in models:
        try:
            *estimates, messages = model()
        except FitFailed as failure:
            notes.append(f"{name}: {failure}")
            continue
        row.update(zip(keys, estimates, strict=True))
        notes.extend(f"{name}: {message}" for message in messages)
    return row | {"note": "; ".join(notes)}


def image_level_table(ratings, metrics, rater="rater", quality="quality", called_real="called_real", item="item"):
    """One row per per-image metric: crossed mixed model for quality, logistic GEE for "called real", per SD.

    ``ratings`` has one row per rating of a synthetic image; ``item`` (optional column) identifies the image:
    without it the models fall back to rater effects only (see ``note``). See the module docstring for every
    column, `evaluation.crossed_mixed_model` and `evaluation.logistic_gee` for the models.
    """
    metrics = list(metrics)
    require_columns(ratings, [*metrics, rater, quality, called_real])
    rater_codes, _ = pd.factorize(ratings[rater])
    quality_values = numbers(ratings[quality])
    called_values = numbers(ratings[called_real])
    base = (rater_codes >= 0) & np.isfinite(quality_values) & np.isfinite(called_values)
    image_codes = None
    if item in ratings.columns:
        image_codes, _ = pd.factorize(ratings[item])
        base &= image_codes >= 0
    invalid_answers = set(np.unique(called_values[base])) - {0.0, 1.0}
    if invalid_answers:
        raise ValueError(f"column {called_real} must hold 0 or 1, found {sorted(invalid_answers)}")
    columns = (quality_values, called_values, rater_codes, image_codes)
    rater_ratios = {}
    rows = [_image_row(metric, numbers(ratings[metric]), base, columns, rater_ratios) for metric in metrics]
    table = pd.DataFrame(rows, columns=[column for column in IMAGE_COLUMNS if not column.endswith("_holm")])
    table["mixed_p_holm"] = holm(table["mixed_p"])
    table["logistic_p_holm"] = holm(table["logistic_p"])
    table = table.sort_values("mixed_p", na_position="last", kind="stable")
    return table[IMAGE_COLUMNS].reset_index(drop=True)
