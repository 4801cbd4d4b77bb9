"""Memorisation: the nearest real training image of every synthetic image, flagged when suspiciously close.

Source: nearest-neighbour inspection of generated samples against the training set is the standard
check for memorisation (e.g. I. Goodfellow et al., "Generative adversarial nets", NeurIPS 2014, Fig. 2;
G. Somepalli et al., "Diffusion art or digital forgery?", CVPR 2023); the threshold from the real set's own
nearest-neighbour distances follows the same idea as the "authenticity" test of A. Alaa et al., "How
faithful is your synthetic data?", ICML 2022.

Inputs: the real set must be the GAN's training images. Two distances between synthetic ``s`` and real ``r``:

    pixel:   RMS(s, r) = sqrt(sum_p (s_p - r_p)^2 / P)           [8-bit gray levels, 0 .. 255]
    feature: 1 - cos(f_s, f_r), Inception pool3 features f      [unitless, 0 .. 2]

For each space the threshold is the 1st percentile (linear interpolation) of the real-to-real
nearest-neighbour distances (each real image against every other real image; cached as a reference
statistic). A synthetic image is flagged in a space when its nearest real image is closer than that
threshold, or at distance exactly 0 (an exact copy is flagged even if the real set holds so many duplicates
that the threshold is 0). Per image: the nearest real image and distance in each space and both flags;
table ``memorisation_pairs`` lists them with names; set values: the thresholds and the number flagged.
"""

import numpy as np
import pandas as pd

from evaluation.comparison import MetricSpec, MetricValues
from evaluation.distances import pairwise_squared_euclidean
from evaluation.inception import FEATURE_VERSION

METRIC_VERSION = "memorisation/v1"
THRESHOLD_PERCENTILE = 1.0


def pixel_rms_distances(first_pixels, second_pixels):
    """``[N_first, N_second]`` RMS gray-level differences of uint8 images ``(N, H, W)``."""
    first = first_pixels.reshape(len(first_pixels), -1)
    second = second_pixels.reshape(len(second_pixels), -1)
    return np.sqrt(pairwise_squared_euclidean(first, second) / first.shape[1])


def cosine_distances(first_features, second_features):
    """``[N_first, N_second]`` cosine distances ``1 - cos`` between feature rows, clipped at 0."""
    first = first_features / np.linalg.norm(first_features, axis=1, keepdims=True)
    second = second_features / np.linalg.norm(second_features, axis=1, keepdims=True)
    return np.maximum(1.0 - first @ second.T, 0.0)


def real_nearest_neighbour_distances(distances_within_real):
    """Each real image's distance to its nearest other real image, from the square within-real matrix."""
    distances = distances_within_real.copy()
    np.fill_diagonal(distances, np.inf)
    return distances.min(axis=1)


def flag_nearest(distances_to_real, real_nearest_distances):
    """``(nearest_index, nearest_distance, flag, threshold)`` for each synthetic row of ``distances_to_real``."""
    threshold = float(np.percentile(real_nearest_distances, THRESHOLD_PERCENTILE))
    nearest_index = distances_to_real.argmin(axis=1)
    nearest_distance = distances_to_real[np.arange(len(distances_to_real)), nearest_index]
    flag = (nearest_distance < threshold) | (nearest_distance == 0)
    return nearest_index, nearest_distance, flag, threshold


def compute(comparison):
    real, synthetic = comparison.real, comparison.synthetic
    real_features = comparison.real_inception_features()
    reference = comparison.reference(
        "memorisation-real-nearest",
        f"{METRIC_VERSION}/{FEATURE_VERSION}",
        lambda: {
            "pixel": real_nearest_neighbour_distances(pixel_rms_distances(real.pixels, real.pixels)),
            "feature": real_nearest_neighbour_distances(cosine_distances(real_features, real_features)),
        },
    )
    pixel_index, pixel_distance, pixel_flag, pixel_threshold = flag_nearest(
        pixel_rms_distances(synthetic.pixels, real.pixels), reference["pixel"]
    )
    feature_index, feature_distance, feature_flag, feature_threshold = flag_nearest(
        cosine_distances(comparison.synthetic_inception_features(), real_features), reference["feature"]
    )
    per_image = {
        "nearest_real_pixel": pixel_index,
        "pixel_rms_distance": pixel_distance,
        "pixel_flag": pixel_flag.astype(np.int64),
        "nearest_real_feature": feature_index,
        "feature_cosine_distance": feature_distance,
        "feature_flag": feature_flag.astype(np.int64),
    }
    real_names = np.asarray(real.names, dtype=object)
    pairs = pd.DataFrame(
        {
            "synthetic_index": np.arange(len(synthetic)),
            "synthetic_name": list(synthetic.names),
            "real_index_pixel": pixel_index,
            "real_name_pixel": real_names[pixel_index],
            "pixel_rms_distance": pixel_distance,
            "pixel_flag": pixel_flag,
            "real_index_feature": feature_index,
            "real_name_feature": real_names[feature_index],
            "feature_cosine_distance": feature_distance,
            "feature_flag": feature_flag,
        }
    )
    values = {
        "pixel_threshold": pixel_threshold,
        "feature_threshold": feature_threshold,
        "flagged_pixel": int(pixel_flag.sum()),
        "flagged_feature": int(feature_flag.sum()),
    }
    return MetricValues(
        values=values,
        per_image=per_image,
        tables={"memorisation_pairs": pairs},
    )


METRIC = MetricSpec(
    name="memorisation",
    version=METRIC_VERSION,
    compute=compute,
    description="Nearest real training image by pixel RMS and Inception cosine; flags closer than real-real 1st pct",
    uses_inception=True,
    minimum_real=2,
)
