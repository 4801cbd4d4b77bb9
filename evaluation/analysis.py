"""The whole analysis of a rating study: Turing test, agreement, quality, HYPE and metric-vs-rating regression.

Inputs (pandas DataFrames; extra columns are ignored):

* ``ratings``: one row per rating, with ``rater``, ``profession``, ``item`` (the image shown), ``set`` (its
  image set), ``truth`` and ``answer`` (``"real"``/``"synthetic"``) and ``quality`` (1-5); optionally the
  training-setting columns of synthetic sets (``model``, ``train_images``, ``epoch``, ``lr``: see
  ``SETTINGS``). ``item`` identifies the image, so an image shown in several pooled studies is one image.
* ``sets``: one row per synthetic set, ``set`` and one column per set-level metric value (FID, PSNR, every
  LBP element ``V_k``, ...); the set's mean quality comes from the ratings.
* ``images``: one row per synthetic image, ``item`` and one column per per-image metric value.

`analyse` runs every test of `evaluation.turing`, `evaluation.study_roc` (ROC and MRMC),
`evaluation.agreement`, `evaluation.quality`, `evaluation.hype`, `evaluation.correlation` and
`evaluation.image_level` on them, each with its N. `results_table` flattens every estimate into one tidy
table (one row per estimate: section, group, statistic, estimate, 95% CI, p, Holm p, N, note) for CSV and
JSON; `methods_paragraph` writes the methods in words for a report.
"""

import math
from dataclasses import dataclass, field

import pandas as pd

from evaluation import correlation, image_level, study_roc
from evaluation.agreement import fleiss_kappa, icc, pairwise_kappa
from evaluation.frames import require_columns, table_rows
from evaluation.hype import hype_infinity
from evaluation.quality import quality_by_kind, quality_summary
from evaluation.results import RESULT_COLUMNS, Estimate, estimate_rows, setting_label
from evaluation.turing import confusion_matrix, turing_table

SETTINGS = ("model", "train_images", "epoch", "lr")
QUALITY_SCORES = [1, 2, 3, 4, 5]
RATINGS_COLUMNS = ("rater", "profession", "item", "set", "truth", "answer", "quality")
# Values the metrics report that describe how they were computed, not the images: never regressed on ratings.
BOOKKEEPING_SET_VALUES = {
    ("kid", "kid_std"),
    ("lbp", "reference_images"),
    ("memorisation", "pixel_threshold"),
    ("memorisation", "feature_threshold"),
}
BOOKKEEPING_IMAGE_VALUES = {"nearest_real_pixel", "nearest_real_feature"}
# Counts of a set's images: regressed as shares of the set, since sets differ in size.
COUNTED_SET_VALUES = {("memorisation", "flagged_pixel"), ("memorisation", "flagged_feature")}


@dataclass
class RatingAnalysis:
    """Every table and summary of one analysis; ``tables`` are DataFrames, ``summaries`` plain dicts."""

    tables: dict = field(default_factory=dict)
    summaries: dict = field(default_factory=dict)
    set_metrics: list = field(default_factory=list)
    image_metrics: list = field(default_factory=list)
    resamples: int = 0
    seed: int = 0


