import io
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from synthesis.config import snapshot_path
from synthesis.generation import generate_images, generate_pixels, load_snapshot, sample_grid
from synthesis.preprocessing import encode_png
from synthesis.training import train


@pytest.fixture
def snapshot(tmp_path, make_config, images64):
    train(make_config(epochs=2, snapshot_epochs=(2,)), images64, tmp_path / "run")
    return snapshot_path(tmp_path / "run", 2)


def png_chunks(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        chunks.append((data[offset + 4 : offset + 8].decode("ascii"), data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def test_generated_pngs_are_bare_8bit_gray_from_the_shared_encoder(tmp_path, snapshot):
    paths = generate_images(snapshot, tmp_path / "out", count=12, seed=0)
    assert [path.name for path in paths] == [f"{index:04d}.png" for index in range(12)]
    assert sorted(tmp_path.joinpath("out").iterdir()) == paths
    for path in paths:
        data = path.read_bytes()
        chunks = png_chunks(data)
        assert {name for name, _ in chunks} == {"IHDR", "IDAT", "IEND"}
        width, height, bit_depth, colour_type = struct.unpack(">IIBB", chunks[0][1][:10])
        assert (width, height, bit_depth, colour_type) == (64, 64, 8, 0)
        with Image.open(io.BytesIO(data)) as image:
            assert image.mode == "L" and image.size == (64, 64)
            assert encode_png(image) == data


def test_same_seed_same_images_and_prefix_stable(tmp_path, snapshot):
    first = generate_images(snapshot, tmp_path / "a", count=10, seed=3)
    again = generate_images(snapshot, tmp_path / "b", count=10, seed=3)
    longer = generate_images(snapshot, tmp_path / "c", count=20, seed=3)
    other = generate_images(snapshot, tmp_path / "d", count=10, seed=4)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again] == [p.read_bytes() for p in longer[:10]]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]
    assert len({p.read_bytes() for p in first}) == 10


def test_training_grid_shows_the_first_nine_images_of_seed_0(tmp_path, snapshot):
    paths = generate_images(snapshot, tmp_path / "out", count=9, seed=0)
    tiles = torch.stack([torch.from_numpy(np.array(Image.open(path)))[None] for path in paths])
    expected = encode_png(sample_grid(tiles))
    assert (snapshot.parent / "samples_epoch0002.png").read_bytes() == expected
    with Image.open(snapshot.parent / "samples_epoch0002.png") as grid:
        assert grid.size == (3 * 64 + 4 * 2,) * 2


def test_generation_leaves_the_model_unchanged(snapshot):
    generator, config, epoch = load_snapshot(snapshot)
    assert epoch == 2 and config["architecture"] == "dcgan64"
    before = {name: tensor.clone() for name, tensor in generator.state_dict().items()}
    pixels = generate_pixels(generator, config, 5, seed=0)
    assert pixels.dtype == torch.uint8 and pixels.shape == (5, 1, 64, 64)
    assert all(torch.equal(before[name], tensor) for name, tensor in generator.state_dict().items())


def test_bad_generation_requests_are_refused(tmp_path, snapshot):
    generate_images(snapshot, tmp_path / "out", count=2)
    with pytest.raises(ValueError, match="already contains PNG files"):
        generate_images(snapshot, tmp_path / "out", count=2)
    with pytest.raises(ValueError, match="not a generator snapshot"):
        generate_images(snapshot.parent / "resume.pt", tmp_path / "other")
    with pytest.raises(ValueError, match="does not exist"):
        generate_images(tmp_path / "missing.pt", tmp_path / "other")
    with pytest.raises(ValueError, match="must be positive"):
        generate_images(snapshot, tmp_path / "other", count=0)
