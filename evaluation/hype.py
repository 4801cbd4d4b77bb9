"""HYPE-infinity: the raters' error rate at telling real from synthetic images, with a bootstrap interval.

Source: S. Zhou, M. L. Gordon, R. Krishna, A. Narcomey, L. Fei-Fei, M. S. Bernstein, "HYPE: A Benchmark for
Human eYe Perceptual Evaluation of Generative Models", NeurIPS 2019. HYPE-infinity is the share of all
judgements, of real and of synthetic images, that are wrong, in percent:

    score = 100 #(answer != truth) / n_ratings

50% means raters cannot tell the two apart (as good as a coin), 0% that they always can; above 50% they
mistake one for the other systematically. ``fake_error`` (synthetic judged real) and ``real_error`` (real
judged synthetic) are the same rate within each kind. The paper shows as many real as synthetic images;
with unequal numbers the pooled score leans towards the larger kind, so ``balanced_score`` = (fake_error +
real_error) / 2 is reported beside it (with its own interval).

Interval: percentile bootstrap over raters and images at once, as in the paper. Each of ``resamples``
resamples draws the raters with replacement and, independently, the images with replacement, and takes
every rating of a drawn rater on a drawn image, as often as the product of the two draw counts. With
``W`` (resamples x raters) and ``V`` (resamples x images) the draw counts and ``E``, ``N`` the rater x image
matrices of wrong answers and of ratings, a resample's score is ``sum(W E * V) / sum(W N * V)``: two
matrix products, no loop over resamples. A resample in which no drawn rater rated a drawn image has no
score and is left out of the percentiles. The same ``seed`` gives the same interval.

Input: a ratings frame (pandas DataFrame, one row per rating) with the columns ``rater``, ``item`` (the
image), ``truth`` and ``answer`` (each ``"real"`` or ``"synthetic"``); other columns are ignored. A missing
column or unknown label raises ``ValueError``; an empty frame gives NaN estimates.
"""

import math

import numpy as np
import pandas as pd

from evaluation.frames import require_columns
from evaluation.turing import require_labels


def percent_wrong(wrong):
    return 100 * float(wrong.mean()) if len(wrong) else math.nan


def hype_infinity(ratings, resamples=1000, seed=0, confidence=0.95):
    """HYPE-infinity error rate (percent) with a two-way (raters x images) percentile bootstrap interval."""
    require_columns(ratings, ("rater", "item", "truth", "answer"))
    require_labels(ratings)
    if int(resamples) != resamples or resamples < 1:
        raise ValueError(f"resamples must be a positive whole number, not {resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    wrong = (ratings["truth"] != ratings["answer"]).to_numpy()
    synthetic = (ratings["truth"] == "synthetic").to_numpy()
    fake_error, real_error = percent_wrong(wrong[synthetic]), percent_wrong(wrong[~synthetic])
    result = {
        "score": percent_wrong(wrong),
        "low": math.nan,
        "high": math.nan,
        "fake_error": fake_error,
        "real_error": real_error,
        "balanced_score": (fake_error + real_error) / 2,
        "balanced_low": math.nan,
        "balanced_high": math.nan,
        "n_ratings": len(ratings),
        "n_raters": int(ratings["rater"].nunique()),
        "n_images": int(ratings["item"].nunique()),
        "resamples": int(resamples),
        "seed": seed,
    }
    if len(ratings) == 0:
        return result

    # Sorted codes: the draws, and so the interval, do not depend on the order of the rows.
    rater_codes, raters = pd.factorize(ratings["rater"], sort=True)
    item_codes, items = pd.factorize(ratings["item"], sort=True)
    rng = np.random.default_rng(seed)
    rater_draws = rng.multinomial(len(raters), np.full(len(raters), 1 / len(raters)), size=int(resamples))
    item_draws = rng.multinomial(len(items), np.full(len(items), 1 / len(items)), size=int(resamples))

    def resampled_count(rows):
        """Per resample, how many of the ``rows`` (a boolean mask over the ratings) the resample holds."""
        counts = np.zeros((len(raters), len(items)))
        np.add.at(counts, (rater_codes[rows], item_codes[rows]), 1)
        return ((rater_draws @ counts) * item_draws).sum(axis=1)

    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = resampled_count(wrong) / resampled_count(np.ones_like(wrong))
        fake = resampled_count(wrong & synthetic) / resampled_count(synthetic)
        real = resampled_count(wrong & ~synthetic) / resampled_count(~synthetic)
    tail = 100 * (1 - confidence) / 2
    result["low"], result["high"] = percentile_interval(100 * pooled, tail)
    result["balanced_low"], result["balanced_high"] = percentile_interval(100 * (fake + real) / 2, tail)
    return result


def percentile_interval(values, tail):
    """The ``tail`` and ``100 - tail`` percentiles of the finite ``values``; NaN when there are none."""
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return math.nan, math.nan
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
