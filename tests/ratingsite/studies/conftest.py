import numpy as np
import pytest

from ratingsite.imagesets.importing import import_image_set
from tests.images import hc18_folder, png_bytes


@pytest.fixture
def image_sets(hc18_dir, tmp_path):
    real_folder = hc18_folder(hc18_dir, tmp_path / "real", 12)
    real = import_image_set(real_folder, name="HC18 12").image_set
    synthetic_sets = []
    for index in range(2):
        folder = tmp_path / f"synthetic{index}"
        folder.mkdir()
        rng = np.random.default_rng(index)
        for number in range(6):
            pixels = rng.integers(0, 256, size=(64, 64), dtype=np.uint8)
            (folder / f"{number:04d}.png").write_bytes(png_bytes(pixels))
        synthetic_sets.append(import_image_set(folder, name=f"model {index}", kind="synthetic").image_set)
    return real, synthetic_sets
