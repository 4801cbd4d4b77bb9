"""Loading image folders at the matched resolution."""

import numpy as np
import pytest
from PIL import Image

from evaluation.images import EvaluationInputError, ImagePixels, load_image_folder
from synthesis.preprocessing import resize_square


def save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path) if mode else Image.fromarray(array).save(path)


def test_every_image_goes_through_the_shared_resize(tmp_path):
    rng = np.random.default_rng(0)
    at_size = rng.integers(0, 256, size=(64, 64), dtype=np.uint8)
    wide = rng.integers(0, 256, size=(80, 100), dtype=np.uint8)
    colour = rng.integers(0, 256, size=(50, 70, 3), dtype=np.uint8)
    save(tmp_path / "a_at_size.png", at_size)
    save(tmp_path / "b_wide.png", wide)
    save(tmp_path / "nested" / "c_colour.png", colour)
    (tmp_path / "notes.txt").write_text("not an image")
    images = load_image_folder(tmp_path, 64)
    assert images.names == ("a_at_size.png", "b_wide.png", "nested/c_colour.png")
    assert images.pixels.shape == (3, 64, 64) and images.pixels.dtype == np.uint8
    np.testing.assert_array_equal(images.pixels[0], at_size)  # already at the matched resolution: unchanged
    np.testing.assert_array_equal(images.pixels[1], np.asarray(resize_square(Image.fromarray(wide), 64)))
    expected_gray = Image.fromarray(colour).convert("L")  # ITU-R 601-2 luma, as to_gray8 documents
    np.testing.assert_array_equal(images.pixels[2], np.asarray(resize_square(expected_gray, 64)))
    assert images.conversion_notes == {"RGB colour image converted to 8-bit gray (ITU-R 601-2 luma)": 1}


def test_center_crop_mode_and_128_px(tmp_path):
    wide = np.zeros((80, 160), dtype=np.uint8)
    wide[:, 40:120] = 200  # the centred square is all 200
    save(tmp_path / "wide.png", wide)
    assert (load_image_folder(tmp_path, 128, "center-crop").pixels == 200).all()
    assert load_image_folder(tmp_path, 128).pixels.shape == (1, 128, 128)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda folder: None, "holds no image files"),
        (lambda folder: (folder / "broken.png").write_bytes(b"not a png"), "broken.png: not a readable image"),
    ],
)
def test_bad_folders(tmp_path, setup, message):
    setup(tmp_path)
    with pytest.raises(EvaluationInputError, match=message):
        load_image_folder(tmp_path, 64)


def test_missing_folder_and_unsupported_size(tmp_path):
    with pytest.raises(EvaluationInputError, match="is not a folder"):
        load_image_folder(tmp_path / "absent", 64)
    with pytest.raises(EvaluationInputError, match="training resolutions"):
        load_image_folder(tmp_path, 100)


def test_image_pixels_hash_their_matched_resolution_pixels():
    pixels = np.zeros((2, 64, 64), dtype=np.uint8)
    pixels[1, 0, 0] = 1
    first, second = ImagePixels(pixels, ("x", "y")).image_sha256s()
    assert first != second and len(first) == 64
    assert ImagePixels(pixels, ("renamed", "too")).image_sha256s() == [first, second]
