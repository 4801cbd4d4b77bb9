"""Synthetic images from a training snapshot, written with the project's one PNG encoder.

The generator runs with BatchNorm in training mode, i.e. each batch is normalised with its own
statistics, as the DCGAN paper's code and pytorch/examples make their samples; BatchNorm's running
averages are not used. Batches therefore always have the training batch size (the last one is filled up
and the surplus dropped), so every image is normalised over a batch like those seen in training, and the
first ``k`` images of a seed are the same whatever ``count`` is asked for. Latent noise is drawn on the
CPU from the seed, so it does not depend on the device."""

import copy
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .data import to_uint8
from .models import build_generator
from .preprocessing import encode_png

SNAPSHOT_FORMAT = "synthesis.dcgan-snapshot/1"
GRID_ROWS = 3
GRID_PADDING = 2


def load_snapshot(path, device="cpu"):
    """Read a ``snapshot_epochNNNN.pt``: returns ``(generator, config, epoch)``, config as a dict."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {path} does not exist")
    not_a_snapshot = ValueError(f"{path} is not a generator snapshot of this tool (a snapshot_epochNNNN.pt)")
    try:
        # weights_only: a snapshot holds only tensors and plain values, so nothing else may be unpickled.
        snapshot = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        raise not_a_snapshot from None
    if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
        raise not_a_snapshot
    config = snapshot["config"]
    generator = build_generator(config["architecture"], config["nz"], config["ngf"])
    generator.load_state_dict(snapshot["generator"])
    return generator.to(device), config, snapshot["epoch"]


def generate_pixels(generator, config, count, seed):
    """``count`` images from ``generator`` as a uint8 CPU tensor ``(count, 1, size, size)``.

    ``config`` is the snapshot's config dict (``nz`` and ``batch_size`` are used); the generator is
    copied, so its BatchNorm running averages are left as they were.
    """
    if count < 1:
        raise ValueError(f"number of images must be positive, not {count}")
    device = next(generator.parameters()).device
    sampler = copy.deepcopy(generator).train()
    noise_rng = torch.Generator().manual_seed(seed)
    batch_size = config["batch_size"]
    batches = []
    with torch.no_grad():
        for _ in range(0, count, batch_size):
            noise = torch.randn(batch_size, config["nz"], 1, 1, generator=noise_rng)
            batches.append(to_uint8(sampler(noise.to(device))).cpu())
    return torch.cat(batches)[:count]


def generate_images(snapshot, out_dir, count=800, seed=0, device="cpu"):
    """Write ``count`` images from a snapshot file to ``out_dir`` as ``0000.png``, ``0001.png``, ...

    8-bit gray PNGs of the training resolution, encoded by `preprocessing.encode_png`. Refuses an
    ``out_dir`` that already holds PNGs, so two image sets are never mixed. Returns the paths written.
    """
    out_dir = Path(out_dir)
    if out_dir.is_dir() and any(out_dir.glob("*.png")):
        raise ValueError(f"{out_dir} already contains PNG files; generate into an empty directory")
    generator, config, _ = load_snapshot(snapshot, device)
    pixels = generate_pixels(generator, config, count, seed).numpy()
    out_dir.mkdir(parents=True, exist_ok=True)
    digits = max(4, len(str(count - 1)))
    paths = []
    for index, image in enumerate(pixels):
        path = out_dir / f"{index:0{digits}d}.png"
        path.write_bytes(encode_png(Image.fromarray(image[0])))
        paths.append(path)
    return paths


def sample_grid(pixels):
    """A 3x3 grid of the first nine images of a uint8 ``(n, 1, s, s)`` tensor, 2 black pixels between."""
    size = pixels.shape[-1]
    step = size + GRID_PADDING
    grid = np.zeros((GRID_ROWS * step + GRID_PADDING,) * 2, dtype=np.uint8)
    for index, image in enumerate(pixels[: GRID_ROWS**2].numpy()):
        top = GRID_PADDING + (index // GRID_ROWS) * step
        left = GRID_PADDING + (index % GRID_ROWS) * step
        grid[top : top + size, left : left + size] = image[0]
    return Image.fromarray(grid)


def save_sample_grid(generator, config, path):
    """Write the grid of the first nine images that seed 0 gives (the first nine of ``generate --seed 0``)."""
    pixels = generate_pixels(generator, config, GRID_ROWS**2, seed=0)
    Path(path).write_bytes(encode_png(sample_grid(pixels)))
