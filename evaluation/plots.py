"""Figures of a rating study's analysis, drawn with Matplotlib's Agg renderer (no display, no pyplot state).

Every function returns a `matplotlib.figure.Figure`; `figure_bytes` renders one as PNG or SVG. Inputs are
the tables of `evaluation.analysis` (one row per set, rater, rating, ...); units are stated on the axes.
"""

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


def new_figure(width, height):
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def figure_bytes(figure, image_format):
    """The figure as ``png`` (100 dpi) or ``svg`` bytes; SVG text is kept as text so it stays searchable."""
    if image_format not in FORMATS:
        raise ValueError(f"unknown figure format {image_format!r}; choose from {', '.join(FORMATS)}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, dpi=100, metadata={"Date": None} if image_format == "svg" else None)
    return buffer.getvalue()


def metric_scatter(sets, metric, outcome, band=None, log_band=None, label=None):
    """One point per set (``metric`` against ``outcome``), the OLS fit with its 95% band, optionally the log fit.

    ``band``/``log_band``: `evaluation.correlation.fit_band` tables (columns x, fit, low, high) or None.
    """
    figure = new_figure(4.8, 3.6)
    axes = figure.subplots()
    finite = sets[np.isfinite(sets[metric]) & np.isfinite(sets[outcome])]
    axes.scatter(finite[metric], finite[outcome], s=22, color="#1f5f8b", zorder=3, label=f"sets (n={len(finite)})")
    if band is not None:
        axes.plot(band["x"], band["fit"], color="#c0392b", label="OLS fit")
        axes.fill_between(band["x"], band["low"], band["high"], color="#c0392b", alpha=0.18, label="95% CI of fit")
    if log_band is not None:
        axes.plot(log_band["x"], log_band["fit"], color="#7d3c98", linestyle="--", label="a ln(x) + b")
    axes.set_xlabel(label or metric)
    axes.set_ylabel("mean quality score (1-5)")
    axes.legend(fontsize="small")
    return figure


def forest_plot(values, lows, highs, labels, *, chance, limits, xlabel, title, width=5.6):
    """One estimate per row with its interval (top row first), the value of no information dashed."""
    values = np.asarray(values, dtype=float)
    # Room for each row, and for each extra line of the axis label.
    figure = new_figure(width, 0.9 + 0.2 * xlabel.count("\n") + 0.38 * max(len(values), 1))
    axes = figure.subplots()
    positions = np.arange(len(values))[::-1]
    errors = np.vstack([values - np.asarray(lows, dtype=float), np.asarray(highs, dtype=float) - values])
    axes.errorbar(values, positions, xerr=errors, fmt="o", color="#1f5f8b", capsize=3)
    axes.axvline(chance, color="#888888", linestyle="--", linewidth=1)
    axes.set_yticks(positions, labels)
    axes.set_xlim(*limits)
    axes.set_xlabel(xlabel)
    axes.set_title(title, fontsize="medium")
    return figure


def accuracy_forest(turing_rows, title="Accuracy per rater"):
    """Accuracy with its Wilson 95% CI per row of a `evaluation.turing.turing_table`, chance marked at 50%."""
    rows = turing_rows.reset_index(drop=True)
    return forest_plot(
        rows["accuracy"] * 100,
        rows["accuracy_low"] * 100,
        rows["accuracy_high"] * 100,
        [f"{group} (n={n})" for group, n in zip(rows["group"], rows["n_ratings"], strict=True)],
        chance=50,
        limits=(-2, 102),  # room for the markers at 0% and 100%
        xlabel="accuracy, % (95% Wilson CI); dashed: chance",
        title=title,
    )


def confusion_plot(confusion):
    """The 2 x 2 counts of `evaluation.turing.confusion_matrix` with each row's share."""
    figure = new_figure(3.8, 3.2)
    axes = figure.subplots()
    counts = confusion.to_numpy()
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for row in range(counts.shape[0]):
        for column in range(counts.shape[1]):
            colour = "white" if shares[row, column] > 0.6 else "black"
            text = f"{counts[row, column]}\n{shares[row, column]:.0%}"
            axes.text(column, row, text, ha="center", va="center", color=colour)
    axes.set_xticks(range(counts.shape[1]), [f"called {label}" for label in confusion.columns])
    axes.set_yticks(range(counts.shape[0]), [f"truly {label}" for label in confusion.index])
    return figure


def quality_histograms(ratings):
    """Share of ratings per quality score, real and synthetic images side by side."""
    figure = new_figure(4.8, 3.2)
    axes = figure.subplots()
    scores = np.arange(1, 6)
    for offset, (truth, colour) in zip((-0.2, 0.2), (("real", "#2e86c1"), ("synthetic", "#e67e22")), strict=True):
        quality = ratings.loc[ratings["truth"] == truth, "quality"]
        counts = np.array([(quality == score).sum() for score in scores])
        shares = counts / max(counts.sum(), 1) * 100
        axes.bar(scores + offset, shares, width=0.4, color=colour, label=f"{truth} (n={counts.sum()})")
    axes.set_xticks(scores)
    axes.set_xlabel("quality score")
    axes.set_ylabel("% of ratings")
    axes.legend(fontsize="small")
    return figure


def quality_heat_map(table, title="Mean quality score per training setting"):
    """A heat map of a pivot table (rows and columns are setting levels, cells mean quality 1-5, NaN blank)."""
    figure = new_figure(1.6 + 0.9 * max(table.shape[1], 1), 1.2 + 0.5 * max(table.shape[0], 1))
    axes = figure.subplots()
    values = table.to_numpy(dtype=float)
    image = axes.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=1, vmax=5, aspect="auto")
    for row in range(values.shape[0]):
        for column in range(values.shape[1]):
            if np.isfinite(values[row, column]):
                colour = "black" if values[row, column] > 3.5 else "white"
                axes.text(column, row, f"{values[row, column]:.2f}", ha="center", va="center", color=colour)
    axes.set_xticks(range(values.shape[1]), [str(level) for level in table.columns])
    labels = [", ".join(map(str, level)) if isinstance(level, tuple) else str(level) for level in table.index]
    axes.set_yticks(range(values.shape[0]), labels)
    axes.set_xlabel(str(table.columns.name or ""))
    axes.set_ylabel(", ".join(str(name) for name in table.index.names if name))
    figure.colorbar(image, ax=axes, label="mean quality (1-5)")
    # A grid of one or two epochs makes a figure narrower than its title: widen it to the title (and a
    # margin of 0.15 in each side), centred on the figure so that the colour bar and row labels take no room.
    heading = figure.suptitle(title, fontsize="medium")
    figure.draw_without_rendering()
    figure.set_figwidth(max(figure.get_figwidth(), heading.get_window_extent().width / figure.dpi + 0.3))
    return figure


