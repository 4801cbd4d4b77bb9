"""Peak signal-to-noise ratio (PSNR) of every synthetic image against every real image.

Source: the standard definition (e.g. Z. Wang, A. C. Bovik, "Mean squared error: love it or leave it?",
IEEE Signal Processing Magazine 2009), as used between synthetic and real images by the reference study.

Inputs: 8-bit gray images at the matched resolution, ``P`` pixels each. For synthetic ``s`` and real ``r``

    MSE(s, r) = sum_p (s_p - r_p)^2 / P,    PSNR(s, r) = 10 log10(255^2 / MSE(s, r))  [dB]

All ``MSE`` values come from one matrix product, ``|s|^2 + |r|^2 - 2 s.r`` (`evaluation.distances`), which is
exact for 8-bit integers. Identical images (``MSE = 0``) get ``PSNR = +inf`` explicitly, as in
``skimage.metrics.peak_signal_noise_ratio``; a synthetic image that copies a real image therefore has
``psnr_nearest_db = +inf`` and ``psnr_mean_db = +inf`` and so do the set means (the memorisation metric
lists such copies).

Per image: ``psnr_mean_db`` = mean PSNR over all real images; ``psnr_nearest_db`` = the maximum, i.e. the
PSNR to the nearest real image. Set values: the means of both over the synthetic set (``psnr_mean_db``
is the reference study's number). Higher = more similar pixel for pixel.
"""

import numpy as np

from evaluation.comparison import MetricSpec, MetricValues
from evaluation.distances import pairwise_squared_euclidean

METRIC_VERSION = "psnr/v1"
PEAK = 255.0


def psnr_matrix(synthetic_pixels, real_pixels):
    """``[N_synthetic, N_real]`` PSNR in dB of uint8 images ``(N, H, W)``; ``+inf`` where the images are identical."""
    synthetic = synthetic_pixels.reshape(len(synthetic_pixels), -1)
    real = real_pixels.reshape(len(real_pixels), -1)
    mse = pairwise_squared_euclidean(synthetic, real) / synthetic.shape[1]
    psnr = np.full(mse.shape, np.inf)
    different = mse > 0
    psnr[different] = 10.0 * np.log10(PEAK**2 / mse[different])
    return psnr


def compute(comparison):
    psnr = psnr_matrix(comparison.synthetic.pixels, comparison.real.pixels)
    per_image = {"psnr_mean_db": psnr.mean(axis=1), "psnr_nearest_db": psnr.max(axis=1)}
    values = {name: float(column.mean()) for name, column in per_image.items()}
    return MetricValues(values=values, per_image=per_image)


METRIC = MetricSpec(
    name="psnr",
    version=METRIC_VERSION,
    compute=compute,
    description="PSNR (dB) of each synthetic image against every real image: mean and nearest",
)
