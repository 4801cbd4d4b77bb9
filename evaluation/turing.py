"""The rating study's Turing test: how well raters tell real images from synthetic ones.

Input: a ratings frame (pandas DataFrame, long format, one row per rating) with the columns ``rater``,
``item`` (the image shown), ``truth`` and ``answer`` (each ``"real"`` or ``"synthetic"``); any other
column is ignored, except the one named by ``by`` in `turing_table`. A missing column or an unknown label
raises ``ValueError``.

Counts are over the ratings (a rater who sees an image twice counts twice): ``n_real`` and ``n_synthetic``
are ratings of real and of synthetic images, ``n_real_images`` and ``n_synthetic_images`` distinct images.

    correct = #(answer = truth),  accuracy = correct / n_ratings

The synthetic images are the positive class ("detecting synthetic images"):

    sensitivity           = #(answer = synthetic | truth = synthetic) / #(truth = synthetic)
    specificity           = #(answer = real | truth = real) / #(truth = real)
    synthetic_called_real = 1 - sensitivity

``synthetic_called_real`` is the reference study's "share of synthetic images judged real". Every share
comes with its Wilson score interval (E. B. Wilson, "Probable inference, the law of succession, and
statistical inference", JASA 1927), which keeps its coverage for small n and for shares near 0 or 1,
where the normal (Wald) interval fails. With ``z`` the two-sided normal quantile and ``p = k / n``:

    centre = (p + z^2 / 2n) / (1 + z^2 / n),  half-width = z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n)

``binomial_p`` is the two-sided exact binomial test of accuracy = 0.5 (``scipy.stats.binomtest``, summing
the probabilities of all outcomes no likelier than the one observed). ``conclusive`` is True when the 95%
Wilson interval of the accuracy excludes 0.5; ``note`` says in words why a result is not conclusive.

Caveat: with unequal numbers of real and synthetic images, accuracy rewards a rater who always gives the
majority answer (with 8 real and 60 synthetic images, "always synthetic" scores 88%). ``balanced_accuracy``
= (sensitivity + specificity) / 2 is 0.5 for such a rater; read it, and sensitivity and specificity,
beside the accuracy.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.frames import normal_quantile, require_columns

LABELS = ("real", "synthetic")
CHANCE = 0.5
# A 95% interval wider than 30 percentage points rules out too little to support any conclusion.
WIDEST_USEFUL_INTERVAL = 0.3
SUMMARY_COLUMNS = ("rater", "item", "truth", "answer")


def require_labels(ratings, columns=("truth", "answer")):
    """Raise ``ValueError`` when a value of ``columns`` is neither ``real`` nor ``synthetic`` (NaN included)."""
    for column in columns:
        unknown = sorted(set(ratings[column].astype(object)) - set(LABELS), key=str)
        if unknown:
            raise ValueError(f"column {column} must hold only 'real' or 'synthetic'; found {unknown[:5]}")


def wilson_interval(successes, n, confidence=0.95):
    """Wilson score interval ``(low, high)`` of the share ``successes / n``; ``(nan, nan)`` when ``n == 0``."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return math.nan, math.nan
    z = normal_quantile(confidence)
    share = successes / n
    denominator = 1 + z**2 / n
    centre = (share + z**2 / (2 * n)) / denominator
    half_width = z * math.sqrt(share * (1 - share) / n + z**2 / (4 * n**2)) / denominator
    # At k = 0 and k = n the bounds are exactly 0 and 1; rounding would leave them a hair off.
    low = 0.0 if successes == 0 else float(centre - half_width)
    high = 1.0 if successes == n else float(centre + half_width)
    return low, high


def share_with_interval(successes, n):
    share = successes / n if n else math.nan
    return (share, *wilson_interval(successes, n))


