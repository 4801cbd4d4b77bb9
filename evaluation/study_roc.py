"""ROC and multi-reader multi-case (MRMC) analysis of a rating study: can readers tell synthetic from real?

Input: the ratings frame of `evaluation.analysis` (``rater``, ``profession``, ``item`` (the image),
``set``, ``truth`` and ``answer`` ("real"/"synthetic"), optionally ``confidence`` 1-5 and the training
settings and ``study``). "Synthetic" is the positive class, so an AUC of 0.5 means readers cannot tell
synthetic images from real ones and 1.0 that they always can.

* **Score.** `synthetic_scores`: answer x confidence makes a 10-level score for "this image
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
from evaluation.frames import table_rows
from evaluation.mrmc import VARIANCE_COMPONENTS, MRMCInputError, or_hillis
from evaluation.results import Estimate, estimate_rows, flat, setting_label
from evaluation.roc import auc_interval, roc_curve
from evaluation.turing import LABELS

POSITIVE = "synthetic"
MINIMUM_PER_CLASS = 2
PLANNING_READERS = range(2, 21)
PLANNING_TARGET = 0.8
CONFIDENCES = (1, 2, 3, 4, 5)


def synthetic_scores(answers, confidences=None):
    """The app's score for "this image is synthetic" of every rating, as an integer Series (index of ``answers``
    when it is a Series); ValueError for an answer other than "real"/"synthetic" or a confidence outside 1-5.

    The answer and its confidence (1-5) make 10 ordered levels, from the most sure "real" to the most sure
    "synthetic",

        real, confidence 5 -> 1,  real 4 -> 2,  ...,  real 1 -> 5,  synthetic 1 -> 6,  ...,  synthetic 5 -> 10

    so that truth 1 = synthetic image. Without confidences (``None``) the answer alone is a 2-level score (real
    1, synthetic 2), and then each reader's AUC is their balanced accuracy, (sensitivity + specificity) / 2.
    """
    answers = pd.Series(answers, dtype=object)
    unknown = sorted(set(answers) - set(LABELS), key=str)
    if unknown:
        raise ValueError(f"answers must be 'real' or 'synthetic'; found {unknown[:5]}")
    called_real = (answers == "real").to_numpy()
    if confidences is None:
        return pd.Series(np.where(called_real, 1, 2), index=answers.index, dtype=np.int64)
    confidence = pd.to_numeric(pd.Series(list(confidences), index=answers.index), errors="coerce")
    if len(confidence) != len(answers) or not confidence.isin(CONFIDENCES).all():
        # Mixing 2-level and 10-level scores would put them on one scale they do not share.
        raise ValueError(f"confidences must be one of {CONFIDENCES} for every answer, or None for none")
    levels = confidence.to_numpy(dtype=np.int64)
    return pd.Series(np.where(called_real, 6 - levels, 5 + levels), index=answers.index, dtype=np.int64)


def has_confidences(ratings):
    """Every rating gives a confidence: the score has 10 levels, else the answer alone makes 2."""
    return "confidence" in ratings and bool(ratings["confidence"].notna().all())


def scored(ratings):
    """The ratings with ``score`` (synthetic 1-10, or 1-2 without confidences) and ``positive`` (1 = synthetic)."""
    return ratings.assign(
        score=synthetic_scores(
            ratings["answer"], ratings["confidence"] if has_confidences(ratings) else None
        ).to_numpy(),
        positive=(ratings["truth"] == POSITIVE).astype(int).to_numpy(),
    )


def first_readings(ratings):
    """Each rater's first rating of each image: pooled studies can show one image to one rater twice, and the
    single-condition analyses count a reader's case once (the pooled studies' comparison uses both)."""
    return ratings.drop_duplicates(["rater", "item"], keep="first")


def roc_by_rater(ratings):
    """Per rater: profession, images of each kind, the empirical AUC and its DeLong 95% interval."""
    rows = []
    for (rater, profession), own in scored(first_readings(ratings)).groupby(["rater", "profession"], sort=True):
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
    ratings = scored(first_readings(ratings))
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


def crossed_readings(ratings):
    """``(scored first readings, their crossed block)``: what the single-condition analyses work on."""
    ratings = scored(first_readings(ratings))
    return ratings, crossed_block(ratings)


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
    ratings, block = crossed_readings(ratings)
    summary = {
        "n_raters": int(ratings["rater"].nunique()),
        "n_images": int(ratings["item"].nunique()),
        "score_levels": 10 if has_confidences(ratings) else 2,
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
    notes = []
    if (summary["n_readers"], summary["n_cases"]) != (summary["n_raters"], summary["n_images"]):
        notes.append(
            f"fully crossed block: {summary['n_readers']} of {summary['n_raters']} raters x {summary['n_cases']} of "
            f"{summary['n_images']} images"
        )
    if not summary["rrrc"]["se"] > 0:
        notes.append(
            "every reader ranked every synthetic image above every real one: no variance left to make an interval from"
        )
    elif summary["n_readers"] < 4:
        notes.append(f"{summary['n_readers']} readers: the RRRC interval is wide by design")
    summary["note"] = "; ".join(notes)
    return summary


def by_group(ratings, columns, covariance="jackknife"):
    """Per group of synthetic images (``columns``, e.g. ``["set"]``): its images against every real image of the
    crossed block, one single-modality OR-Hillis analysis each. One row per group."""
    _, block = crossed_readings(ratings)
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
    is 0.5 + ``effect``, from this study's variance components (`evaluation.mrmc_power`).

    None without components, or when they leave no case variance to scale (every reader separated the images
    perfectly, say): a pilot like that cannot say how many images a study needs.
    """
    components = summary.get("variance_components")
    if components is None:
        return None
    try:
        return mrmc_power.sample_size_table(
            effect, components, summary["n_cases"], alpha=alpha, target=target, readers=readers, test="vs_half"
        )
    except ValueError:
        return None


