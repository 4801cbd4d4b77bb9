"""Density and coverage of the synthetic distribution.

Source: M. F. Naeem, S. J. Oh, Y. Uh, Y. Choi, J. Yoo, "Reliable fidelity and diversity metrics for
generative models", ICML 2020.

Inputs: Inception pool3 features (`evaluation.inception`), Euclidean distance. Only the real set defines
balls: ``B(x_i, r_i)`` with ``r_i`` the distance from real feature ``x_i`` to its ``k``-th nearest other real
feature (``k = 5``, the paper's choice). For ``N`` real features ``x_i`` and ``M`` synthetic features ``y_j``:

    density  = 1 / (k M) sum_j sum_i 1[y_j in B(x_i, r_i)]     [0 .. N/k; about 1 when the sets match]
    coverage = 1 / N sum_i 1[exists j: y_j in B(x_i, r_i)]     [0 .. 1]

Density rewards synthetic images in dense real regions and, unlike precision, is not fooled by real
outliers; coverage is the fraction of real images with a synthetic image nearby. Per image: ``density``
= the number of real balls containing the synthetic image divided by ``k`` (its mean is the set density).
"""

import numpy as np

from evaluation.comparison import MetricSpec, MetricValues
from evaluation.distances import kth_neighbour_radii, pairwise_squared_euclidean

METRIC_VERSION = "density-coverage/v1"
DEFAULT_K = 5


def density_coverage_from_features(real_features, synthetic_features, k=DEFAULT_K):
    """``(density, coverage, per_image_density)`` for real and synthetic feature rows."""
    radii = kth_neighbour_radii(real_features, k)
    inside = np.sqrt(pairwise_squared_euclidean(synthetic_features, real_features)) <= radii[None, :]
    per_image_density = inside.sum(axis=1) / k
    return float(per_image_density.mean()), float(inside.any(axis=0).mean()), per_image_density


def compute(comparison, k=DEFAULT_K):
    density, coverage, per_image_density = density_coverage_from_features(
        comparison.real_inception_features(), comparison.synthetic_inception_features(), k
    )
    return MetricValues(
        values={"density": density, "coverage": coverage},
        per_image={"density": per_image_density},
    )


METRIC = MetricSpec(
    name="density_coverage",
    version=METRIC_VERSION,
    compute=compute,
    description="Density and coverage, k=5, Inception features (Naeem et al. 2020)",
    uses_inception=True,
    minimum_real=DEFAULT_K + 1,
)