def analyse(ratings, sets=None, images=None, resamples=1000, seed=0):
    """Run every test on the ratings (and the metrics of the rated synthetic sets and images, when given)."""
    require_columns(ratings, RATINGS_COLUMNS)
    analysis = RatingAnalysis(resamples=resamples, seed=seed)
    tables, summaries = analysis.tables, analysis.summaries
    tables["turing_pooled"] = turing_table(ratings)
    tables["turing_by_rater"] = turing_table(ratings, "rater")
    tables["turing_by_profession"] = turing_table(ratings, "profession")
    tables["confusion"] = confusion_matrix(ratings)
    tables["roc_by_rater"] = study_roc.roc_by_rater(ratings)
    summaries["mrmc"] = study_roc.reader_averaged(ratings)
    tables["mrmc_by_set"] = study_roc.by_group(ratings, ["set"])
    summaries["mrmc_conditions"] = study_roc.condition_comparison(ratings)
    tables["kappa_answer"] = pairwise_kappa(ratings, "answer")
    tables["kappa_quality"] = pairwise_kappa(ratings, "quality", weights="quadratic", categories=QUALITY_SCORES)
    summaries["fleiss_answer"] = fleiss_kappa(ratings, "answer")
    summaries["icc_quality"] = icc(ratings, "quality")
    summaries["hype"] = hype_infinity(ratings, resamples=resamples, seed=seed)
    summaries["quality_by_kind"] = quality_by_kind(ratings)
    tables["quality_by_set"] = quality_summary(ratings, ["truth", "set"])

    synthetic = ratings[ratings["truth"] == "synthetic"]
    settings = [name for name in SETTINGS if name in synthetic.columns and synthetic[name].notna().any()]
    if settings:
        # Sets without a setting (an upload has no training-subset size) keep a group of their own.
        tables["quality_by_setting"] = quality_summary(synthetic, settings)
        tables["mrmc_by_setting"] = study_roc.by_group(ratings, settings)

    set_table = set_means(synthetic, settings)
    if sets is not None and len(sets):
        analysis.set_metrics = [column for column in sets.columns if column != "set"]
        set_table = set_table.merge(sets, on="set", how="left")
        tables["set_level"] = correlation.set_level_table(set_table, analysis.set_metrics, outcome="mean_quality")
    tables["sets"] = set_table

    if images is not None and len(images):
        analysis.image_metrics = [column for column in images.columns if column != "item"]
        image_ratings = synthetic.assign(called_real=(synthetic["answer"] == "real").astype(int))
        image_ratings = image_ratings.merge(images, on="item", how="inner")
        tables["image_level"] = image_level.image_level_table(image_ratings, analysis.image_metrics)
    return analysis


def set_means(synthetic_ratings, settings=()):
    """Per synthetic set: its settings, the number of ratings and images, and the mean quality score."""
    grouped = synthetic_ratings.groupby("set", sort=True)
    table = grouped.agg(
        n_ratings=("quality", "size"), n_images=("item", "nunique"), mean_quality=("quality", "mean")
    ).reset_index()
    if settings:
        table = table.merge(grouped[list(settings)].first().reset_index(), on="set")
    return table


def quality_grid(set_table, rows="train_images", columns="epoch"):
    """Mean quality per set laid out as the experiment grid (the heat map); None without both settings.

    Rows are ``rows`` levels, preceded by the model and learning rate where the sets differ in them, so
    that no cell averages sets trained differently; sets without both settings (uploads) are left out.
    """
    if rows not in set_table or columns not in set_table:
        return None
    gridded = set_table.dropna(subset=[rows, columns])
    if gridded.empty:
        return None
    index = [name for name in ("model", "lr") if name in gridded and gridded[name].nunique() > 1] + [rows]
    return gridded.pivot_table(index=index, columns=columns, values="mean_quality", aggfunc="mean")


TURING_ESTIMATES = (
    Estimate("accuracy", "accuracy", "accuracy_low", "accuracy_high", p="binomial_p", n="n_ratings", note="note"),
    Estimate("balanced accuracy", "balanced_accuracy", n="n_ratings"),
    Estimate("sensitivity", "sensitivity", "sensitivity_low", "sensitivity_high", n="n_synthetic"),
    Estimate("specificity", "specificity", "specificity_low", "specificity_high", n="n_real"),
    Estimate(
        "synthetic called real",
        "synthetic_called_real",
        "synthetic_called_real_low",
        "synthetic_called_real_high",
        n="n_synthetic",
    ),
)
QUALITY_ESTIMATES = (Estimate("mean quality", "mean", "low", "high", n="n", note="note"),)
# A mean quality whose 95% interval spans more than one score point cannot rank sets against each other.
WIDEST_USEFUL_QUALITY_INTERVAL = 1.0
SET_LEVEL_ESTIMATES = (
    Estimate("OLS slope", "slope", "slope_low", "slope_high", p="p", p_holm="p_holm", n="n"),
    Estimate("R^2", "r_squared", n="n"),
    Estimate("Pearson r", "pearson_r", "pearson_low", "pearson_high", p="pearson_p", n="n"),
    Estimate(
        "Spearman rho",
        "spearman_rho",
        "spearman_low",
        "spearman_high",
        p="spearman_p",
        p_holm="spearman_p_holm",
        n="n",
        note="conclusion",
    ),
    Estimate("log fit a (y = a ln x + b)", "log_a", p="log_p", n="n", optional=True),
)
IMAGE_LEVEL_ESTIMATES = (
    Estimate(
        "mixed model slope per SD",
        "mixed_slope",
        "mixed_low",
        "mixed_high",
        p="mixed_p",
        p_holm="mixed_p_holm",
        n="n_ratings",
        note="note",
    ),
    Estimate(
        "odds ratio of 'real' per SD",
        "odds_ratio",
        "odds_ratio_low",
        "odds_ratio_high",
        p="logistic_p",
        p_holm="logistic_p_holm",
        n="n_ratings",
        note="note",
    ),
)


