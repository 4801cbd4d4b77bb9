"""ROC and multi-reader multi-case (MRMC) analysis of a rating study: can readers tell synthetic from real?

Input: the ratings frame of `evaluation.analysis` (``rater``, ``profession``, ``item`` (the image),
``set``, ``truth`` and ``answer`` ("real"/"synthetic"), optionally ``confidence`` 1-5 and the training
settings and ``study``). "Synthetic" is the positive class, so an AUC of 0.5 means readers cannot tell
synthetic images from real ones and 1.0 that they always can.

* **Score.** `evaluation.mrmc.synthetic_score`: answer x confidence makes a 10-level score for "this image
  is synthetic" (1 = real, most sure ... 10 = synthetic, most sure). Where any rating lacks a confidence
  (a study that did not ask for it), every rating gets the 2-level score of its answer alone, and each
  reader's AUC is then their balanced accuracy.
* **Per reader**: the empirical ROC curve and AUC with a DeLong 95% interval (`evaluation.roc`), over all
  the images that reader rated.
* **Reader-averaged**: OR-Hillis (`evaluation.mrmc.or_hillis`), random readers and random cases (RRRC:
  the interval generalises to new readers and new images) and fixed readers (FRRC: these readers only).
  It needs a fully crossed design, so it runs on the largest block of readers and the images they all
  rated that `crossed_block` finds (readers who rated least are left out first).
* **Per synthetic set and per training setting**: the set's (setting's) synthetic images against all the
  real images of the block, one single-modality OR-Hillis analysis each: which generator fools readers.
* **Conditions**: where pooled studies showed the same images to the same readers (a factorial design,
  ``condition`` = the study), the OR-Hillis comparison of the conditions' AUCs.
* **Planning**: `evaluation.mrmc_power.sample_size_table` from the reader-averaged analysis' variance
  components: the images needed for 80% power, per number of readers, to show AUC = 0.5 + effect differs
  from 0.5.
"""

import numpy as np
import pandas as pd

from evaluation import mrmc_power
from evaluation.mrmc import MRMCInputError, or_hillis, synthetic_scores
from evaluation.roc import auc_interval, roc_curve

POSITIVE = "synthetic"
MINIMUM_PER_CLASS = 2
PLANNING_READERS = range(2, 21)
PLANNING_TARGET = 0.8


def scored(ratings):
    """The ratings with ``score`` (synthetic 1-10, or 1-2 without confidences) and ``positive`` (1 = synthetic)."""
    confidences = ratings["confidence"] if "confidence" in ratings else None
    if confidences is not None and confidences.isna().any():
        confidences = None
    return ratings.assign(
        score=synthetic_scores(ratings["answer"], confidences).to_numpy(),
        positive=(ratings["truth"] == POSITIVE).astype(int).to_numpy(),
    )


def score_levels(ratings):
    """10 where every rating has a confidence (answer x confidence), else 2 (the answer alone)."""
    return 10 if "confidence" in ratings and ratings["confidence"].notna().all() else 2


def roc_by_rater(ratings):
    """Per rater: profession, images of each kind, the empirical AUC and its DeLong 95% interval."""
    rows = []
    for (rater, profession), own in scored(ratings).groupby(["rater", "profession"], sort=True):
        row = {"rater": rater, "profession": profession, "n_real": int((own["positive"] == 0).sum())}
        row["n_synthetic"] = len(own) - row["n_real"]
        row["n_images"] = len(own)
        if min(row["n_real"], row["n_synthetic"]) >= MINIMUM_PER_CLASS:
            interval = auc_interval(own["positive"], own["score"])
            row.update(auc=interval["auc"], se=interval["se"], low=interval["low"], high=interval["high"], note="")
        else:
            row.update(auc=np.nan, se=np.nan, low=np.nan, high=np.nan, note="needs 2 real and 2 synthetic images")
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["rater", "profession", "n_real", "n_synthetic", "n_images", "auc", "se", "low", "high", "note"]
    )


def roc_curves(ratings):
    """``{name: (fpr, tpr)}``: each rater's empirical ROC curve and the pooled one (all ratings as one reader)."""
    ratings = scored(ratings)
    curves = {}
    for rater, own in ratings.groupby("rater", sort=True):
        if own["positive"].nunique() == 2:
            curves[rater] = roc_curve(own["positive"], own["score"])
    if ratings["positive"].nunique() == 2:
        curves["pooled"] = roc_curve(ratings["positive"], ratings["score"])
    return curves


def crossed_block(ratings, reader="rater", case="item"):
    """The ratings of the largest fully crossed block found greedily, or an empty frame.

    Candidates: all readers, then without the reader who rated least, and so on down to two; each with the
    images all its readers rated. The candidate with the most ratings (readers x images) that holds two real
    and two synthetic images wins.
    """
    readers = ratings[reader].value_counts()
    kinds = ratings.drop_duplicates(case).set_index(case)["truth"]
    best, best_size = ratings.iloc[:0], 0
    for count in range(len(readers), 1, -1):
        block = ratings[ratings[reader].isin(readers.index[:count])]
        per_case = block.groupby(case)[reader].nunique()
        cases = per_case.index[per_case == count]
        counts = kinds.loc[cases].value_counts()
        if min(counts.get("real", 0), counts.get(POSITIVE, 0)) >= MINIMUM_PER_CLASS and count * len(cases) > best_size:
            best, best_size = block[block[case].isin(cases)], count * len(cases)
    return best


