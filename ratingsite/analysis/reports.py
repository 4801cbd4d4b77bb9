"""`StudyReport`: one analysis of one or more studies' ratings, its plots, and the files researchers take away."""

import io
import json
import re
import zipfile
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from evaluation import attention, correlation, frames, plots, repeatability, study_roc
from evaluation.analysis import SETTINGS, analyse, methods_paragraph, quality_grid, results_table
from evaluation.image_level import IMAGE_LEVEL_TESTS
from evaluation.results import setting_label
from ratingsite.analysis.data import (
    RATER_GROUPS,
    attention_frame,
    chosen_evaluations,
    image_metrics_frame,
    ratings_frame,
    repeat_frame,
    set_metrics_frame,
)
from ratingsite.imagesets.models import Image
from ratingsite.studies.models import StudyItem

HYPE_RESAMPLES = 1000
SCATTER_PLOTS = 6
TABLE_ROWS = 30
STANDARD_PLOTS = ("accuracy", "confusion", "roc", "auc-by-set", "auc-by-setting", "quality-histograms", "quality-grid")
AUC_FOREST_TABLES = {"auc-by-set": "mrmc_by_set", "auc-by-setting": "mrmc_by_setting"}
# Each metric-regression table: the p-values that make a row a test, and the column saying why a row is none.
REGRESSION_TABLES = {
    "set_level": (correlation.SET_LEVEL_TESTS, "conclusion"),
    "image_level": (IMAGE_LEVEL_TESTS, "note"),
}
# The effect the planning table is drawn for unless the researcher types another: AUC 0.6 against 0.5.
PLANNING_EFFECT = 0.1
EXPORTS = {
    "ratings.csv": "text/csv",
    "attention.csv": "text/csv",
    "repeats.csv": "text/csv",
    "repeat_pairs.csv": "text/csv",
    "images.csv": "text/csv",
    "sets.csv": "text/csv",
    "results.csv": "text/csv",
    "results.json": "application/json",
    "settings.json": "application/json",
    "report.html": "text/html",
}


# A text cell beginning with one of these runs as a formula when a spreadsheet opens the CSV.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_csv(frame):
    """``frame`` as CSV in which no text cell can run as a spreadsheet formula: a text cell that begins with
    = + - @, a tab or a carriage return gets a leading ``'`` (OWASP, "CSV Injection"); numbers stay numbers.
    A rater's comment or a set's name is free text, and "=HYPERLINK(...)" in one would run when opened."""
    safe = frame.copy()
    for column in safe.select_dtypes(include=["object", "string"]).columns:
        safe[column] = safe[column].map(
            lambda value: f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value
        )
    return safe.to_csv(index=False)


class ReportError(ValueError):
    """The analysis cannot be made (no ratings, an unknown plot or metric)."""