def power_of(summary, effect, n_readers, n_cases, alpha=0.05):
    """The power of a planned study of ``n_readers`` x ``n_cases`` (`planning`'s test); None as `planning`."""
    components = summary.get("variance_components")
    if components is None:
        return None
    try:
        return mrmc_power.power(
            effect, n_readers, n_cases, components, summary["n_cases"], alpha=alpha, test="vs_half"
        )["power"]
    except ValueError:
        return None


RATER_ESTIMATES = (Estimate("AUC (DeLong 95% CI)", "auc", "low", "high", n="n_images", note="note"),)
READER_AVERAGED_ESTIMATES = (
    Estimate(
        "AUC, random readers and cases (OR-Hillis)",
        "auc",
        "rrrc_low",
        "rrrc_high",
        p="rrrc_p_vs_half",
        n="n_cases",
        note="note",
    ),
    Estimate("SE, random readers and cases", "rrrc_se", n="n_cases"),
    Estimate("df (Hillis), random readers and cases", "rrrc_df", n="n_cases"),
    Estimate("AUC, these readers only (FRRC)", "auc", "frrc_low", "frrc_high", p="frrc_p_vs_half", n="n_cases"),
    Estimate("SE, these readers only", "frrc_se", n="n_cases"),
    Estimate("readers", "n_readers", n="n_readers"),
)
GROUP_ESTIMATES = (
    Estimate(
        "AUC, random readers and cases (OR-Hillis)", "auc", "low", "high", p="p_vs_half", n="n_images", note="note"
    ),
    Estimate("SE, random readers and cases", "se", n="n_images"),
    Estimate("df (Hillis), random readers and cases", "df", n="n_images"),
    Estimate("AUC, these readers only (FRRC)", "auc", "frrc_low", "frrc_high", n="n_images"),
)
COMPARISON_ESTIMATES = (
    Estimate(
        "AUC difference, random readers and cases", "difference", "rrrc_low", "rrrc_high", p="rrrc_p", n="n_cases"
    ),
    Estimate("SE, random readers and cases", "rrrc_se", n="n_cases"),
    Estimate("F (1, ddf), random readers and cases", "rrrc_f", p="rrrc_p", n="n_cases"),
    Estimate("ddf (Hillis)", "rrrc_ddf", n="n_cases"),
    Estimate("AUC difference, these readers only", "difference", "frrc_low", "frrc_high", p="frrc_p", n="n_cases"),
    Estimate("chi-square (1 df), these readers only", "frrc_chisq", p="frrc_p", n="n_cases"),
)


