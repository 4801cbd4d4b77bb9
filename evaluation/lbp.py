"""LBP vector: mean local-binary-pattern histograms of the synthetic and the real set, element by element.

Sources: local binary patterns after T. Ojala, M. Pietikainen, T. Maenpaa, "Multiresolution gray-scale and
rotation invariant texture classification with local binary patterns", IEEE TPAMI 2002; the comparison of
mean LBP histograms of synthetic and real sets (rLBPv - sLBPv, with elements V8, V20, V143 and V240
singled out) is the local binary pattern histogram comparison used by the reference study.

Inputs: 8-bit gray images at the matched resolution. Codes: ``skimage.feature.local_binary_pattern`` with
``P = 8`` neighbours on a circle of radius ``R = 1`` and method ``"default"``: neighbour ``p`` sits at
angle ``2 pi p / 8`` counter-clockwise from the right (p = 0 right, 2 above, 4 left, 6 below; diagonal
neighbours bilinearly interpolated, points outside the image read as 0) and sets bit ``2^p`` when its value
is >= the centre pixel, giving codes 0..255. Each image's histogram is the percentage of its pixels with
each code (256 bins, summing to 100).

    sLBPv = mean histogram over the synthetic set            [percent of pixels]
    rLBPv = mean histogram over the real reference images    [percent of pixels]
    V_k   = rLBPv[k] - sLBPv[k] for code k = 0..255          [percentage points]

The real reference is the non-augmented real set (the ``--real`` folder must hold the original images,
no flips or other augmentation): 800 images by default, as in the reference study, drawn without
replacement with the comparison seed (all of them when there are fewer). One summary distance,
the chi-square distance on the histograms as proportions (percent / 100), over codes where
``a_k + b_k > 0``:

    chi2(a, b) = 1/2 sum_k (a_k - b_k)^2 / (a_k + b_k)       [0 (equal) .. 1 (disjoint support)]

Set values: ``chi_square`` (sLBPv vs rLBPv) and ``V8``, ``V20``, ``V143``, ``V240``; per image:
``lbp_chi_square`` (the image's histogram vs rLBPv); table ``lbp_vector`` with all 256 elements.
"""

import numpy as np
import pandas as pd
from skimage.feature import local_binary_pattern

from evaluation.comparison import MetricSpec, MetricValues

METRIC_VERSION = "lbp/P8-R1-default/v1"
NEIGHBOURS = 8
RADIUS = 1
CODES = 2**NEIGHBOURS
HIGHLIGHTED_CODES = (8, 20, 143, 240)
DEFAULT_REFERENCE_COUNT = 800


def lbp_histograms(pixels):
    """``[N, 256]`` percentage of each image's pixels with each LBP code, for uint8 images ``(N, H, W)``."""
    histograms = np.empty((len(pixels), CODES))
    for index, image in enumerate(pixels):
        codes = local_binary_pattern(image, NEIGHBOURS, RADIUS, method="default").astype(np.int64)
        histograms[index] = np.bincount(codes.ravel(), minlength=CODES) * (100.0 / codes.size)
    return histograms


def chi_square_distance(first_percent, second_percent):
    """Chi-square distance (module docstring) between percent histograms along the last axis."""
    first = np.asarray(first_percent) / 100.0
    second = np.asarray(second_percent) / 100.0
    total = first + second
    squared = (first - second) ** 2
    terms = np.divide(squared, total, out=np.zeros_like(squared), where=total > 0)
    return 0.5 * terms.sum(axis=-1)


def lbp_vector_table(real_mean, synthetic_mean):
    """The 256 elements ``V0..V255``: rLBPv, sLBPv and rLBPv - sLBPv in percent, highlighted codes marked."""
    codes = np.arange(CODES)
    return pd.DataFrame(
        {
            "element": [f"V{code}" for code in codes],
            "code": codes,
            "rLBPv_percent": real_mean,
            "sLBPv_percent": synthetic_mean,
            "difference_percent": real_mean - synthetic_mean,
            "highlighted": np.isin(codes, HIGHLIGHTED_CODES),
        }
    )


def compute(comparison, reference_count=DEFAULT_REFERENCE_COUNT):
    real_histograms = comparison.reference(
        "lbp-histograms", METRIC_VERSION, lambda: {"histograms": lbp_histograms(comparison.real.pixels)}
    )["histograms"]
    reference_count = min(reference_count, len(real_histograms))
    reference = comparison.rng("lbp").choice(len(real_histograms), reference_count, replace=False)
    real_mean = real_histograms[reference].mean(axis=0)
    synthetic_histograms = lbp_histograms(comparison.synthetic.pixels)
    synthetic_mean = synthetic_histograms.mean(axis=0)
    table = lbp_vector_table(real_mean, synthetic_mean)
    values = {"chi_square": float(chi_square_distance(synthetic_mean, real_mean)), "reference_images": reference_count}
    values.update({f"V{code}": float(real_mean[code] - synthetic_mean[code]) for code in HIGHLIGHTED_CODES})
    return MetricValues(
        values=values,
        per_image={"lbp_chi_square": chi_square_distance(synthetic_histograms, real_mean)},
        tables={"lbp_vector": table},
    )


METRIC = MetricSpec(
    name="lbp",
    version=METRIC_VERSION,
    compute=compute,
    description="LBP vector rLBPv - sLBPv (P=8, R=1, percent of pixels) and its chi-square distance",
)
