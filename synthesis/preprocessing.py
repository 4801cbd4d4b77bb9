"""The one preprocessing path shared by real and synthetic images.

Every later step (training, generation, metrics, the rating study) sees images only through these
functions, so real and synthetic images are never treated differently by accident.

* `to_gray8` turns any decoded image into 8-bit grayscale (PIL mode ``L``):

  - ``L``: unchanged.
  - ``1`` (bilevel): 0 -> 0, 1 -> 255.
  - ``I;16``/``I;16B``/``I`` (16- or 32-bit integer gray): mapped linearly from the full 16-bit range,
    ``round(v / 257)`` clipped to 0..255, so 65535 -> 255. Images that use only 12 bits look dark; the
    mapping is not stretched per image because that would change contrast image by image.
  - ``RGB``/``CMYK``/``YCbCr``: ITU-R 601-2 luma, ``L = 0.299 R + 0.587 G + 0.114 B`` (Pillow's
    ``convert("L")``). Gray stored as RGB (R = G = B) converts losslessly.
  - ``LA``/``RGBA``/``P``/``PA``: palette expanded, then the image is composited onto black using its
    alpha, then luma as above. Ultrasound frames have a black background, so black is the neutral fill.

  EXIF orientation is applied first. Floating-point images are refused.

* `resize_square` makes the ``size x size`` training-resolution version. Default ``stretch``, as in the
  reference study: the whole frame resized straight to a square (the aspect ratio is not kept; HC18's
  800x540 frames are squeezed horizontally). ``center-crop`` first crops the largest centred square.
  The filter is Pillow's antialiased bilinear (``Image.Resampling.BILINEAR``, a triangle filter whose
  support scales with the reduction factor), which is what ``torchvision.transforms.Resize`` applies to
  PIL images, so the reference DCGAN pipeline and this one produce the same pixels.

* `encode_png` writes an 8-bit grayscale PNG with no ancillary chunks (no text, time, gamma, physical
  size or ICC profile) at zlib level 6, so two images of the same size differ only in their pixels.
  ``compress_level=0`` stores the pixels without compression: the file's size then depends on its
  dimensions alone (the rating study's files, whose size must not tell real from synthetic).
"""

import io

import numpy as np
from PIL import Image, ImageOps

# The image files the site imports and stores, so training, the evaluation and the importer read the same ones.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
TRAINING_SIZES = (64, 128)
RESIZE_MODES = ("stretch", "center-crop")
PNG_COMPRESS_LEVEL = 6


class UnsupportedImageError(ValueError):
    """The image's pixel format cannot be turned into 8-bit gray."""


def to_gray8(image):
    """Return ``(gray_image, note)``: the image as mode ``L`` and a sentence saying what changed ("" if nothing)."""
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode == "L":
        return image, ""
    if mode == "1":
        return image.convert("L"), "bilevel image expanded to 8-bit gray (0/255)"
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        pixels = np.asarray(image, dtype=np.int64)
        gray = np.clip(np.rint(pixels / 257.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, mode="L"), f"{_bit_depth(mode)}-bit gray mapped linearly to 8-bit (v / 257)"
    if mode in ("RGB", "CMYK", "YCbCr"):
        rgb = image.convert("RGB")
        channels = np.asarray(rgb)
        if np.array_equal(channels[..., 0], channels[..., 1]) and np.array_equal(channels[..., 1], channels[..., 2]):
            return rgb.getchannel(0), f"{mode} image with equal channels stored as 8-bit gray"
        return rgb.convert("L"), f"{mode} colour image converted to 8-bit gray (ITU-R 601-2 luma)"
    if mode in ("LA", "RGBA", "P", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        flattened = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
        gray, _ = to_gray8(flattened.convert("RGB"))
        kind = "palette" if mode.startswith("P") else mode
        return gray, f"{kind} image converted to 8-bit gray (alpha composited onto black)"
    raise UnsupportedImageError(f"pixel format {mode!r} cannot be converted to 8-bit gray")


def _bit_depth(mode):
    return 32 if mode == "I" else 16


def resize_square(image, size, mode="stretch"):
    """Resize a mode-``L`` image to ``size x size`` by the documented method (see the module docstring)."""
    if mode not in RESIZE_MODES:
        raise ValueError(f"unknown resize mode {mode!r}; choose one of {', '.join(RESIZE_MODES)}")
    if image.mode != "L":
        raise ValueError(f"resize_square takes 8-bit gray (mode L) images, not mode {image.mode!r}")
    if mode == "center-crop":
        side = min(image.size)
        left = (image.width - side) // 2
        top = (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    return image.resize((size, size), Image.Resampling.BILINEAR)


def encode_png(image, compress_level=PNG_COMPRESS_LEVEL):
    """Encode a mode-``L`` image as PNG bytes with no metadata chunks, at zlib ``compress_level`` (0-9)."""
    if image.mode != "L":
        raise ValueError(f"encode_png writes 8-bit gray (mode L) images, not mode {image.mode!r}")
    bare = Image.frombytes("L", image.size, image.tobytes())
    buffer = io.BytesIO()
    bare.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def derive_png(gray_image, size, mode="stretch"):
    """The derived training-resolution PNG of an 8-bit gray image: resize, then encode."""
    return encode_png(resize_square(gray_image, size, mode))
