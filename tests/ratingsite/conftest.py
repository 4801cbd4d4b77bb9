import pytest

from ratingsite.imagesets.importing import import_image_set


@pytest.fixture
def real_set(hc18_dir, tmp_path):
    """The first 24 half-size HC18 images, imported as a real set named "HC18 24"."""
    folder = tmp_path / "real"
    folder.mkdir()
    for path in sorted((hc18_dir / "training_set_half").glob("*.png"))[:24]:
        (folder / path.name).write_bytes(path.read_bytes())
    return import_image_set(folder, name="HC18 24").image_set
