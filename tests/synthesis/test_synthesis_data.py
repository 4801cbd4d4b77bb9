import numpy as np
import pytest
import torch
from PIL import Image

from synthesis.data import augment, choose_subset, list_images, load_images, seed_everything, to_uint8, to_unit_range
from synthesis.preprocessing import resize_square


def test_list_images_of_an_empty_directory_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match="no images found"):
        list_images(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        list_images(tmp_path / "missing")


def test_subset_is_reproducible_and_checked():
    paths = [f"{index:03d}.png" for index in range(50)]
    first = choose_subset(paths, 10, seed=3)
    assert first == choose_subset(list(reversed(paths)), 10, seed=3)
    assert first != choose_subset(paths, 10, seed=4)
    assert len(set(first)) == 10 and set(first) <= set(paths)
    assert choose_subset(paths, None, seed=3) == sorted(paths)
    with pytest.raises(ValueError, match="cannot draw 51 training images from a set of 50"):
        choose_subset(paths, 51, seed=0)


def test_load_images_goes_through_the_shared_preprocessing(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "gray.png")
    paths = list_images(tmp_path)
    images = load_images(paths, 64, "center-crop")
    assert images.dtype == torch.uint8 and images.shape == (2, 1, 64, 64)
    expected = resize_square(Image.fromarray(rgb).convert("L"), 64, "center-crop")
    assert np.array_equal(images[0, 0].numpy(), np.asarray(expected))


def test_unreadable_image_is_reported(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot read image .*broken.png"):
        load_images(list_images(tmp_path), 64)


def test_unit_range_round_trip():
    pixels = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    scaled = to_unit_range(pixels)
    assert scaled.min() == -1 and scaled.max() == 1
    assert torch.equal(to_uint8(scaled), pixels)


def test_flip_only_mirrors_some_images_exactly():
    batch = torch.rand(64, 1, 16, 16) * 2 - 1
    out = augment(batch, torch.Generator().manual_seed(0), rotation_degrees=0, flip=True)
    unchanged = (out - batch).abs().amax(dim=(1, 2, 3)) < 1e-5
    mirrored = (out - batch.flip(-1)).abs().amax(dim=(1, 2, 3)) < 1e-5
    assert torch.all(unchanged | mirrored)
    assert 10 < mirrored.sum() < 54


def test_rotation_fills_uncovered_corners_with_black():
    white = torch.ones(64, 1, 64, 64)
    out = augment(white, torch.Generator().manual_seed(0), rotation_degrees=30, flip=False)
    assert torch.allclose(out[:, :, 24:40, 24:40], white[:, :, 24:40, 24:40])
    assert out.min() >= -1 - 1e-6 and out.max() <= 1 + 1e-6
    corners = out[:, 0, [0, 0, -1, -1], [0, -1, 0, -1]]
    # Only rotations under about 2 degrees leave a corner pixel covered.
    assert (corners < -0.99).float().mean() > 0.8
    assert out[:, 0, 0, 8].unique().numel() > 1, "each image gets its own angle"


def test_augmentation_follows_the_generator_state():
    batch = torch.rand(8, 1, 32, 32) * 2 - 1
    rng = torch.Generator().manual_seed(5)
    state = rng.get_state()
    first = augment(batch, rng)
    rng.set_state(state)
    assert torch.equal(augment(batch, rng), first)
    assert not torch.equal(augment(batch, rng), first)


def test_seed_everything_seeds_all_global_generators():
    import random

    seed_everything(7)
    drawn = random.random(), np.random.rand(), torch.rand(1).item()
    seed_everything(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == drawn
