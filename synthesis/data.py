"""Training images: choosing the subset, loading it once, and augmenting whole batches on the device.

Images are decoded once, made 8-bit gray with `preprocessing.to_gray8`, resized with
`preprocessing.resize_square` and kept as one uint8 tensor ``(n, 1, size, size)``; training moves that
tensor to its device once and never touches files again. Scaling to [-1, 1] and augmentation happen per
batch on the device, as tensor operations, with a caller-supplied `torch.Generator` so that a checkpoint of
that generator's state reproduces every later batch.
"""

import math
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from .preprocessing import IMAGE_SUFFIXES, resize_square, to_gray8


def seed_everything(seed):
    """Seed Python's `random`, NumPy's global RNG and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def list_images(source):
    """Sorted image paths: the image files directly inside a directory, or a given list of paths."""
    if isinstance(source, (str, Path)):
        directory = Path(source)
        if not directory.is_dir():
            raise ValueError(f"image directory {directory} does not exist")
        paths = [p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        if not paths:
            raise ValueError(f"no images found in {directory}")
    else:
        paths = [Path(p) for p in source]
        if not paths:
            raise ValueError("no image paths given")
    return sorted(paths)


def choose_subset(paths, count, seed):
    """``count`` of ``paths`` drawn without replacement, the same ones for the same seed; ``None`` takes all.

    Uses its own RNG, so the draw does not depend on (or disturb) any global RNG state.
    """
    paths = sorted(paths)
    if count is None:
        return paths
    if not 1 <= count <= len(paths):
        raise ValueError(f"cannot draw {count} training images from a set of {len(paths)}")
    return sorted(random.Random(seed).sample(paths, count))


def load_images(paths, size, resize_mode="stretch"):
    """Decode, gray and resize each image: uint8 tensor ``(len(paths), 1, size, size)`` on the CPU."""
    if not paths:
        raise ValueError("no images to load")
    pixels = np.empty((len(paths), 1, size, size), dtype=np.uint8)
    for index, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                gray, _ = to_gray8(image)
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"cannot read image {path}: {error}") from None
        pixels[index, 0] = np.asarray(resize_square(gray, size, resize_mode))
    return torch.from_numpy(pixels)


def to_unit_range(images):
    """uint8 pixels 0..255 -> float32 in [-1, 1] (the generator's Tanh range)."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images):
    """Float images in [-1, 1] -> uint8 pixels 0..255, rounded to nearest."""
    return images.float().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


def augment(batch, rng, rotation_degrees=10.0, flip=True):
    """Random horizontal flip (p = 0.5) and rotation by U(-deg, +deg), per image, in one resampling pass.

    ``batch`` is float ``(n, c, h, w)`` in [-1, 1] on the device of ``rng``, the `torch.Generator` that all
    random draws come from. Rotation is about the image centre with bilinear interpolation; corners
    uncovered by the rotation are filled with -1 (black, the ultrasound background, as torchvision's
    ``RandomRotation`` fills with 0 before normalisation). Flip and rotation share one affine grid, so the
    batch is resampled once.
    """
    if not flip and rotation_degrees == 0:
        return batch
    count = batch.shape[0]
    mirror = torch.ones(count, device=batch.device)
    if flip:
        flipped = torch.rand(count, device=batch.device, generator=rng) < 0.5
        mirror = torch.where(flipped, -1.0, 1.0)
    angle = (torch.rand(count, device=batch.device, generator=rng) * 2 - 1) * math.radians(rotation_degrees)
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero = torch.zeros_like(angle)
    # Output point (x, y) samples input point R(angle) @ (mirror * x, y); the flip negates the x column.
    theta = torch.stack([torch.stack([mirror * cos, -sin, zero], 1), torch.stack([mirror * sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta.to(batch.dtype), list(batch.shape), align_corners=False)
    # grid_sample pads with 0, so sample the image shifted to [0, 2] to make the padding -1 after shifting back.
    return F.grid_sample(batch + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1
