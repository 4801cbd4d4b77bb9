"""The reference cache: keys, load-or-compute, and real features never recomputed once cached."""

import numpy as np
import pytest

from evaluation import comparison as comparison_module
from evaluation.comparison import Comparison
from evaluation.images import ImagePixels
from evaluation.inception import FEATURE_VERSION
from evaluation.reference_cache import ReferenceCache, reference_key


def image_pixels(seed, size=64, resize_mode="stretch"):
    pixels = np.random.default_rng(seed).integers(0, 256, size=(3, size, size), dtype=np.uint8)
    return ImagePixels(pixels, ("a", "b", "c"), resize_mode=resize_mode)


def test_key_depends_on_pixels_resolution_mode_kind_and_version_only():
    images = image_pixels(0)
    key = reference_key(images, "inception", "v1")
    assert key == reference_key(ImagePixels(images.pixels.copy(), ("x", "y", "z")), "inception", "v1")
    assert key != reference_key(image_pixels(1), "inception", "v1")
    assert key != reference_key(image_pixels(0, size=128), "inception", "v1")
    assert key != reference_key(image_pixels(0, resize_mode="center-crop"), "inception", "v1")
    assert key != reference_key(images, "inception", "v2")
    assert key != reference_key(images, "lbp", "v1")
    reordered = ImagePixels(images.pixels[::-1].copy(), images.names)
    assert key != reference_key(reordered, "inception", "v1")  # arrays are stored in set order


def test_load_or_compute_computes_once_and_persists(tmp_path):
    images, calls = image_pixels(0), []

    def compute():
        calls.append(1)
        return {"features": np.arange(6.0).reshape(3, 2)}

    first = ReferenceCache(tmp_path).load_or_compute(images, "inception", "v1", compute)
    again = ReferenceCache(tmp_path).load_or_compute(images, "inception", "v1", compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["features"], again["features"])
    assert [path.name for path in tmp_path.iterdir()] == [f"inception-{reference_key(images, 'inception', 'v1')}.npz"]


def test_memory_only_cache_keeps_results_for_its_lifetime():
    images, calls = image_pixels(0), []
    cache = ReferenceCache(None)
    for _ in range(2):
        cache.load_or_compute(images, "lbp", "v1", lambda: calls.append(1) or {"histograms": np.zeros(3)})
    assert len(calls) == 1


def test_comparison_takes_cached_real_features_without_running_inception(tmp_path, monkeypatch):
    real, synthetic = image_pixels(0), image_pixels(1)
    cached = np.random.default_rng(2).normal(size=(3, 2048))
    ReferenceCache(tmp_path).load_or_compute(real, "inception", FEATURE_VERSION, lambda: {"features": cached})

    def no_forward(*args, **kwargs):
        raise AssertionError("Inception ran")

    monkeypatch.setattr(comparison_module, "inception_features", no_forward)
    comparison = Comparison(real, synthetic, cache=ReferenceCache(tmp_path))
    np.testing.assert_array_equal(comparison.real_inception_features(), cached)
    with pytest.raises(AssertionError, match="Inception ran"):
        comparison.synthetic_inception_features()
