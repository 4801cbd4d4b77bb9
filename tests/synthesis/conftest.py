"""Shared fixtures for the synthesis tests: tiny configs and images, so every training run takes well under a second."""

import pytest
import torch

from synthesis.config import TrainingConfig


@pytest.fixture(autouse=True)
def one_cpu_thread():
    """The test models are tiny: a second intra-op thread only adds waiting, badly so on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_config():
    """Factory of CPU configs small enough for tests: widths 8, batch 8, 3 epochs, snapshots at 2 and 3."""

    def make(**changes):
        values = dict(ngf=8, ndf=8, nz=16, epochs=3, batch_size=8, snapshot_epochs=(2, 3), resume_every=1, device="cpu")
        values.update(changes)
        return TrainingConfig(**values)

    return make


@pytest.fixture
def images64():
    """20 random uint8 images (20, 1, 64, 64): 2 full batches of 8 and one of 4, so the short last batch is exercised."""
    return torch.randint(0, 256, (20, 1, 64, 64), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


@pytest.fixture
def hc18_images(hc18_dir):
    return hc18_dir / "training_set_half"
