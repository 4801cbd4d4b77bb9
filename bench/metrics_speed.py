"""Metric speed: 800 synthetic vs 999 real HC18 images at 64 px, every registered metric.

Run: ``.venv/bin/python bench/metrics_speed.py [--data ../shared/data/hc18/training_set_half] [--cache DIR]``

Synthetic stand-in: the first 800 real images (sorted by name), mirrored left-right, plus Gaussian noise
(sigma 8 gray levels, seed 0), rounded and clipped to 0..255. Any images would do for timing; these keep
every metric in a realistic range.

Prints, on the machine it runs on (targets for 2 CPU cores):

* the Inception forward pass: the real features (computed once and stored in the reference cache, or
  loaded from it on later runs) and the synthetic features;
* every metric's own time with the Inception features already at hand; all other real-set statistics
  (LBP histograms, nearest-neighbour distances, within-real MS-SSIM) are computed cold, from an in-memory
  cache, so they count. Target: under 30 s in total;
* FID with cached real features = load the cached real features + synthetic features + FID. Target: under
  5 min;
* as the baseline measured in the same process, plain double loops over image pairs for PSNR and MI on a
  subsample, extrapolated to all 800 x 999 pairs, and the speed-up of the vectorised versions.
"""

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from evaluation.comparison import Comparison  # noqa: E402
from evaluation.images import ImagePixels, load_image_folder  # noqa: E402
from evaluation.inception import FEATURE_VERSION, inception_features  # noqa: E402
from evaluation.mutual_information import BIN_WIDTH  # noqa: E402
from evaluation.reference_cache import ReferenceCache, default_cache_folder  # noqa: E402
from evaluation.registry import METRICS  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "hc18" / "training_set_half"
SIZE = 64
SYNTHETIC_COUNT = 800
BASELINE_SYNTHETIC = {"psnr": 40, "mutual_information": 4}


def synthetic_stand_in(real):
    noise = np.random.default_rng(0).normal(0.0, 8.0, size=(SYNTHETIC_COUNT, SIZE, SIZE))
    mirrored = real.pixels[:SYNTHETIC_COUNT, :, ::-1].astype(np.float64)
    pixels = np.clip(np.rint(mirrored + noise), 0, 255).astype(np.uint8)
    return ImagePixels(pixels=pixels, names=tuple(f"standin_{index:03d}" for index in range(SYNTHETIC_COUNT)))


def loop_psnr(synthetic, real):
    values = np.empty((len(synthetic), len(real)))
    for i, s in enumerate(synthetic.astype(np.float64)):
        for j, r in enumerate(real.astype(np.float64)):
            mse = np.mean((s - r) ** 2)
            values[i, j] = math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
    return values


def loop_mutual_information(synthetic, real):
    edges = np.arange(0, 256 + BIN_WIDTH, BIN_WIDTH)
    values = np.empty((len(synthetic), len(real)))
    for i, s in enumerate(synthetic):
        for j, r in enumerate(real):
            joint, _, _ = np.histogram2d(s.ravel(), r.ravel(), bins=[edges, edges])
            p = joint / joint.sum()
            outer = np.outer(p.sum(axis=1), p.sum(axis=0))
            nonzero = p > 0
            values[i, j] = np.sum(p[nonzero] * np.log2(p[nonzero] / outer[nonzero]))
    return values


def timed(function, *arguments):
    start = time.perf_counter()
    result = function(*arguments)
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--cache",
        type=Path,
        default=default_cache_folder(),
        help="reference cache folder holding (or receiving) the real Inception features",
    )
    arguments = parser.parse_args()
    print(f"CPU cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}")

    real, load_seconds = timed(load_image_folder, arguments.data, SIZE)
    synthetic = synthetic_stand_in(real)
    print(f"loaded {len(real)} real images at {SIZE} px in {load_seconds:.1f} s; {len(synthetic)} synthetic stand-ins")

    disk_cache = ReferenceCache(arguments.cache)
    cached_before = disk_cache.path(real, "inception", FEATURE_VERSION).is_file()
    stored, real_seconds = timed(
        disk_cache.load_or_compute,
        real,
        "inception",
        FEATURE_VERSION,
        lambda: {"features": inception_features(real.pixels, progress=True)},
    )
    how = "loaded from the cache" if cached_before else "computed and cached (once per real set)"
    print(f"real Inception features: {real_seconds:.1f} s, {how}")

    # A fresh in-memory cache holding only the real Inception features: every other real-set statistic is
    # computed inside the timed metric runs below.
    memory_cache = ReferenceCache(None)
    memory_cache.load_or_compute(real, "inception", FEATURE_VERSION, lambda: stored)
    comparison = Comparison(real, synthetic, cache=memory_cache, progress=False)
    _, synthetic_seconds = timed(comparison.synthetic_inception_features)
    print(
        f"synthetic Inception features: {synthetic_seconds:.1f} s ({len(synthetic) / synthetic_seconds:.1f} images/s)"
    )

    print(f"\n{'metric':<20}{'seconds':>9}  set values")
    metric_seconds = {}
    for name, spec in METRICS.items():
        result, metric_seconds[name] = timed(spec.compute, comparison)
        shown = ", ".join(f"{key}={value:.4g}" for key, value in result.values.items())
        print(f"{name:<20}{metric_seconds[name]:>9.2f}  {shown}")
    total = sum(metric_seconds.values())
    print(
        f"{'total':<20}{total:>9.2f}  (target < 30 s without Inception feature extraction)"
        f" -> {'OK' if total < 30 else 'OVER'}"
    )

    cached_load = ReferenceCache(arguments.cache)
    _, reload_seconds = timed(cached_load.load_or_compute, real, "inception", FEATURE_VERSION, lambda: stored)
    fid_total = reload_seconds + synthetic_seconds + metric_seconds["fid"]
    print(
        f"FID with cached real features: {reload_seconds:.2f} s cache load + {synthetic_seconds:.1f} s synthetic "
        f"features + {metric_seconds['fid']:.2f} s FID = {fid_total:.1f} s (target < 300 s)"
        f" -> {'OK' if fid_total < 300 else 'OVER'}"
    )

    print("\nbaseline: double loop over pairs on a subsample, extrapolated to all pairs, in this process")
    vectorised = {"psnr": metric_seconds["psnr"], "mutual_information": metric_seconds["mutual_information"]}
    for name, loop in (("psnr", loop_psnr), ("mutual_information", loop_mutual_information)):
        count = BASELINE_SYNTHETIC[name]
        _, seconds = timed(loop, synthetic.pixels[:count], real.pixels)
        extrapolated = seconds * len(synthetic) / count
        print(
            f"{name:<20} loop {seconds:.1f} s for {count} x {len(real)} pairs -> {extrapolated:.0f} s for all;"
            f" vectorised {vectorised[name]:.2f} s; speed-up x{extrapolated / vectorised[name]:.0f}"
        )


if __name__ == "__main__":
    main()