def mrmc_frame(ratings, modality=None):
    """The columns `or_hillis` reads, from scored ratings."""
    frame = pd.DataFrame(
        {
            "reader": ratings["rater"].astype(str),
            "case": ratings["item"].astype(str),
            "truth": ratings["positive"],
            "score": ratings["score"],
        }
    )
    if modality is not None:
        frame["modality"] = ratings[modality].astype(str)
    return frame


def reader_averaged(ratings, covariance="jackknife"):
    """OR-Hillis over the crossed block: the reader-averaged AUC with RRRC and FRRC intervals and the counts.

    Returns ``{"auc", "rrrc": {...}, "frrc": {...}, "readers", "variance_components", "n_readers", "n_cases",
    "n_real", "n_synthetic", "n_raters", "n_images", "score_levels", "covariance", "note"}``; without a
    crossed block of two readers, two real and two synthetic images, ``auc`` is NaN and the note says why.
    """
    ratings = scored(ratings)
    block = crossed_block(ratings)
    summary = {
        "n_raters": int(ratings["rater"].nunique()),
        "n_images": int(ratings["item"].nunique()),
        "score_levels": score_levels(ratings),
        "covariance": covariance,
    }
    if block.empty:
        return {**summary, "auc": np.nan, "note": "needs two raters who rated the same 2 real and 2 synthetic images"}
    result = or_hillis(mrmc_frame(block), covariance=covariance)
    modality = result["modalities"][0]
    cases = block.drop_duplicates("item")
    summary.update(
        auc=modality["auc"],
        rrrc=modality["rrrc"],
        frrc=modality["frrc"],
        readers=modality["readers"],
        variance_components=result["variance_components"],
        n_readers=int(block["rater"].nunique()),
        n_cases=len(cases),
        n_real=int((cases["positive"] == 0).sum()),
        n_synthetic=int(cases["positive"].sum()),
    )
    left_out = summary["n_raters"] - summary["n_readers"], summary["n_images"] - summary["n_cases"]
    summary["note"] = (
        f"fully crossed block: {summary['n_readers']} of {summary['n_raters']} raters x {summary['n_cases']} of "
        f"{summary['n_images']} images"
        if any(left_out)
        else ""
    )
    if summary["n_readers"] < 4:
        summary["note"] = "; ".join(
            filter(None, [summary["note"], f"{summary['n_readers']} readers: the RRRC interval is wide by design"])
        )
    return summary


def by_group(ratings, columns, covariance="jackknife"):
    """Per group of synthetic images (``columns``, e.g. ``["set"]``): its images against every real image of the
    crossed block, one single-modality OR-Hillis analysis each. One row per group."""
    ratings = scored(ratings)
    block = crossed_block(ratings)
    rows = []
    if block.empty:
        return pd.DataFrame(rows)
    real = block[block["positive"] == 0]
    synthetic = block[block["positive"] == 1]
    for key, group in synthetic.groupby(list(columns), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(columns, key, strict=True))
        row.update(
            n_readers=int(block["rater"].nunique()),
            n_real=int(real["item"].nunique()),
            n_synthetic=int(group["item"].nunique()),
        )
        row["n_images"] = row["n_real"] + row["n_synthetic"]
        if row["n_synthetic"] < MINIMUM_PER_CLASS:
            rows.append({**row, "auc": np.nan, "note": "fewer than 2 synthetic images in the crossed block"})
            continue
        modality = or_hillis(mrmc_frame(pd.concat([real, group])), covariance=covariance)["modalities"][0]
        rows.append(
            {
                **row,
                "auc": modality["auc"],
                "se": modality["rrrc"]["se"],
                "df": modality["rrrc"]["df"],
                "low": modality["rrrc"]["low"],
                "high": modality["rrrc"]["high"],
                "p_vs_half": modality["rrrc"]["p_vs_half"],
                "frrc_low": modality["frrc"]["low"],
                "frrc_high": modality["frrc"]["high"],
                "note": "",
            }
        )
    return pd.DataFrame(rows)


def condition_comparison(ratings, condition="study", covariance="jackknife"):
    """OR-Hillis comparison of ``condition``'s levels over the images and readers that every level shares.

    None unless there are two or more conditions and a crossed block of two readers, two real and two
    synthetic images read under every one of them.
    """
    if condition not in ratings or ratings[condition].nunique() < 2:
        return None
    ratings = scored(ratings)
    levels = ratings[condition].nunique()
    # One rater under several conditions is one reader; each image under every condition is one case.
    per_case = ratings.groupby(["rater", "item"])[condition].nunique()
    complete = per_case[per_case == levels].reset_index()[["rater", "item"]]
    shared = ratings.merge(complete, on=["rater", "item"])
    block = crossed_block(shared.drop_duplicates(["rater", "item"]))
    if block.empty:
        return None
    block = shared.merge(block[["rater", "item"]], on=["rater", "item"])
    try:
        result = or_hillis(mrmc_frame(block, modality=condition), covariance=covariance)
    except MRMCInputError:
        return None
    result["n_readers"] = int(block["rater"].nunique())
    result["n_cases"] = int(block["item"].nunique())
    return result


def planning(summary, effect, target=PLANNING_TARGET, readers=PLANNING_READERS, alpha=0.05):
    """Images needed per number of readers for ``target`` power of the RRRC test of AUC = 0.5 when the true AUC
    is 0.5 + ``effect``, from this study's variance components (`evaluation.mrmc_power`); None without them."""
    components = summary.get("variance_components")
    if components is None:
        return None
    return mrmc_power.sample_size_table(
        effect, components, summary["n_cases"], alpha=alpha, target=target, readers=readers, test="vs_half"
    )
