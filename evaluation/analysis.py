"""The whole analysis of a rating study: Turing test, agreement, quality, HYPE and metric-vs-rating regression.

Inputs (pandas DataFrames; extra columns are ignored):

* ``ratings``: one row per rating, with ``rater``, ``profession``, ``item`` (the image shown), ``set`` (its
  image set), ``truth`` and ``answer`` (``"real"``/``"synthetic"``) and ``quality`` (1-5); optionally the
  training-setting columns of synthetic sets (``train_images``, ``epoch``, ``lr``: see ``SETTINGS``).
* ``sets``: one row per synthetic set, ``set`` and one column per set-level metric value (FID, PSNR, every
  LBP element ``V_k``, ...); the set's mean quality comes from the ratings.
* ``images``: one row per synthetic image, ``item`` and one column per per-image metric value.

`analyse` runs every test of `evaluation.turing`, `evaluation.agreement`, `evaluation.quality`,
`evaluation.hype` and `evaluation.correlation` on them, each with its N. `results_table` flattens every
estimate into one tidy table (one row per estimate: section, group, statistic, estimate, 95% CI, p, Holm
p, N, note) for CSV and JSON; `methods_paragraph` writes the methods in words for a report.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation import correlation
from evaluation.agreement import fleiss_kappa, icc, pairwise_kappa
from evaluation.hype import hype_infinity
from evaluation.quality import quality_by_kind, quality_summary
from evaluation.turing import confusion_matrix, require_columns, turing_table

SETTINGS = ("train_images", "epoch", "lr")
QUALITY_SCORES = [1, 2, 3, 4, 5]
RATINGS_COLUMNS = ("rater", "profession", "item", "set", "truth", "answer", "quality")
RESULT_COLUMNS = ["section", "group", "statistic", "estimate", "low", "high", "p", "p_holm", "n", "note"]
# Values the metrics report that describe how they were computed, not the images: never regressed on ratings.
BOOKKEEPING_SET_VALUES = {
    ("kid", "kid_std"),
    ("lbp", "reference_images"),
    ("memorisation", "pixel_threshold"),
    ("memorisation", "feature_threshold"),
}
BOOKKEEPING_IMAGE_VALUES = {"nearest_real_pixel", "nearest_real_feature"}


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
        tables["quality_by_setting"] = quality_summary(synthetic.dropna(subset=settings), settings)

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
        tables["image_level"] = correlation.image_level_table(image_ratings, analysis.image_metrics)
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
    """Mean quality pivoted by two settings (the experiment grid's heat map); None without both settings."""
    if rows not in set_table or columns not in set_table or set_table[[rows, columns]].isna().all().any():
        return None
    return set_table.pivot_table(index=rows, columns=columns, values="mean_quality", aggfunc="mean")


def results_table(analysis):
    """Every estimate of ``analysis`` as one tidy DataFrame with the columns of ``RESULT_COLUMNS``."""
    rows = []

    def add(section, group, statistic, estimate, low=math.nan, high=math.nan, p=math.nan, p_holm=math.nan, n=None):
        rows.append(
            {
                "section": section,
                "group": str(group),
                "statistic": statistic,
                "estimate": estimate,
                "low": low,
                "high": high,
                "p": p,
                "p_holm": p_holm,
                "n": n,
                "note": "",
            }
        )

    for table_name, section in (
        ("turing_pooled", "turing: pooled"),
        ("turing_by_profession", "turing: by profession"),
        ("turing_by_rater", "turing: by rater"),
    ):
        for row in analysis.tables[table_name].to_dict("records"):
            n = row["n_ratings"]
            add(
                section,
                row["group"],
                "accuracy",
                row["accuracy"],
                row["accuracy_low"],
                row["accuracy_high"],
                p=row["binomial_p"],
                n=n,
            )
            rows[-1]["note"] = row["note"]
            add(section, row["group"], "balanced accuracy", row["balanced_accuracy"], n=n)
            for statistic in ("sensitivity", "specificity", "synthetic_called_real"):
                count = row["n_real"] if statistic == "specificity" else row["n_synthetic"]
                add(
                    section,
                    row["group"],
                    statistic.replace("_", " "),
                    row[statistic],
                    row[f"{statistic}_low"],
                    row[f"{statistic}_high"],
                    n=count,
                )
    for row in analysis.tables["kappa_answer"].to_dict("records"):
        add(
            "agreement: real/synthetic",
            f"{row['rater_a']} & {row['rater_b']}",
            "Cohen's kappa",
            row["kappa"],
            n=row["n"],
        )
    fleiss = analysis.summaries["fleiss_answer"]
    add("agreement: real/synthetic", "all raters", "Fleiss' kappa", fleiss["kappa"], n=fleiss["n_items"])
    for row in analysis.tables["kappa_quality"].to_dict("records"):
        add(
            "agreement: quality",
            f"{row['rater_a']} & {row['rater_b']}",
            "quadratic weighted kappa",
            row["kappa"],
            n=row["n"],
        )
    agreement = analysis.summaries["icc_quality"]
    add(
        "agreement: quality",
        "all raters",
        "ICC(2,1)",
        agreement["icc"],
        agreement["low"],
        agreement["high"],
        p=agreement["p"],
        n=agreement["n_items"],
    )
    for row in analysis.tables["quality_by_set"].to_dict("records"):
        add(
            "quality: by set",
            f"{row['set']} ({row['truth']})",
            "mean quality",
            row["mean"],
            row["low"],
            row["high"],
            n=row["n"],
        )
    by_kind = analysis.summaries["quality_by_kind"]
    for truth in ("real", "synthetic"):
        summary = by_kind[truth]
        add("quality: by kind", truth, "mean quality", summary["mean"], summary["low"], summary["high"], n=summary["n"])
    add(
        "quality: by kind",
        "real vs synthetic",
        "rank-biserial r (Mann-Whitney U)",
        by_kind["rank_biserial"],
        p=by_kind["p"],
        n=by_kind["real"]["n"] + by_kind["synthetic"]["n"],
    )
    rows[-1]["note"] = by_kind["note"]
    if "quality_by_setting" in analysis.tables:
        table = analysis.tables["quality_by_setting"]
        settings = [column for column in table.columns if column in SETTINGS]
        for row in table.to_dict("records"):
            group = ", ".join(f"{name} {row[name]}" for name in settings)
            add("quality: by setting", group, "mean quality", row["mean"], row["low"], row["high"], n=row["n"])
    hype = analysis.summaries["hype"]
    add("HYPE-infinity", "all", "error rate, %", hype["score"], hype["low"], hype["high"], n=hype["n_ratings"])
    add("HYPE-infinity", "synthetic", "synthetic judged real, %", hype["fake_error"])
    add("HYPE-infinity", "real", "real judged synthetic, %", hype["real_error"])
    for row in analysis.tables.get("set_level", pd.DataFrame()).to_dict("records"):
        add(
            "set level",
            row["metric"],
            "OLS slope",
            row["slope"],
            row["slope_low"],
            row["slope_high"],
            p=row["p"],
            p_holm=row["p_holm"],
            n=row["n"],
        )
        add("set level", row["metric"], "R^2", row["r_squared"], n=row["n"])
        add(
            "set level",
            row["metric"],
            "Pearson r",
            row["pearson_r"],
            row["pearson_low"],
            row["pearson_high"],
            p=row["pearson_p"],
            n=row["n"],
        )
        add(
            "set level",
            row["metric"],
            "Spearman rho",
            row["spearman_rho"],
            row["spearman_low"],
            row["spearman_high"],
            p=row["spearman_p"],
            p_holm=row["spearman_p_holm"],
            n=row["n"],
        )
        rows[-1]["note"] = row["conclusion"]
        if np.isfinite(row["log_a"]):
            add("set level", row["metric"], "log fit a (y = a ln x + b)", row["log_a"], p=row["log_p"], n=row["n"])
    for row in analysis.tables.get("image_level", pd.DataFrame()).to_dict("records"):
        add(
            "image level",
            row["metric"],
            "mixed model slope per SD",
            row["mixed_slope"],
            row["mixed_low"],
            row["mixed_high"],
            p=row["mixed_p"],
            p_holm=row["mixed_p_holm"],
            n=row["n_ratings"],
        )
        rows[-1]["note"] = row["note"]
        add(
            "image level",
            row["metric"],
            "odds ratio of 'real' per SD",
            row["odds_ratio"],
            row["odds_ratio_low"],
            row["odds_ratio_high"],
            p=row["logistic_p"],
            p_holm=row["logistic_p_holm"],
            n=row["n_ratings"],
        )
        rows[-1]["note"] = row["note"]
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
        "binomial test. Agreement is Cohen's kappa per pair of raters and Fleiss' kappa over the images every "
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
            "y = a ln(x) + b where the metric is positive; p-values are Holm-corrected across all metrics."
        )
    if analysis.image_metrics:
        text.append(
            f"At image level, each of {len(analysis.image_metrics)} per-image metrics (standardised to z-scores) "
            "was related to every quality score by a linear mixed model with a random intercept per rater, and "
            "to the answer 'real' by a logistic GEE (exchangeable within rater); p-values are Holm-corrected."
        )
    if metric_versions:
        versions = ", ".join(f"{name} {version}" for name, version in sorted(metric_versions.items()))
        text.append(f"Metric implementations: {versions} (definitions in the evaluation package's docstrings).")
    return " ".join(text)
