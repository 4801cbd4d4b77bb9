"""The one way images enter the evaluation: 8-bit gray, resized to the matched resolution.

Every image, real or synthetic and whatever its native size or pixel format, goes through
`synthesis.preprocessing.to_gray8` and then `synthesis.preprocessing.resize_square(image, size, mode)`.
An image already ``size x size`` and gray passes through unchanged (Pillow returns a copy when the size
does not change), so generator outputs saved at the training resolution are measured as they are; a
synthetic image of another size or aspect ratio is resized exactly like a real one (``stretch`` by
default). After this step every image of both sets has the same ``size x size`` shape, so no metric
ever sees mismatched sizes.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from synthesis.preprocessing import (
    IMAGE_SUFFIXES,
    RESIZE_MODES,
    TRAINING_SIZES,
    UnsupportedImageError,
    resize_square,
    to_gray8,
)


class EvaluationInputError(ValueError):
    """The images or options given to the evaluation cannot be measured; the message says why in one line."""


@dataclass(frozen=True)
class ImagePixels:
    """The decoded pixels of a set of images, as the metrics see them.

    ``pixels``: uint8 array ``(N, size, size)`` at the matched resolution; ``names`` label the images.

    ``conversion_notes`` counts how many images `to_gray8` changed and how ("" notes are not counted).
    """

    pixels: np.ndarray
    names: tuple
    resize_mode: str = "stretch"
    conversion_notes: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.pixels.dtype != np.uint8 or self.pixels.ndim != 3 or self.pixels.shape[1] != self.pixels.shape[2]:
            raise EvaluationInputError(
                f"pixels must be uint8 (N, size, size), got {self.pixels.dtype} {self.pixels.shape}"
            )
        if len(self.names) != len(self.pixels):
            raise EvaluationInputError(f"{len(self.names)} names for {len(self.pixels)} images")

    def __len__(self):
        return len(self.pixels)

    @property
    def size(self):
        return self.pixels.shape[1]

    def image_sha256s(self):
        """sha256 of each image's matched-resolution pixels (row-major uint8 bytes): what the metrics see."""
        return [hashlib.sha256(image.tobytes()).hexdigest() for image in self.pixels]


def pixels_from_pil(images, size, names=None, resize_mode="stretch"):
    """An `ImagePixels` from decoded PIL images of any size and pixel format (the API for callers that hold images)."""
    _check_options(size, resize_mode)
    images = list(images)
    names = tuple(names) if names is not None else tuple(str(index) for index in range(len(images)))
    notes = {}
    pixels = np.empty((len(images), size, size), dtype=np.uint8)
    for index, (image, name) in enumerate(zip(images, names, strict=True)):
        try:
            gray, note = to_gray8(image)
        except UnsupportedImageError as error:
            raise EvaluationInputError(f"{name}: {error}") from None
        if note:
            notes[note] = notes.get(note, 0) + 1
        pixels[index] = np.asarray(resize_square(gray, size, resize_mode))
    return ImagePixels(pixels=pixels, names=names, resize_mode=resize_mode, conversion_notes=notes)


def load_image_folder(folder, size, resize_mode="stretch", progress=False):
    """Every image file under ``folder`` (recursively, sorted by relative path) as an `ImagePixels`.

    Raises `EvaluationInputError` for a missing folder, a folder with no image files, or a file that is
    not a readable image.
    """
    folder = Path(folder)
    _check_options(size, resize_mode)
    if not folder.is_dir():
        raise EvaluationInputError(f"{folder} is not a folder")
    paths = sorted(path for path in folder.rglob("*") if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise EvaluationInputError(f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
    names = tuple(str(path.relative_to(folder)) for path in paths)

    def decoded():
        for path in tqdm(paths, desc=f"load {folder.name}", unit="img", disable=not progress, leave=False):
            try:
                with Image.open(path) as image:
                    image.load()
                    yield image
            except (UnidentifiedImageError, OSError) as error:
                raise EvaluationInputError(f"{path}: not a readable image ({error})") from None

    return pixels_from_pil(decoded(), size, names=names, resize_mode=resize_mode)


def _check_options(size, resize_mode):
    if size not in TRAINING_SIZES:
        raise EvaluationInputError(f"size must be one of the training resolutions {TRAINING_SIZES}, not {size}")
    if resize_mode not in RESIZE_MODES:
        raise EvaluationInputError(f"resize mode must be one of {RESIZE_MODES}, not {resize_mode!r}")