def turing_summary(ratings):
    """Accuracy, sensitivity, specificity and the share of synthetic images judged real, with Wilson CIs."""
    require_columns(ratings, SUMMARY_COLUMNS)
    require_labels(ratings)
    truth_synthetic = (ratings["truth"] == "synthetic").to_numpy()
    answer_synthetic = (ratings["answer"] == "synthetic").to_numpy()
    n_ratings = len(ratings)
    n_synthetic = int(truth_synthetic.sum())
    n_real = n_ratings - n_synthetic
    detected = int((truth_synthetic & answer_synthetic).sum())
    real_called_real = int((~truth_synthetic & ~answer_synthetic).sum())
    correct = detected + real_called_real

    accuracy, accuracy_low, accuracy_high = share_with_interval(correct, n_ratings)
    sensitivity, sensitivity_low, sensitivity_high = share_with_interval(detected, n_synthetic)
    specificity, specificity_low, specificity_high = share_with_interval(real_called_real, n_real)
    passed, passed_low, passed_high = share_with_interval(n_synthetic - detected, n_synthetic)
    conclusive = bool(accuracy_low > CHANCE or accuracy_high < CHANCE)
    return {
        "n_ratings": n_ratings,
        "n_raters": int(ratings["rater"].nunique()),
        "n_images": int(ratings["item"].nunique()),
        "n_real": n_real,
        "n_synthetic": n_synthetic,
        "n_real_images": int(ratings.loc[~truth_synthetic, "item"].nunique()),
        "n_synthetic_images": int(ratings.loc[truth_synthetic, "item"].nunique()),
        "correct": correct,
        "accuracy": accuracy,
        "accuracy_low": accuracy_low,
        "accuracy_high": accuracy_high,
        "binomial_p": float(stats.binomtest(correct, n_ratings, CHANCE).pvalue) if n_ratings else math.nan,
        "balanced_accuracy": (sensitivity + specificity) / 2,
        "sensitivity": sensitivity,
        "sensitivity_low": sensitivity_low,
        "sensitivity_high": sensitivity_high,
        "specificity": specificity,
        "specificity_low": specificity_low,
        "specificity_high": specificity_high,
        "synthetic_called_real": passed,
        "synthetic_called_real_low": passed_low,
        "synthetic_called_real_high": passed_high,
        "conclusive": conclusive,
        "note": accuracy_note(n_ratings, accuracy_low, accuracy_high, conclusive),
    }


def accuracy_note(n_ratings, low, high, conclusive):
    """One sentence on what the accuracy interval allows to conclude; ``""`` when nothing needs saying."""
    if n_ratings == 0:
        return "no ratings"
    remarks = []
    if not conclusive:
        remarks.append("CI covers 50%: cannot tell whether raters beat chance")
    elif high < CHANCE:
        remarks.append("raters are wrong more often than chance: they systematically mislabel images")
    if high - low > WIDEST_USEFUL_INTERVAL:
        remarks.append(f"CI {low:.0%} to {high:.0%} is too wide to conclude anything")
    return f"{'; '.join(remarks)} (n={n_ratings})" if remarks else ""


def turing_table(ratings, by=None):
    """`turing_summary` per value of column ``by`` (one row ``group = "all"`` when ``by`` is None), sorted."""
    require_columns(ratings, SUMMARY_COLUMNS if by is None else (*SUMMARY_COLUMNS, by))
    if by is None:
        rows = [{"group": "all", **turing_summary(ratings)}]
    else:
        # dropna=False: ratings whose group is unknown (say, no profession given) get a row of their own.
        rows = [
            {"group": group, **turing_summary(part)} for group, part in ratings.groupby(by, sort=True, dropna=False)
        ]
    columns = ["group", *turing_summary(ratings.iloc[:0])]
    return pd.DataFrame(rows, columns=columns)


def confusion_matrix(ratings):
    """Counts of ratings: rows ``truth`` (real, synthetic), columns ``answer`` (real, synthetic)."""
    require_columns(ratings, ("truth", "answer"))
    require_labels(ratings)
    counts = pd.crosstab(ratings["truth"], ratings["answer"])
    counts = counts.reindex(index=list(LABELS), columns=list(LABELS), fill_value=0)
    return counts.rename_axis(index="truth", columns="answer").astype(np.int64)