def roc_plot(curves, title="ROC: synthetic (positive) against real"):
    """Empirical ROC curves of `evaluation.study_roc.roc_curves`: each rater thin, ``pooled`` thick, the diagonal."""
    figure = new_figure(4.2, 4.0)
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], color="#888888", linestyle="--", linewidth=1, label="chance (AUC 0.5)")
    for name, (fpr, tpr) in curves.items():
        if name != "pooled":
            axes.plot(fpr, tpr, color="#5d6d7e", linewidth=0.8, alpha=0.7)
    if "pooled" in curves:
        fpr, tpr = curves["pooled"]
        axes.plot(fpr, tpr, color="#c0392b", linewidth=2.4, label="all ratings pooled")
    axes.plot([], [], color="#5d6d7e", linewidth=0.8, label=f"each rater (n={len(curves) - ('pooled' in curves)})")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_aspect("equal")
    axes.set_xlabel("false positive rate (real called synthetic)")
    axes.set_ylabel("true positive rate (synthetic detected)")
    axes.set_title(title, fontsize="medium")
    axes.legend(fontsize="small", loc="lower right")
    return figure


def auc_forest(rows, label_column="set", title="AUC per synthetic set"):
    """AUC with its RRRC 95% interval per row of `evaluation.study_roc.by_group`, chance marked at 0.5."""
    rows = rows[np.isfinite(rows["auc"].astype(float))].reset_index(drop=True)
    labels = [f"{label} (n={n})" for label, n in zip(rows[label_column], rows["n_synthetic"], strict=True)]
    return forest_plot(
        rows["auc"],
        rows["low"],
        rows["high"],
        labels,
        chance=0.5,
        limits=(-0.02, 1.02),
        xlabel="AUC, synthetic vs real (95% CI, OR-Hillis RRRC)\ndashed: readers cannot tell",
        title=title,
        width=4.0 + 0.07 * max((len(str(label)) for label in rows[label_column]), default=0),
    )
