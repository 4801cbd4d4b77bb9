"""The one registry of metrics, and `compute_metrics`, which runs any of them on a real and a synthetic set."""

import pandas as pd

from evaluation import (
    density_coverage,
    diversity,
    fid,
    fid_infinity,
    kid,
    lbp,
    memorisation,
    mutual_information,
    precision_recall,
    psnr,
)
from evaluation.comparison import Comparison
from evaluation.images import EvaluationInputError

METRICS = {
    spec.name: spec
    for spec in (
        fid.METRIC,
        fid_infinity.METRIC,
        kid.METRIC,
        precision_recall.METRIC,
        density_coverage.METRIC,
        psnr.METRIC,
        mutual_information.METRIC,
        lbp.METRIC,
        diversity.METRIC,
        memorisation.METRIC,
    )
}


def resolve_metric_names(names=None):
    """Registry names in registry order; ``None`` means all. Unknown names raise `EvaluationInputError`."""
    if names is None:
        return list(METRICS)
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise EvaluationInputError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(METRICS)}")
    return [name for name in METRICS if name in names]


def compute_metrics(
    real, synthetic, names=None, cache=None, seed=0, batch_size=50, progress=False, options=None, on_metric=None
):
    """``{name: MetricResult}`` for the named metrics (all by default) of ``synthetic`` against ``real``.

    ``real``/``synthetic``: `evaluation.images.ImagePixels` at the same matched resolution. ``cache``: a
    `evaluation.reference_cache.ReferenceCache` for real-set features (``None``: this call only).
    ``options``: ``{metric name: {keyword: value}}`` passed to that metric's ``compute`` (e.g.
    ``{"lbp": {"reference_count": 800}, "kid": {"subsets": 100}}``). ``on_metric(index, count, name)`` is
    called before each metric starts (a job's progress report). Every metric's minimum image counts are
    checked before anything is computed.
    """
    names = resolve_metric_names(names)
    options = options or {}
    for name in names:
        spec = METRICS[name]
        for label, images, minimum in (
            ("real", real, spec.minimum_real),
            ("synthetic", synthetic, spec.minimum_synthetic),
        ):
            if len(images) < minimum:
                raise EvaluationInputError(
                    f"{name} needs at least {minimum} {label} images, got {len(images)}"
                    + (" (the covariance of one image is undefined)" if name == "fid" else "")
                )
    comparison = Comparison(real, synthetic, cache=cache, seed=seed, batch_size=batch_size, progress=progress)
    results = {}
    for index, name in enumerate(names):
        if on_metric is not None:
            on_metric(index, len(names), name)
        results[name] = METRICS[name].result(comparison, **options.get(name, {}))
    return results


def per_image_table(results, synthetic):
    """One row per synthetic image: its index and name, then every per-image column of ``results``."""
    table = pd.DataFrame({"synthetic_index": range(len(synthetic)), "synthetic_name": list(synthetic.names)})
    for result in results.values():
        for column, values in result.per_image.items():
            if column in table.columns:
                raise ValueError(f"per-image column {column!r} of {result.name} is already used")
            table[column] = values
    return table
