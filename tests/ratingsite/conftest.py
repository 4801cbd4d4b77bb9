import pytest

from ratingsite.imagesets.importing import import_image_set
from tests.factories import ImageSetFactory
from tests.images import hc18_folder


@pytest.fixture
def real_set(hc18_dir, tmp_path):
    """The first 24 half-size HC18 images, imported as a real set named "HC18 24"."""
    folder = hc18_folder(hc18_dir, tmp_path / "real", 24)
    return import_image_set(folder, name="HC18 24").image_set


@pytest.fixture
def real_set_rows():
    """A real set named "HC18 24" of 24 stand-in images, for tests where only its rows count (`real_set` where
    the pixels do)."""
    return ImageSetFactory(name="HC18 24", images=24)
