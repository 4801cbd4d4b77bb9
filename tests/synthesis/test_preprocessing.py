"""The one resize and the one PNG encoder shared by real and synthetic images."""

import io

import numpy as np
import pytest
from PIL import Image
from torchvision import transforms

from synthesis.preprocessing import UnsupportedImageError, derive_png, encode_png, resize_square, to_gray8
from tests.images import png_chunk_types


def test_stretch_resize_matches_torchvision_resize_on_pil(hc18_dir):
    image = Image.open(hc18_dir / "training_set_half" / "000_HC.png")
    ours = np.asarray(resize_square(image, 64))
    reference = np.asarray(transforms.Resize((64, 64))(image))
    assert np.array_equal(ours, reference)


def test_center_crop_takes_the_middle_square():
    pixels = np.zeros((40, 80), np.uint8)
    pixels[:, 20:60] = 255
    cropped = np.asarray(resize_square(Image.fromarray(pixels), 16, "center-crop"))
    assert cropped.min() == 255
    stretched = np.asarray(resize_square(Image.fromarray(pixels), 16, "stretch"))
    assert stretched.min() == 0


def test_resize_refuses_unknown_modes_and_non_gray_images():
    with pytest.raises(ValueError, match="unknown resize mode"):
        resize_square(Image.new("L", (4, 4)), 2, "squash")
    with pytest.raises(ValueError, match="mode L"):
        resize_square(Image.new("RGB", (4, 4)), 2)


def test_encoded_png_has_no_metadata_chunks():
    image = Image.new("L", (8, 8), 7)
    image.info["icc_profile"] = b"profile"
    image.info["dpi"] = (300, 300)
    data = encode_png(image)
    assert png_chunk_types(data) == ["IHDR", "IDAT", "IEND"]
    decoded = Image.open(io.BytesIO(data))
    assert decoded.mode == "L" and np.asarray(decoded).max() == 7


def palette_image(index, colour):
    image = Image.new("P", (2, 2), index)
    palette = [0] * 768
    palette[3 * index : 3 * index + 3] = colour
    image.putpalette(palette)
    return image


@pytest.mark.parametrize(
    "image, expected, note",
    [
        (Image.new("L", (2, 2), 9), 9, ""),
        (Image.new("1", (2, 2), 1), 255, "bilevel"),
        (Image.fromarray(np.full((2, 2), 257 * 40, np.uint16)), 40, "16-bit gray mapped linearly"),
        (Image.new("RGB", (2, 2), (50, 50, 50)), 50, "equal channels"),
        (Image.new("RGB", (2, 2), (255, 0, 0)), 76, "ITU-R 601-2 luma"),
        (Image.new("RGBA", (2, 2), (200, 200, 200, 0)), 0, "alpha composited onto black"),
        (Image.new("LA", (2, 2), (100, 255)), 100, "alpha composited onto black"),
        (palette_image(index=3, colour=(30, 30, 30)), 30, "palette image"),
    ],
)
def test_to_gray8(image, expected, note):
    gray, written_note = to_gray8(image)
    assert gray.mode == "L"
    assert np.asarray(gray).max() == expected
    assert note in written_note
    assert bool(note) == bool(written_note)


def test_floating_point_images_are_refused():
    with pytest.raises(UnsupportedImageError, match="'F'"):
        to_gray8(Image.fromarray(np.zeros((2, 2), np.float32), "F"))


def test_derive_png_is_resize_then_encode(hc18_dir):
    image = Image.open(hc18_dir / "training_set_half" / "001_HC.png")
    assert derive_png(image, 128) == encode_png(resize_square(image, 128))
