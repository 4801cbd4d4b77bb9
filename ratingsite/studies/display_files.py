"""The files a study's raters see: one encoder for every image, and a study opened only if all are one size."""

import io

from PIL import Image as PILImage

from ratingsite.imagesets.models import DerivedImage
from ratingsite.studies.models import Study
from synthesis.preprocessing import encode_png


def display_png(derived_file, display_size):
    """The file raters see: the derived image scaled to ``display_size`` by bicubic resampling, one encoder.

    Every image, real or synthetic, goes through exactly this, so files differ only in their pixels. They
    are stored without compression: a compressed file's size follows its content (noise-like synthetic
    images compress worse than real ones), so the size alone, which any browser shows, told the truth.
    """
    with PILImage.open(derived_file) as image:
        shown = image.convert("L").resize((display_size, display_size), PILImage.Resampling.BICUBIC)
    return encode_png(shown, compress_level=0)


def write_display_files(study, items, save):
    """Make each item's file (named by its token) and open the study if all files are of one size.

    Refuses, with a message for the job, a study whose files differ in size: ``Content-Length`` would
    then tell real from synthetic.
    """
    derived = DerivedImage.objects.filter(image_id__in=[item.image_id for item in items], size=study.resolution)
    files = {image.image_id: image.file for image in derived}
    sizes = set()
    for item in items:
        with files[item.image_id].open("rb") as source:
            data = display_png(io.BytesIO(source.read()), study.display_size)
        item.file = save(f"studies/{study.pk}/{item.token}.png", data)
        sizes.add(len(data))
        yield item
    if len(sizes) > 1:
        raise ValueError(
            f"The study's files are {min(sizes)} to {max(sizes)} bytes: their size would tell real from synthetic "
            "images, so the study is not opened."
        )
    study.file_bytes = sizes.pop() if sizes else None
    Study.objects.filter(pk=study.pk).update(file_bytes=study.file_bytes)
