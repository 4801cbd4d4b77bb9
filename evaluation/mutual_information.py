"""Mutual information (MI) and normalised mutual information (NMI) of joint intensity histograms.

Sources: C. E. Shannon, "A mathematical theory of communication", 1948 (entropy); MI between images as in
F. Maes et al., "Multimodality image registration by maximization of mutual information", IEEE TMI 1997;
NMI as in C. Studholme, D. L. G. Hill, D. J. Hawkes, "An overlap invariant entropy measure of 3D medical
image alignment", Pattern Recognition 1999 (the definition ``skimage.metrics.normalized_mutual_information``
implements).

Inputs: 8-bit gray images at the matched resolution, ``P`` pixels each. Intensities fall in 32 bins of
width 8 gray levels (0-7, 8-15, ..., 248-255). For synthetic ``s`` and real ``r``, the joint histogram
counts the pixels with ``s`` in bin ``a`` and ``r`` in bin ``b``; with ``p_ab`` = count / ``P`` and
marginals ``p_a``, ``p_b``, entropies in bits (log base 2):

    H(S) = -sum_a p_a log2 p_a,  H(S, R) = -sum_ab p_ab log2 p_ab
    MI(s, r) = H(S) + H(R) - H(S, R)            [bits, 0 .. 5]
    NMI(s, r) = (H(S) + H(R)) / H(S, R)          [unitless, 1 .. 2]

NMI equals ``skimage.metrics.normalized_mutual_information(s, r, bins=32)`` whenever both images span 0..255
(skimage spreads its bins over each image's own min..max). NMI is NaN when both images are constant
(0 / 0).

Per image: ``mi_mean_bits`` and ``nmi_mean``, means over all real images; set values: their means over
the synthetic set. Higher = more shared intensity structure.

Vectorised: each synthetic image's joint histograms with all real images come from one ``numpy.bincount``
of the combined codes ``1024 r + 32 a + b`` -- ``P`` increments per pair, where one-hot matrix products
would spend ``2 * 32 * 32 * P`` multiply-adds per pair -- over blocks of real images bounded in memory.
"""

import numpy as np
from tqdm import tqdm

from evaluation.comparison import MetricSpec, MetricValues

METRIC_VERSION = "mutual-information/v1"
BINS = 32
BIN_WIDTH = 256 // BINS
JOINT_BINS = BINS * BINS
BLOCK_CODES = 1 << 23  # codes per bincount call: 64 MiB of int64, whatever the image size


def intensity_bins(pixels):
    """``(N, P)`` int64 bin index (``value // 8``) of uint8 images ``(N, H, W)``."""
    return pixels.reshape(len(pixels), -1).astype(np.int64) // BIN_WIDTH


def _entropy_bits(counts, total, x_log2_x):
    """Entropy in bits of each row of histogram ``counts`` whose rows sum to ``total``."""
    return np.log2(total) - x_log2_x[counts].sum(axis=-1) / total


def mutual_information_matrices(synthetic_pixels, real_pixels, progress=False):
    """``(mi, nmi)``, each ``[N_synthetic, N_real]``: MI in bits and NMI of every synthetic/real pair."""
    synthetic_bins = intensity_bins(synthetic_pixels)
    real_bins = intensity_bins(real_pixels)
    pixel_count = synthetic_bins.shape[1]
    # c log2 c for every possible count, so entropies are table look-ups (0 log 0 = 0).
    counts = np.arange(pixel_count + 1, dtype=np.float64)
    x_log2_x = np.zeros_like(counts)
    x_log2_x[1:] = counts[1:] * np.log2(counts[1:])

    synthetic_entropy = _entropy_bits(_row_histograms(synthetic_bins, BINS), pixel_count, x_log2_x)
    real_entropy = _entropy_bits(_row_histograms(real_bins, BINS), pixel_count, x_log2_x)

    joint_entropy = np.empty((len(synthetic_bins), len(real_bins)))
    block_rows = max(1, BLOCK_CODES // pixel_count)
    for block_start in range(0, len(real_bins), block_rows):
        block = real_bins[block_start : block_start + block_rows]
        offset_codes = block + (np.arange(len(block)) * JOINT_BINS)[:, None]
        codes = np.empty_like(offset_codes)
        for index in tqdm(
            range(len(synthetic_bins)), desc="mutual information", unit="img", disable=not progress, leave=False
        ):
            np.add(offset_codes, BINS * synthetic_bins[index], out=codes)
            joint = np.bincount(codes.ravel(), minlength=len(block) * JOINT_BINS).reshape(len(block), JOINT_BINS)
            joint_entropy[index, block_start : block_start + len(block)] = _entropy_bits(joint, pixel_count, x_log2_x)

    marginal_sum = synthetic_entropy[:, None] + real_entropy[None, :]
    with np.errstate(invalid="ignore"):
        nmi = marginal_sum / joint_entropy
    return marginal_sum - joint_entropy, nmi


def _row_histograms(bins, bin_count):
    offsets = (np.arange(len(bins)) * bin_count)[:, None]
    return np.bincount((bins + offsets).ravel(), minlength=len(bins) * bin_count).reshape(len(bins), bin_count)


def compute(comparison):
    mi, nmi = mutual_information_matrices(comparison.synthetic.pixels, comparison.real.pixels, comparison.progress)
    per_image = {"mi_mean_bits": mi.mean(axis=1), "nmi_mean": nmi.mean(axis=1)}
    values = {name: float(column.mean()) for name, column in per_image.items()}
    return MetricValues(values=values, per_image=per_image)


METRIC = MetricSpec(
    name="mutual_information",
    version=METRIC_VERSION,
    compute=compute,
    description="Mutual information (bits, 32 bins) and normalised MI of each synthetic image with every real image",
)
