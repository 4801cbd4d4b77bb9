"""Kernel Inception Distance (KID).

Source: M. Binkowski, D. J. Sutherland, M. Arbel, A. Gretton, "Demystifying MMD GANs", ICLR 2018.

Inputs: Inception features (as for FID) ``x`` (real) and ``y`` (synthetic), dimension ``d = 2048``.
Kernel: the cubic polynomial ``k(a, b) = (a.b / d + 1)^3``. On each of ``subsets`` seeded draws of ``m``
real and ``m`` synthetic features (without replacement within a draw), the unbiased estimate

    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
              - 2 sum_{i, j} k(x_i, y_j) / m^2

and KID = mean over draws, reported with the standard deviation over draws (``ddof = 0``, as in
torch-fidelity). Default ``m`` = half the smaller set, at most 1000 (the reference code's size), so that
the draws actually differ (with ``m`` equal to a set's size every draw takes that whole set and the std
understates the sampling spread); default 100 draws. Unbiased, so it can be slightly negative; 0 means
no detectable difference. Units: squared feature units of the kernel (unitless features). Set values
only. The three kernel matrices are computed once for all images and indexed per draw.
"""

import numpy as np

from evaluation.comparison import MetricSpec, MetricValues
from evaluation.images import EvaluationInputError

METRIC_VERSION = "kid/v1"
DEFAULT_SUBSETS = 100
MAXIMUM_SUBSET_SIZE = 1000


def polynomial_kernel(a, b):
    """``(a.b / d + 1)^3`` for all row pairs, float64."""
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def default_subset_size(real_count, synthetic_count):
    return max(2, min(MAXIMUM_SUBSET_SIZE, min(real_count, synthetic_count) // 2))


def kid_from_features(real_features, synthetic_features, rng, subsets=DEFAULT_SUBSETS, subset_size=None):
    """``(kid_mean, kid_std)`` over ``subsets`` seeded draws of ``subset_size`` features from each set."""
    real_features = np.asarray(real_features, dtype=np.float64)
    synthetic_features = np.asarray(synthetic_features, dtype=np.float64)
    smaller = min(len(real_features), len(synthetic_features))
    size = default_subset_size(len(real_features), len(synthetic_features)) if subset_size is None else subset_size
    if not 2 <= size <= smaller:
        raise EvaluationInputError(f"KID subset size must be between 2 and the smaller set size {smaller}, got {size}")
    real_kernel = polynomial_kernel(real_features, real_features)
    synthetic_kernel = polynomial_kernel(synthetic_features, synthetic_features)
    cross_kernel = polynomial_kernel(real_features, synthetic_features)
    estimates = np.empty(subsets)
    for draw in range(subsets):
        real_index = rng.choice(len(real_features), size, replace=False)
        synthetic_index = rng.choice(len(synthetic_features), size, replace=False)
        within_real = real_kernel[np.ix_(real_index, real_index)]
        within_synthetic = synthetic_kernel[np.ix_(synthetic_index, synthetic_index)]
        between = cross_kernel[np.ix_(real_index, synthetic_index)]
        estimates[draw] = (
            (within_real.sum() - np.trace(within_real)) / (size * (size - 1))
            + (within_synthetic.sum() - np.trace(within_synthetic)) / (size * (size - 1))
            - 2.0 * between.mean()
        )
    return float(estimates.mean()), float(estimates.std())


def compute(comparison, subsets=DEFAULT_SUBSETS, subset_size=None):
    mean, std = kid_from_features(
        comparison.real_inception_features(),
        comparison.synthetic_inception_features(),
        comparison.rng("kid"),
        subsets,
        subset_size,
    )
    return MetricValues(values={"kid_mean": mean, "kid_std": std})


METRIC = MetricSpec(
    name="kid",
    version=METRIC_VERSION,
    compute=compute,
    description="Kernel Inception Distance (Binkowski et al. 2018), mean and std over subsets; lower is better",
    uses_inception=True,
    minimum_real=4,
    minimum_synthetic=4,
)