class StudyReport:
    """The ratings of ``studies`` by ``rater_group`` (a key of `RATER_GROUPS`), analysed by `evaluation.analysis`;
    with ``min_attention`` (a percentage), without the raters who passed fewer of their attention checks."""

    def __init__(self, studies, rater_group="all", resamples=HYPE_RESAMPLES, seed=0, min_attention=None):
        if rater_group not in RATER_GROUPS:
            raise ReportError(f"unknown rater group {rater_group!r}; choose from {', '.join(RATER_GROUPS)}")
        if min_attention is not None and not 0 <= min_attention <= 100:
            raise ReportError(f"the attention threshold is a percentage from 0 to 100, not {min_attention}")
        self.studies = sorted(studies, key=lambda study: study.pk)
        self.rater_group = rater_group
        self.min_attention = min_attention
        ratings = ratings_frame(self.studies, rater_group)
        if ratings.empty:
            raise ReportError(f"no ratings yet from {RATER_GROUPS[rater_group][0].lower()} in these studies")
        self.attention = attention_frame(self.studies, rater_group)
        self.attention_table = attention.pass_rates(self.attention, ratings["rater"], min_attention)
        self.excluded_raters = self.attention_table.loc[self.attention_table["excluded"], "rater"].tolist()
        self.ratings = ratings[~ratings["rater"].isin(self.excluded_raters)].reset_index(drop=True)
        if self.ratings.empty:
            raise ReportError(f"every rater passed fewer than {min_attention:g}% of their attention checks")
        repeats = repeat_frame(self.studies, rater_group)
        self.repeats = repeats[~repeats["rater"].isin(self.excluded_raters)].reset_index(drop=True)
        self.repeat_table = repeatability.intra_rater_agreement(self.repeats, resamples=resamples, seed=seed)
        synthetic = self.ratings[self.ratings["truth"] == "synthetic"]
        labels = dict(zip(synthetic["set_id"], synthetic["set"], strict=True))
        self.evaluations = {
            set_id: evaluation for set_id, evaluation in chosen_evaluations(self.studies).items() if set_id in labels
        }
        self.set_metrics = set_metrics_frame(self.evaluations, labels)
        self.image_metrics = image_metrics_frame(
            self.evaluations, Image.objects.filter(pk__in=synthetic["image"].unique().tolist())
        )
        # The statistics count images, not study items: an image shown in two pooled studies is one image.
        self.analysis = analyse(
            self.ratings.drop(columns=["set_id", "item"]).rename(columns={"image": "item"}),
            self.set_metrics,
            self.image_metrics.rename(columns={"image": "item"}),
            resamples=resamples,
            seed=seed,
        )
        self.results = results_table(self.analysis)
        self.created = timezone.now()
        self.drawn = {}

    @cached_property
    def item_counts(self):
        """``{study id: Study.item_counts()}``, read once for the methods, the page and the settings."""
        return {study.pk: study.item_counts() for study in self.studies}

    @property
    def repeat_images(self):
        """The images shown to each rater a second time, over the studies."""
        return sum(counts[StudyItem.Role.REPEAT] for counts in self.item_counts.values())

    @property
    def rater_group_label(self):
        return RATER_GROUPS[self.rater_group][0]

    @cached_property
    def metric_versions(self):
        versions = {}
        for evaluation in self.evaluations.values():
            versions.update(evaluation.versions)
        return versions

    @cached_property
    def methods(self):
        paragraph = methods_paragraph(
            self.analysis,
            self.ratings,
            study_names=[study.name for study in self.studies],
            seeds=[study.seed for study in self.studies],
            metric_versions=self.metric_versions,
        )
        attention_text = attention.methods_text(
            self.attention_table, self.attention["image"].nunique(), self.min_attention
        )
        repeat_text = repeatability.methods_text(
            self.repeat_table,
            self.repeat_images,
            min((study.repeat_gap for study in self.studies if study.repeat_count), default=0),
        )
        return " ".join(text for text in (paragraph, self.protocol_text(), attention_text, repeat_text) if text)

    def protocol_text(self):
        """The sentences of the methods paragraph on each study's practice round and timed exposure."""
        sentences = []
        for study in self.studies:
            where = f"In {study.name}, " if len(self.studies) > 1 else ""
            practice = self.item_counts[study.pk][StudyItem.Role.PRACTICE]
            if practice:
                sentences.append(
                    f"{where}raters first answered {practice} practice images and were told the truth after each; "
                    "practice answers were not analysed."
                )
            if study.exposure_ms:
                sentences.append(
                    f"{where}each image was shown for {study.exposure_ms} ms and then replaced by a grey mask of "
                    "the same size; the viewing time recorded is at most the exposure."
                )
        return " ".join(sentence[0].upper() + sentence[1:] for sentence in sentences)

    @property
    def warnings(self):
        """What the reader must know about pooling: studies that show images differently."""
        shown = {(study.resolution, study.display_size) for study in self.studies}
        if len(shown) < 2:
            return []
        return [
            "The pooled studies show images at different resolutions or sizes; each set's metrics come from the "
            "first study that shows it."
        ]

    @cached_property
    def image_table(self):
        """Per rated image: kind, set, sha256, number of ratings, mean quality, share called real, every metric."""
        ratings = self.ratings.assign(called_real=(self.ratings["answer"] == "real").astype(float))
        table = (
            ratings.groupby(["image", "set", "truth", "image_sha256"], sort=True)
            .agg(
                n_ratings=("quality", "size"),
                mean_quality=("quality", "mean"),
                share_called_real=("called_real", "mean"),
            )
            .reset_index()
        )
        if len(self.image_metrics):
            table = table.merge(self.image_metrics, on="image", how="left")
        return table

    def regression(self, name):
        """A metric-regression table (a key of `REGRESSION_TABLES`) as the page shows it: the first
        ``TABLE_ROWS`` tested rows in ranking order, and the untested ones as ``(reason, count)`` only (one
        study of one set leaves every metric untested, and hundreds of rows saying so tell nothing)."""
        table = self.analysis.tables.get(name)
        if table is None:
            return None
        tests, reason = REGRESSION_TABLES[name]
        untested = frames.untested(table, tests)
        reasons = table.loc[untested, reason].replace("", "no p-value").value_counts(sort=True)
        return {
            "rows": display_rows(table[~untested].head(TABLE_ROWS)),
            "n_metrics": len(table),
            "n_tested": int((~untested).sum()),
            "n_untested": int(untested.sum()),
            "untested_reasons": list(reasons.items()),
        }

    def best_metrics(self, set_level, image_level):
        """The headline's metrics: at each level the first in the ranking that has an estimate, and how many
        set-level metrics agree exactly as well (with a few sets, many reach a perfect rank order)."""
        best_set = (
            next((row for row in set_level["rows"] if row["spearman_rho"] is not None), None) if set_level else None
        )
        ties = 0
        if best_set is not None:
            strength = self.analysis.tables["set_level"]["spearman_rho"].abs()
            ties = int((strength == abs(best_set["spearman_rho"])).sum()) - 1
        best_image = None
        if image_level:
            best_image = next((row for row in image_level["rows"] if row["mixed_slope"] is not None), None)
        return {"best_set_metric": best_set, "best_set_ties": ties, "best_image_metric": best_image}

    def scatter_metrics(self):
        """The set-level metrics agreeing best with the mean quality, in ranking order."""
        ranking = self.analysis.tables.get("set_level")
        if ranking is None:
            return []
        return ranking.loc[np.isfinite(ranking["spearman_rho"]), "metric"].head(SCATTER_PLOTS).tolist()

    def figure(self, name, metric=None):
        """The figure called ``name`` (one of ``STANDARD_PLOTS``, or ``scatter`` with a set-level ``metric``)."""
        tables = self.analysis.tables
        if name == "accuracy":
            rows = pd.concat(
                [tables["turing_pooled"], tables["turing_by_profession"], tables["turing_by_rater"]], ignore_index=True
            )
            return plots.accuracy_forest(rows, title="Accuracy: pooled, per profession, per rater")
        if name == "confusion":
            return plots.confusion_plot(tables["confusion"])
        if name == "roc":
            curves = study_roc.roc_curves(self.ratings)
            if not curves:
                raise ReportError("the ratings hold no rater who saw both real and synthetic images")
            return plots.roc_plot(curves)
        if name in AUC_FOREST_TABLES:
            rows = tables.get(AUC_FOREST_TABLES[name])
            if rows is None or "low" not in rows or not np.isfinite(rows["auc"].astype(float)).any():
                raise ReportError(f"no synthetic {name.removeprefix('auc-by-')} has an AUC with an interval")
            if name == "auc-by-set":
                return plots.auc_forest(rows)
            settings = [column for column in SETTINGS if column in rows]
            labels = [setting_label(row, settings) for _, row in rows.iterrows()]
            labelled = rows.assign(setting=labels)
            return plots.auc_forest(labelled, "setting", title="AUC per training setting")
        if name == "quality-histograms":
            return plots.quality_histograms(self.ratings)
        if name == "quality-grid":
            grid = quality_grid(tables["sets"])
            if grid is None:
                raise ReportError("the rated sets have no training-subset size and epoch to lay out as a grid")
            return plots.quality_heat_map(grid)
        if name == "scatter":
            sets = self.scatter_data(metric)
            finite = sets[np.isfinite(sets[metric]) & np.isfinite(sets["mean_quality"])]
            band = log_band = None
            try:
                band = correlation.fit_band(finite[metric], finite["mean_quality"])
                if (finite[metric] > 0).all():
                    log_band = correlation.fit_band(finite[metric], finite["mean_quality"], log=True)
            except ValueError:
                pass  # Fewer than 3 sets or a constant metric: the points alone, no fit to draw.
            return plots.metric_scatter(sets, metric, "mean_quality", band=band, log_band=log_band)
        raise ReportError(f"no plot called {name!r}")

    def require_set_metric(self, metric):
        if not metric:
            raise ReportError("no metric chosen; choose one of the set-level metrics on the analysis page")
        if metric not in self.analysis.set_metrics:
            raise ReportError(f"no set-level metric {metric!r} in this analysis")

    def scatter_data(self, metric):
        """The points of ``metric``'s scatter: per rated synthetic set, its settings and counts, the metric's
        value and the mean quality score."""
        self.require_set_metric(metric)
        sets = self.analysis.tables["sets"]
        settings = [column for column in SETTINGS if column in sets]
        return sets[["set", *settings, "n_ratings", "n_images", metric, "mean_quality"]]

    def set_level_row(self, metric):
        """``metric``'s row of the set-level table: its correlations, fits and conclusion."""
        self.require_set_metric(metric)
        table = self.analysis.tables["set_level"]
        return display_rows(table[table["metric"] == metric])[0]

    def available_plots(self):
        names = []
        for name in STANDARD_PLOTS:
            try:
                self.plot_bytes(name, "svg")  # drawn once: the page and the HTML report show the SVG
            except ReportError:
                continue
            names.append(name)
        return names

    def plot_bytes(self, name, image_format, metric=None):
        """A figure as PNG or SVG bytes, drawn once per report (the page, the HTML report and the zip share it)."""
        key = (name, metric, image_format)
        if key not in self.drawn:
            self.drawn[key] = plots.figure_bytes(self.figure(name, metric), image_format)
        return self.drawn[key]

    def inline_svg(self, name, metric=None):
        svg = self.plot_bytes(name, "svg", metric).decode()
        return mark_safe(svg[svg.index("<svg") :])

    def context(self, planning_effect=PLANNING_EFFECT, planned_design=None):
        """What the page and the HTML report show: tables as rows, summaries, plots as inline SVG.

        ``planning_effect`` (AUC - 0.5) is the effect of the planning table; ``planned_design`` an optional
        ``(readers, images)`` whose power is shown beside it.
        """
        tables = self.analysis.tables
        conditions = self.analysis.summaries["mrmc_conditions"]
        set_level = self.regression("set_level")
        image_level = self.regression("image_level")
        return {
            "report": self,
            "studies": self.studies,
            "methods": self.methods,
            "attention_rows": display_rows(self.attention_table) if len(self.attention) else [],
            "repeat_rows": display_rows(self.repeat_table),
            "repeat_images": self.repeat_images,
            "turing_rows": display_rows(
                pd.concat(
                    [tables["turing_pooled"], tables["turing_by_profession"], tables["turing_by_rater"]],
                    keys=["pooled", "profession", "rater"],
                    names=["level", None],
                ).reset_index(level=0)
            ),
            "confusion": tables["confusion"],
            "roc_rows": display_rows(tables["roc_by_rater"]),
            "mrmc": self.analysis.summaries["mrmc"],
            "mrmc_by_set": display_rows(tables["mrmc_by_set"]),
            "mrmc_by_setting": display_rows(tables["mrmc_by_setting"]) if "mrmc_by_setting" in tables else [],
            "mrmc_conditions": conditions,
            "planning_effect": planning_effect,
            "planning_auc": 0.5 + planning_effect,
            "planning_target": study_roc.PLANNING_TARGET,
            "planning": study_roc.planning(self.analysis.summaries["mrmc"], planning_effect),
            "planned": planned_design
            and {
                "readers": planned_design[0],
                "images": planned_design[1],
                "power": study_roc.power_of(self.analysis.summaries["mrmc"], planning_effect, *planned_design),
            },
            "hype": self.analysis.summaries["hype"],
            "fleiss": self.analysis.summaries["fleiss_answer"],
            "icc": self.analysis.summaries["icc_quality"],
            "kappa_pairs": display_rows(
                tables["kappa_answer"].merge(
                    tables["kappa_quality"], on=["rater_a", "rater_b"], suffixes=("_answer", "_quality")
                )
            ),
            "quality_by_kind": self.analysis.summaries["quality_by_kind"],
            "quality_by_set": display_rows(tables["quality_by_set"]),
            "quality_by_setting": display_rows(tables["quality_by_setting"]) if "quality_by_setting" in tables else [],
            "set_level": set_level,
            "image_level": image_level,
            **self.best_metrics(set_level, image_level),
            "turing": display_rows(tables["turing_pooled"])[0],
            "table_rows": TABLE_ROWS,
            "svgs": {name.replace("-", "_"): self.inline_svg(name) for name in self.available_plots()},
            "scatters": [(metric, self.inline_svg("scatter", metric)) for metric in self.scatter_metrics()],
            "attributions": sorted(
                {
                    source.image_set.attribution
                    for study in self.studies
                    for source in study.sources.select_related("image_set")
                    if source.image_set.attribution
                }
            ),
        }

    def html(self):
        return render_to_string("analysis/study_report.html", self.context())

    def export(self, filename):
        """One export file's bytes; ``filename`` is a key of ``EXPORTS``."""
        producers = {
            "ratings.csv": lambda: spreadsheet_csv(self.ratings),
            "attention.csv": lambda: spreadsheet_csv(self.attention_table),
            "repeats.csv": lambda: spreadsheet_csv(self.repeat_table),
            "repeat_pairs.csv": lambda: spreadsheet_csv(self.repeats),
            "images.csv": lambda: spreadsheet_csv(self.image_table),
            "sets.csv": lambda: spreadsheet_csv(self.analysis.tables["sets"]),
            "results.csv": lambda: spreadsheet_csv(self.results),
            "results.json": lambda: self.results.to_json(orient="records", indent=1),
            "settings.json": lambda: json.dumps(self.settings(), indent=1),
            "report.html": self.html,
        }
        return producers[filename]().encode()

    def files(self):
        """``{relative path: bytes}``: every export, the HTML report and every plot as PNG and SVG."""
        files = {filename: self.export(filename) for filename in EXPORTS}
        figures = [(name, None) for name in self.available_plots()]
        figures += [("scatter", metric) for metric in self.scatter_metrics()]
        for name, metric in figures:
            stem = name if metric is None else f"scatter-{slug(metric)}"
            for image_format in plots.FORMATS:
                files[f"plots/{stem}.{image_format}"] = self.plot_bytes(name, image_format, metric)
        return files

    def settings(self):
        """One row per study: its settings and this analysis' own (a flat table, so pandas reads it as is)."""
        versions = "; ".join(f"{name} {version}" for name, version in sorted(self.metric_versions.items()))
        return [
            {
                "study_id": study.pk,
                "study": study.name,
                "study_seed": study.seed,
                "resolution": study.resolution,
                "display_size": study.display_size,
                "target_real_share": study.target_real_share,
                "pool": "; ".join(str(source) for source in study.sources.select_related("image_set")),
                "rater_group": self.rater_group,
                "repeat_count": study.repeat_count,
                "repeat_gap": study.repeat_gap,
                "practice_images": self.item_counts[study.pk][StudyItem.Role.PRACTICE],
                "exposure_ms": study.exposure_ms,
                "min_attention_percent": self.min_attention,
                "excluded_raters": "; ".join(self.excluded_raters),
                "hype_resamples": self.analysis.resamples,
                "bootstrap_seed": self.analysis.seed,
                "metric_versions": versions,
                "analysed": self.created.isoformat(),
            }
            for study in self.studies
        ]

    def write(self, directory):
        """Write `files` under ``directory``; returns the paths written."""
        written = []
        for name, content in self.files().items():
            path = Path(directory) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            written.append(path)
        return written

    def zip_bytes(self):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files().items():
                archive.writestr(f"report/{name}", content)
        return buffer.getvalue()


def display_rows(frame):
    """Rows as dicts with NaN turned into None, which templates show as a dash."""
    return [
        {key: (None if isinstance(value, float) and not np.isfinite(value) else value) for key, value in row.items()}
        for row in frame.to_dict("records")
    ]


def slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
