"""Diversity: mean pairwise MS-SSIM within the synthetic set against the same within the real set.

Sources: MS-SSIM from Z. Wang, E. P. Simoncelli, A. C. Bovik, "Multiscale structural similarity for image
quality assessment", Asilomar 2003; mean MS-SSIM of random pairs within a set of generated images as a
mode-collapse (diversity) measure from A. Odena, C. Olah, J. Shlens, "Conditional image synthesis with
auxiliary classifier GANs", ICML 2017.

Inputs: 8-bit gray images at the matched resolution (dynamic range ``L = 255``). At scale ``j`` local
statistics come from an 11 x 11 Gaussian window (sigma 1.5, normalised) applied without padding ("valid");
with ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``:

    cs_j   = mean over the map of (2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2)
    ssim_M = mean over the map of (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) * (cs map)
    MS-SSIM = ssim_M^w_M * prod_{j < M} cs_j^w_j          [unitless, at most 1; 1 = identical]

Between scales the image is averaged over 2 x 2 blocks and subsampled by 2 (Wang's reference code). Values
are clipped at 0 before the powers (as TensorFlow's ``ssim_multiscale`` does) so that a negative ``cs`` on
dissimilar images cannot give NaN.

Adaptation to small images: the standard 5 scales with weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
need the coarsest scale, ``size / 16``, to hold the 11-pixel window, i.e. at least 176 px. Here ``M`` is
the largest number of scales (at most 5) whose coarsest scale is still >= 11 px -- 3 scales (64, 32, 16 px)
at 64 px, 4 scales (128 .. 16 px) at 128 px -- and the first ``M`` standard weights are renormalised to sum
to 1. With ``M = 1`` this is plain SSIM clipped at 0 (``skimage.metrics.structural_similarity`` with
Gaussian weights, sigma 1.5, population statistics).

Score: the mean MS-SSIM over ``pairs`` seeded random pairs of distinct images (all pairs when a set has
fewer), for the synthetic set and, separately, the real set (cached as a reference statistic). Set values
``ms_ssim_synthetic``, ``ms_ssim_real`` and ``ms_ssim_excess`` = synthetic - real: near 0 when the synthetic
set is as varied as the real one, positive when synthetic images resemble each other more than real ones
do (mode collapse gives values near 1 - ms_ssim_real). No per-image value (a property of pairs).
"""

import itertools

import numpy as np
import torch
import torch.nn.functional as F

from evaluation.comparison import MetricSpec, MetricValues

METRIC_VERSION = "diversity-ms-ssim/v1"
STANDARD_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5
DYNAMIC_RANGE = 255.0
C1 = (0.01 * DYNAMIC_RANGE) ** 2
C2 = (0.03 * DYNAMIC_RANGE) ** 2
DEFAULT_PAIRS = 1000
PAIRS_PER_BLOCK = 250  # bounds the float64 maps in memory (5 maps per pair) at 128 px


def scale_count(size):
    """The number of MS-SSIM scales used at image side ``size`` (module docstring)."""
    count = 1
    while count < len(STANDARD_WEIGHTS) and size // 2**count >= WINDOW_SIZE:
        count += 1
    return count


def _gaussian_window():
    offsets = np.arange(WINDOW_SIZE, dtype=np.float64) - (WINDOW_SIZE - 1) / 2
    window = np.exp(-(offsets**2) / (2 * WINDOW_SIGMA**2))
    return window / window.sum()


def _valid_filter_matrix(size):
    """``(size - 10, size)`` matrix whose product with a column is its Gaussian filtering without padding."""
    window = _gaussian_window()
    matrix = np.zeros((size - WINDOW_SIZE + 1, size))
    for row in range(len(matrix)):
        matrix[row, row : row + WINDOW_SIZE] = window
    return torch.from_numpy(matrix)


def ms_ssim(first, second, scales=None):
    """``[B]`` MS-SSIM of image pairs ``first[b]``, ``second[b]`` (uint8 ``(B, H, W)``, square, same size)."""
    scales = scale_count(first.shape[-1]) if scales is None else scales
    weights = torch.tensor(STANDARD_WEIGHTS[:scales], dtype=torch.float64)
    weights = weights / weights.sum()
    x = torch.from_numpy(np.asarray(first)).to(torch.float64).unsqueeze(1)
    y = torch.from_numpy(np.asarray(second)).to(torch.float64).unsqueeze(1)
    factors = []
    for scale in range(scales):
        if scale > 0:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
        # The Gaussian window is separable: filter columns, then rows, as two matrix products (float64).
        window = _valid_filter_matrix(x.shape[-1])
        maps = torch.cat([x, y, x * x, y * y, x * y], dim=1)
        mu_x, mu_y, mean_xx, mean_yy, mean_xy = (window @ maps @ window.T).unbind(1)
        variance_x, variance_y = mean_xx - mu_x**2, mean_yy - mu_y**2
        covariance = mean_xy - mu_x * mu_y
        contrast_structure = (2 * covariance + C2) / (variance_x + variance_y + C2)
        if scale < scales - 1:
            factors.append(contrast_structure.mean(dim=(1, 2)))
        else:
            luminance = (2 * mu_x * mu_y + C1) / (mu_x**2 + mu_y**2 + C1)
            factors.append((luminance * contrast_structure).mean(dim=(1, 2)))
    stacked = torch.stack(factors, dim=1).clamp(min=0.0)
    return torch.prod(stacked**weights, dim=1).numpy()


def random_pairs(count, pairs, rng):
    """``(first, second)`` index arrays of ``pairs`` seeded pairs of distinct images (all pairs if fewer exist)."""
    if count * (count - 1) // 2 <= pairs:
        every_pair = np.array(list(itertools.combinations(range(count), 2)))
        return every_pair[:, 0], every_pair[:, 1]
    first = rng.integers(count, size=pairs)
    # Adding 1..count-1 modulo count gives a uniformly drawn partner different from `first`.
    second = (first + rng.integers(1, count, size=pairs)) % count
    return first, second


def mean_pairwise_ms_ssim(pixels, rng, pairs=DEFAULT_PAIRS):
    first, second = random_pairs(len(pixels), pairs, rng)
    values = [
        ms_ssim(pixels[first[start : start + PAIRS_PER_BLOCK]], pixels[second[start : start + PAIRS_PER_BLOCK]])
        for start in range(0, len(first), PAIRS_PER_BLOCK)
    ]
    return float(np.concatenate(values).mean())


def compute(comparison, pairs=DEFAULT_PAIRS):
    real_version = f"{METRIC_VERSION}/pairs-{pairs}/seed-{comparison.seed}"
    real = comparison.reference(
        "ms-ssim-within-real",
        real_version,
        lambda: {"mean": mean_pairwise_ms_ssim(comparison.real.pixels, comparison.rng("diversity-real"), pairs)},
    )["mean"]
    synthetic = mean_pairwise_ms_ssim(comparison.synthetic.pixels, comparison.rng("diversity-synthetic"), pairs)
    values = {"ms_ssim_synthetic": synthetic, "ms_ssim_real": float(real), "ms_ssim_excess": synthetic - float(real)}
    return MetricValues(values=values)


METRIC = MetricSpec(
    name="diversity",
    version=METRIC_VERSION,
    compute=compute,
    description="Mean pairwise MS-SSIM within the synthetic vs within the real set (mode collapse if higher)",
    minimum_real=2,
    minimum_synthetic=2,
)
