"""Improved precision and recall of the synthetic distribution.

Source: T. Kynkaanniemi, T. Karras, S. Laine, J. Lehtinen, T. Aila, "Improved precision and recall metric
for assessing generative models", NeurIPS 2019.

Inputs: Inception pool3 features (`evaluation.inception`; the paper used VGG-16 fc2 features, this tool
uses the one feature space shared with FID and KID), Euclidean distance. Each set's manifold is the union
of balls around its features with radius the distance to the ``k``-th nearest other feature of the same
set (``k = 3``, the paper's choice):

    precision = fraction of synthetic features inside the real manifold      [0 .. 1]
    recall    = fraction of real features inside the synthetic manifold      [0 .. 1]

"Inside" includes the boundary (distance <= radius), so identical sets give precision = recall = 1.
Precision measures fidelity (synthetic images look like real ones), recall measures coverage of the real
variety. Per image: ``in_real_manifold`` (1 or 0), whose mean is the precision.
"""

import numpy as np

from evaluation.comparison import MetricSpec, MetricValues
from evaluation.distances import kth_neighbour_radii, pairwise_squared_euclidean

METRIC_VERSION = "precision-recall/v1"
DEFAULT_K = 3


def manifold_membership(reference_features, query_features, k=DEFAULT_K):
    """Boolean per query row: inside any ball of radius ``k``-NN distance around a reference row."""
    radii = kth_neighbour_radii(reference_features, k)
    distances = np.sqrt(pairwise_squared_euclidean(query_features, reference_features))
    return (distances <= radii[None, :]).any(axis=1)


def precision_recall_from_features(real_features, synthetic_features, k=DEFAULT_K):
    """``(precision, recall, in_real_manifold)`` for real and synthetic feature rows."""
    in_real_manifold = manifold_membership(real_features, synthetic_features, k)
    in_synthetic_manifold = manifold_membership(synthetic_features, real_features, k)
    return float(in_real_manifold.mean()), float(in_synthetic_manifold.mean()), in_real_manifold


def compute(comparison, k=DEFAULT_K):
    precision, recall, in_real_manifold = precision_recall_from_features(
        comparison.real_inception_features(), comparison.synthetic_inception_features(), k
    )
    return MetricValues(
        values={"precision": precision, "recall": recall},
        per_image={"in_real_manifold": in_real_manifold.astype(np.int64)},
    )


METRIC = MetricSpec(
    name="precision_recall",
    version=METRIC_VERSION,
    compute=compute,
    description="Improved precision and recall, k=3, Inception features (Kynkaanniemi et al. 2019)",
    uses_inception=True,
    minimum_real=DEFAULT_K + 1,
    minimum_synthetic=DEFAULT_K + 1,
)
