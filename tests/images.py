"""Small image helpers for the tests."""

import io

from PIL import Image


def png_bytes(pixels, mode=None):
    """A NumPy array written as a PNG by Pillow with its defaults."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def png_chunk_types(data):
    """The chunk types of a PNG file, in order."""
    types, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        types.append(data[offset + 4 : offset + 8].decode())
        offset += 12 + length
    return types


def hc18_folder(hc18_dir, folder, count):
    """A new ``folder`` holding copies of the first ``count`` half-size HC18 images (sorted by name)."""
    folder.mkdir()
    for path in sorted((hc18_dir / "training_set_half").glob("*.png"))[:count]:
        (folder / path.name).write_bytes(path.read_bytes())
    return folder
