"""The derived images of a set (or of any images) as the metrics see them: an `evaluation.images.ImagePixels`."""

from pathlib import Path

from django.conf import settings
from PIL import Image as PILImage

from evaluation.images import pixels_from_pil
from ratingsite.imagesets.models import DerivedImage


def load_for_evaluation(image_set, size):
    """The set's derived images at ``size`` as an `evaluation.images.ImagePixels` named by image id."""
    loaded = load_derived(image_set.images.all(), size, image_set.resize_mode)
    if not len(loaded):
        raise ValueError(f"{image_set.name} has no {size} x {size} images to measure.")
    return loaded


def load_derived(images, size, resize_mode):
    """The derived versions at ``size`` of ``images`` (a queryset), in image id order, as the metrics see them."""
    derived = list(
        DerivedImage.objects.filter(image__in=images, size=size).order_by("image_id").values_list("image_id", "file")
    )

    def decoded():
        for _, name in derived:
            with PILImage.open(Path(settings.MEDIA_ROOT, name)) as image:
                image.load()
                yield image

    return pixels_from_pil(decoded(), size, names=[str(image_id) for image_id, _ in derived], resize_mode=resize_mode)