def quality_note(row):
    """What a mean quality score's interval allows to say: ``""`` unless it is too wide or missing."""
    if row["n"] < 2:
        return f"no interval from n={row['n']}"
    if row["high"] - row["low"] > WIDEST_USEFUL_QUALITY_INTERVAL:
        return f"CI wider than one score point (n={row['n']}): too wide to rank against others"
    return ""


def agreement_note(row):
    if not math.isfinite(row["low"]):
        return "no interval"
    return "CI covers 0: no evidence of agreement beyond chance" if row["low"] <= 0 else ""


def results_table(analysis):
    """Every estimate of ``analysis`` as one tidy DataFrame with the columns of ``RESULT_COLUMNS``."""
    tables, summaries = analysis.tables, analysis.summaries

    def rows_of(name):
        rows = table_rows(tables, name)
        if name.startswith("quality_by"):
            rows = [{**row, "note": quality_note(row)} for row in rows]
        return rows

    def group(row):
        return row["group"]

    def pair(row):
        return f"{row['rater_a']} & {row['rater_b']}"

    def metric(row):
        return row["metric"]

    by_kind = summaries["quality_by_kind"]
    kinds = [{"kind": truth, **by_kind[truth]} for truth in ("real", "synthetic")]
    kinds = [{**row, "note": quality_note(row)} for row in kinds]
    agreement = {**summaries["icc_quality"], "note": agreement_note(summaries["icc_quality"])}
    kind_test = {
        "rank_biserial": by_kind["rank_biserial"],
        "p": by_kind["p"],
        "n": by_kind["real"]["n"] + by_kind["synthetic"]["n"],
        "note": by_kind["note"],
    }
    settings = [column for column in SETTINGS if column in tables.get("quality_by_setting", ())]
    pooled = tables["turing_pooled"].iloc[0]
    hype = {**summaries["hype"], "n_synthetic": pooled["n_synthetic"], "n_real": pooled["n_real"]}
    rows = [
        *estimate_rows("turing: pooled", rows_of("turing_pooled"), group, TURING_ESTIMATES),
        *study_roc.result_rows(tables, summaries, settings),
        *estimate_rows("turing: by profession", rows_of("turing_by_profession"), group, TURING_ESTIMATES),
        *estimate_rows("turing: by rater", rows_of("turing_by_rater"), group, TURING_ESTIMATES),
        *estimate_rows(
            "agreement: real/synthetic", rows_of("kappa_answer"), pair, [Estimate("Cohen's kappa", "kappa", n="n")]
        ),
        *estimate_rows(
            "agreement: real/synthetic",
            [summaries["fleiss_answer"]],
            lambda row: "all raters",
            [Estimate("Fleiss' kappa", "kappa", n="n_items")],
        ),
        *estimate_rows(
            "agreement: quality",
            rows_of("kappa_quality"),
            pair,
            [Estimate("quadratic weighted kappa", "kappa", n="n")],
        ),
        *estimate_rows(
            "agreement: quality",
            [agreement],
            lambda row: "all raters",
            [Estimate("ICC(2,1)", "icc", "low", "high", p="p", n="n_items", note="note")],
        ),
        *estimate_rows(
            "quality: by set",
            rows_of("quality_by_set"),
            lambda row: f"{row['set']} ({row['truth']})",
            QUALITY_ESTIMATES,
        ),
        *estimate_rows("quality: by kind", kinds, lambda row: row["kind"], QUALITY_ESTIMATES),
        *estimate_rows(
            "quality: by kind",
            [kind_test],
            lambda row: "real vs synthetic",
            [Estimate("rank-biserial r (Mann-Whitney U)", "rank_biserial", p="p", n="n", note="note")],
        ),
        *estimate_rows(
            "quality: by setting",
            rows_of("quality_by_setting"),
            lambda row: setting_label(row, settings),
            QUALITY_ESTIMATES,
        ),
        *estimate_rows(
            "HYPE-infinity",
            [hype],
            lambda row: "all",
            [
                Estimate("error rate, %", "score", "low", "high", n="n_ratings"),
                Estimate("synthetic judged real, %", "fake_error", n="n_synthetic"),
                Estimate("real judged synthetic, %", "real_error", n="n_real"),
                Estimate("balanced error rate, %", "balanced_score", "balanced_low", "balanced_high", n="n_ratings"),
            ],
        ),
        *estimate_rows("set level", rows_of("set_level"), metric, SET_LEVEL_ESTIMATES),
        *estimate_rows("image level", rows_of("image_level"), metric, IMAGE_LEVEL_ESTIMATES),
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def methods_paragraph(analysis, ratings, study_names=(), seeds=(), metric_versions=None):
    """The methods in words: raters, images, seeds, tests, corrections and metric versions."""
    pooled = analysis.tables["turing_pooled"].iloc[0]
    professions = ratings.groupby("profession")["rater"].nunique()
    profession_text = ", ".join(f"{count} {name}" for name, count in professions.items()) or "none"
    sets = ratings.loc[ratings["truth"] == "synthetic", "set"].nunique()
    text = [
        f"{pooled['n_raters']} raters ({profession_text}) gave {pooled['n_ratings']} ratings of "
        f"{pooled['n_images']} images ({pooled['n_real_images']} real, {pooled['n_synthetic_images']} synthetic "
        f"from {sets} synthetic sets)"
        + (f" in {', '.join(study_names)}" if study_names else "")
        + (f"; pool and order seeds {', '.join(str(seed) for seed in seeds)}" if seeds else "")
        + ". Each rater saw the images one at a time in their own seeded order, blinded to set and kind, and "
        "marked each real or synthetic and rated its quality from 1 to 5.",
        "Accuracy, sensitivity (synthetic images detected), specificity and the share of synthetic images "
        "judged real are given with Wilson 95% intervals; accuracy is tested against 50% with the exact "
        "binomial test. "
        + study_roc.methods_text(analysis.summaries["mrmc"])
        + " Agreement is Cohen's kappa per pair of raters and Fleiss' kappa over the images every "
        "rater saw (real/synthetic), and quadratic weighted kappa and ICC(2,1) (two-way random, absolute "
        "agreement, McGraw and Wong interval) for quality. Quality is compared between real and synthetic "
        "images with the two-sided Mann-Whitney U test (rank-biserial effect size). HYPE-infinity is the "
        f"error rate in percent with a percentile bootstrap over raters and images ({analysis.resamples} "
        f"resamples, seed {analysis.seed}).",
    ]
    if analysis.set_metrics:
        text.append(
            f"Each of {len(analysis.set_metrics)} set-level metric values was related to the synthetic sets' "
            "mean quality score by ordinary least squares (slope, R^2), Pearson's r (Fisher z interval) and "
            "Spearman's rho (Fisher z interval with the Bonett-Wright variance), and by the logarithmic fit "
            "y = a ln(x) + b where the metric is positive; the p-values of the OLS slope and of Spearman's rho are "
            "Holm-corrected across all metrics (those of Pearson's r and of the log fit are not)."
        )
    if analysis.image_metrics:
        text.append(
            f"At image level, each of {len(analysis.image_metrics)} per-image metrics (standardised to z-scores) "
            "was related to every quality score by a linear mixed model with crossed random intercepts for rater "
            "and image (t test on images - 2 degrees of freedom), and to the answer 'real' by a logistic GEE "
            "clustered by image with raters as fixed effects; p-values are Holm-corrected across the metrics."
        )
    if metric_versions:
        versions = ", ".join(f"{name} {version}" for name, version in sorted(metric_versions.items()))
        text.append(f"Metric implementations: {versions} (definitions in the evaluation package's docstrings).")
    return " ".join(text)