def variance_rows(section, group, result):
    """One tidy row per variance component of an OR-Hillis ``result`` (those undefined left out)."""
    components = flat({"variance_components": result["variance_components"], "n_cases": result["n_cases"]})
    estimates = [
        Estimate(name, f"variance_components_{name}", n="n_cases", optional=True) for name in VARIANCE_COMPONENTS
    ]
    return estimate_rows(section, [components], lambda row: group, estimates)


def result_rows(tables, summaries, settings):
    """The ROC and MRMC rows of `evaluation.analysis.results_table`."""
    reader_averaged, conditions = summaries["mrmc"], summaries["mrmc_conditions"]

    rows = [
        *estimate_rows("ROC: by rater", table_rows(tables, "roc_by_rater"), lambda row: row["rater"], RATER_ESTIMATES),
        *estimate_rows("MRMC: reader-averaged", [flat(reader_averaged)], lambda row: "all", READER_AVERAGED_ESTIMATES),
        *estimate_rows("MRMC: by set", table_rows(tables, "mrmc_by_set"), lambda row: row["set"], GROUP_ESTIMATES),
        *estimate_rows(
            "MRMC: by setting",
            table_rows(tables, "mrmc_by_setting"),
            lambda row: setting_label(row, settings),
            GROUP_ESTIMATES,
        ),
    ]
    if "variance_components" in reader_averaged:
        rows += variance_rows("MRMC: variance components", "all", reader_averaged)
    if conditions is not None:
        rows += estimate_rows(
            "MRMC: conditions",
            [{**flat(comparison), "n_cases": conditions["n_cases"]} for comparison in conditions["comparisons"]],
            lambda row: f"{row['modality_a']} - {row['modality_b']}",
            COMPARISON_ESTIMATES,
        )
        rows += variance_rows("MRMC: conditions, variance components", "all", conditions)
    return rows


def methods_text(summary):
    """The ROC and MRMC sentences of the methods paragraph, from `reader_averaged`'s ``summary``."""
    if summary["score_levels"] == 10:
        score = (
            "the answer and its confidence (1-5) made a 10-level score for 'synthetic' (1: real, most sure; 10: "
            "synthetic, most sure)"
        )
    else:
        score = "the answer alone made a 2-level score (so each rater's AUC equals their balanced accuracy)"
    return (
        f"For ROC analysis, with synthetic images as positives, {score}. Each rater's empirical AUC "
        "(Wilcoxon-Mann-Whitney, ties counted half) is given with a DeLong 95% interval. The reader-averaged AUC "
        "is estimated by the Obuchowski-Rockette method with jackknife covariances and Hillis' degrees of "
        "freedom (OR-Hillis), with random readers and cases (RRRC, generalising to new readers and images) and "
        "fixed readers (FRRC), over the largest fully crossed block of raters and the images they all rated, and "
        "tested against 0.5; the same single-modality analysis is given for each synthetic set and training "
        "setting against the real images of that block. Pooled studies that showed the same images to the same "
        "raters are compared as conditions by the OR-Hillis F test, and the study's variance components give the "
        "images needed per number of readers for 80% power (Hillis, Obuchowski and Berbaum 2011)."
    )
