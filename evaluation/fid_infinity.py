"""FID-infinity: FID extrapolated to an infinite number of synthetic images.

Source: M. J. Chong, D. Forsyth, "Effectively unbiased FID and Inception Score and where to find them",
CVPR 2020.

FID computed from ``N`` synthetic images is, to first order, ``FID_N = FID_inf + c / N`` (`evaluation.fid`
explains the bias). FID_N is computed against the full real statistics at ``points`` sample sizes ``N``
evenly spaced from ``smallest_fraction`` of the synthetic set up to all of it, each on a seeded random
subset drawn without replacement (as the reference code does by shuffling); a least-squares line of
``FID_N`` against ``1 / N`` is extrapolated to ``1 / N = 0``. The paper uses 15 points from 5 000 to
50 000 images; with a few hundred synthetic images the same 15 points span 1/5 of the set to all of it
by default (the fit needs a spread of ``1 / N``; below about N = 100 the ``c / N`` law itself degrades).

Inputs: Inception features as for FID; units as FID. Set values: ``fid_infinity`` and ``slope`` (``c``);
table ``fid_by_sample_size`` (N, FID_N). No per-image value. The real set is not subsampled: its size
is fixed by the data set, and its bias term is common to every synthetic set compared with it.
"""

import numpy as np
import pandas as pd

from evaluation.comparison import MetricSpec, MetricValues
from evaluation.fid import feature_statistics, frechet_distance_to_samples
from evaluation.images import EvaluationInputError

METRIC_VERSION = "fid-infinity/v1"
DEFAULT_POINTS = 15
DEFAULT_SMALLEST_FRACTION = 0.2
MINIMUM_SAMPLE_SIZE = 10


def sample_sizes(total, points=DEFAULT_POINTS, smallest_fraction=DEFAULT_SMALLEST_FRACTION):
    """The distinct subset sizes used: ``points`` evenly spaced from ``smallest_fraction * total`` to ``total``."""
    smallest = max(MINIMUM_SAMPLE_SIZE, int(round(smallest_fraction * total)))
    if total < smallest + 1:
        raise EvaluationInputError(
            f"FID-infinity needs at least {MINIMUM_SAMPLE_SIZE + 1} synthetic images to fit a line, got {total}"
        )
    return np.unique(np.linspace(smallest, total, points).astype(np.int64))


def fid_infinity_from_features(
    real_features, synthetic_features, rng, points=DEFAULT_POINTS, smallest_fraction=DEFAULT_SMALLEST_FRACTION
):
    """``(fid_infinity, slope, table)`` from real and synthetic features; ``rng`` draws the subsets."""
    mu, sigma = feature_statistics(real_features)
    sizes = sample_sizes(len(synthetic_features), points, smallest_fraction)
    fids = np.array(
        [
            frechet_distance_to_samples(mu, sigma, synthetic_features[rng.permutation(len(synthetic_features))[:size]])
            for size in sizes
        ]
    )
    slope, intercept = np.polyfit(1.0 / sizes, fids, deg=1)
    table = pd.DataFrame({"sample_size": sizes, "fid": fids})
    return float(intercept), float(slope), table


def compute(comparison, points=DEFAULT_POINTS, smallest_fraction=DEFAULT_SMALLEST_FRACTION):
    fid_infinity, slope, table = fid_infinity_from_features(
        comparison.real_inception_features(),
        comparison.synthetic_inception_features(),
        comparison.rng("fid_infinity"),
        points,
        smallest_fraction,
    )
    return MetricValues(
        values={"fid_infinity": fid_infinity, "slope": slope},
        tables={"fid_by_sample_size": table},
    )


METRIC = MetricSpec(
    name="fid_infinity",
    version=METRIC_VERSION,
    compute=compute,
    description="FID extrapolated to infinitely many synthetic images (Chong & Forsyth 2020)",
    uses_inception=True,
    minimum_real=2,
    minimum_synthetic=MINIMUM_SAMPLE_SIZE + 1,
)
