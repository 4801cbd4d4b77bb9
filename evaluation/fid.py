"""Frechet Inception Distance (FID).

Source: M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler, S. Hochreiter, "GANs trained by a two
time-scale update rule converge to a local Nash equilibrium", NeurIPS 2017.

Inputs: the 2048-d pool3 Inception features of the real and the synthetic images (`evaluation.inception`:
matched-resolution 8-bit gray, TF 1.x bilinear to 299 px, ``(x - 128) / 128``), at least 2 images per
set. Each set is summarised by its feature mean ``mu`` and sample covariance ``S`` (``N - 1`` in the
denominator), all in float64:

    FID = |mu_r - mu_s|^2 + Tr(S_r) + Tr(S_s) - 2 Tr( (S_r^(1/2) S_s S_r^(1/2))^(1/2) )

Units: squared Inception-feature units; 0 for identical statistics, no upper bound. Set value only
(there is no per-image FID).

The trace of the matrix square root is the sum of the square roots of the eigenvalues of the symmetric
positive semi-definite matrix ``S_r^(1/2) S_s S_r^(1/2)``, from symmetric eigendecompositions (`numpy.linalg.eigh`),
with round-off negatives clipped to 0 -- not ``scipy.linalg.sqrtm`` of the non-symmetric ``S_r S_s``,
whose complex round-off must be discarded. When a set has fewer than 2049 images its covariance has rank
``N - 1 < 2048`` and ``S_s = Y^T Y`` with ``Y`` the centred features divided by ``sqrt(N - 1)``; then the
non-zero eigenvalues of ``S_r^(1/2) Y^T Y S_r^(1/2)`` are those of the small ``N x N`` matrix
``Y S_r Y^T``, which is what is decomposed (same value, far less work).

Bias: FID estimated from ``N`` images is biased upwards, by roughly ``c / N`` with a constant ``c`` that
depends on the generator (Chong & Forsyth 2020), and with fewer than 2048 images the rank-deficient
covariance makes the bias large. FIDs are only comparable at the same ``N`` (and the same real set);
the usual 50 000-image values are far lower than values from a few hundred images. `evaluation.fid_infinity`
extrapolates to ``N -> infinity``.
"""

import numpy as np

from evaluation.comparison import MetricSpec, MetricValues
from evaluation.images import EvaluationInputError

METRIC_VERSION = "fid/v1"


def feature_statistics(features):
    """Mean and sample covariance (float64) of ``[N, d]`` features; needs ``N >= 2``."""
    features = _at_least_two(features)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """FID between Gaussians ``(mu1, sigma1)`` and ``(mu2, sigma2)``, full ``d x d`` eigendecompositions."""
    eigenvalues, eigenvectors = np.linalg.eigh(sigma1)
    sqrt_sigma1 = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T
    product = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
    trace_sqrt = _sum_sqrt_eigenvalues(product)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


def frechet_distance_to_samples(mu, sigma, features):
    """FID between the Gaussian ``(mu, sigma)`` and the sample statistics of ``[N, d]`` ``features``.

    With ``N - 1 < d`` the trace term comes from the ``N x N`` matrix ``Y sigma Y^T`` (module docstring).
    """
    features = _at_least_two(features)
    count, dimension = features.shape
    if count - 1 >= dimension:
        return frechet_distance(mu, sigma, *feature_statistics(features))
    sample_mean = features.mean(axis=0)
    scaled = (features - sample_mean) / np.sqrt(count - 1)
    trace_sqrt = _sum_sqrt_eigenvalues(scaled @ sigma @ scaled.T)
    sample_trace = np.einsum("ij,ij->", scaled, scaled)
    return float(np.sum((mu - sample_mean) ** 2) + np.trace(sigma) + sample_trace - 2.0 * trace_sqrt)


def fid_from_features(features_a, features_b):
    """FID between two ``[N, d]`` feature sets (symmetric; the smaller set's samples give the trace term)."""
    larger, smaller = sorted((features_a, features_b), key=len, reverse=True)
    return frechet_distance_to_samples(*feature_statistics(larger), smaller)


def compute(comparison):
    fid = fid_from_features(comparison.real_inception_features(), comparison.synthetic_inception_features())
    return MetricValues(values={"fid": fid})


def _sum_sqrt_eigenvalues(symmetric):
    eigenvalues = np.linalg.eigvalsh((symmetric + symmetric.T) / 2.0)
    return float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def _at_least_two(features):
    features = np.asarray(features, dtype=np.float64)
    if len(features) < 2:
        raise EvaluationInputError(
            f"FID needs at least 2 images per set; the covariance of {len(features)} image(s) is undefined"
        )
    return features


METRIC = MetricSpec(
    name="fid",
    version=METRIC_VERSION,
    compute=compute,
    description="Frechet Inception Distance (Heusel et al. 2017); lower is better",
    uses_inception=True,
    minimum_real=2,
    minimum_synthetic=2,
)
