"""Training throughput: the project's `synthesis.training.train` against a seed-style reference loop.

The reference is the pytorch/examples DCGAN recipe as the reference study ran it: PNG files decoded in a
DataLoader with 2 workers through torchvision ``Resize((s, s))``, ``RandomHorizontalFlip``,
``RandomRotation(10)``, ``ToTensor``, ``Normalize``; fp32 networks (the same DCGAN layers, D ending in
Sigmoid), ``BCELoss``, default Adam, and the examples' update order. Both loops run in this process on one
device, batch 128, on the same images, and are timed after an untimed warm-up round.

A round is ``--iterations`` iterations: the project trains epochs over the first ``iterations x 128`` of
the images (all of them once that exceeds the set), the reference draws that many batches from its
DataLoader. Rounds repeat until ``--seconds`` of timed work (at least one round). With ``--repeats`` the two
measurements alternate that many times and the best rate of each counts, which filters out other load on
a shared machine. The project's one-off cost of decoding the images into memory is printed separately.

From the measured rates it projects the wall time of the paper's grid: five runs of 1000 epochs on 100,
300, 500, 800 and 999 images, plus 800 generated images from each of 20 snapshots.

    python bench/train_throughput.py --device cpu --iterations 2          # ~3 minutes on 2 CPU cores
    python bench/train_throughput.py --device cuda --iterations 8 --seconds 20
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from synthesis.config import TrainingConfig, resolve_device  # noqa: E402
from synthesis.data import list_images, load_images  # noqa: E402
from synthesis.generation import generate_pixels  # noqa: E402
from synthesis.models import build_discriminator, build_generator  # noqa: E402
from synthesis.training import train  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "hc18" / "training_set_half"
BATCH_SIZE = 128
GRID_SUBSETS = (100, 300, 500, 800, 999)
GRID_EPOCHS = 1000
GRID_SNAPSHOTS = 20
GENERATED_PER_SNAPSHOT = 800


def project_rate(paths, size, device, iterations, seconds):
    """Images per second of `train`, timed from the end of its first (warm-up) epoch to the end of its last."""
    start = time.perf_counter()
    images = load_images(paths, size)
    load_seconds = time.perf_counter() - start
    images = images[: iterations * BATCH_SIZE]
    epoch_ends = []

    def should_stop(epoch):
        epoch_ends.append(time.perf_counter())
        return epoch >= 2 and epoch_ends[-1] - epoch_ends[0] >= seconds

    many = 10**6
    config = TrainingConfig(
        architecture=f"dcgan{size}",
        epochs=many,
        batch_size=BATCH_SIZE,
        snapshot_epochs=(many,),
        resume_every=many,
        device=str(device),
    )
    with tempfile.TemporaryDirectory() as out_dir:
        train(config, images, out_dir, should_stop=should_stop)
    timed_epochs = len(epoch_ends) - 1
    return timed_epochs * len(images) / (epoch_ends[-1] - epoch_ends[0]), load_seconds


class ReferenceDataset(torch.utils.data.Dataset):
    def __init__(self, paths, size):
        self.paths = paths
        self.transform = transforms.Compose(
            [
                transforms.Resize((size, size)),
                transforms.RandomHorizontalFlip(),
                transforms.RandomRotation(10),
                transforms.ToTensor(),
                transforms.Normalize((0.5,), (0.5,)),
            ]
        )

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        with Image.open(self.paths[index]) as image:
            return self.transform(image.convert("L"))


def reference_rate(paths, size, device, iterations, seconds):
    """Images per second of the pytorch/examples loop fed by a 2-worker DataLoader over the PNG files."""
    architecture = f"dcgan{size}"
    netG = build_generator(architecture).to(device)
    netD = nn.Sequential(build_discriminator(architecture), nn.Sigmoid()).to(device)
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = torch.utils.data.DataLoader(
        ReferenceDataset(paths, size), batch_size=BATCH_SIZE, shuffle=True, num_workers=2
    )

    def batches():
        while True:
            yield from loader

    losses = []

    def iteration(data):
        netD.zero_grad()
        real = data.to(device)
        b_size = real.size(0)
        label = torch.full((b_size,), 1.0, device=device)
        output = netD(real).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        noise = torch.randn(b_size, 100, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(0.0)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        optimizerD.step()
        netG.zero_grad()
        label.fill_(1.0)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        # The examples loop logs the losses every iteration, which syncs the device each time.
        losses.append(((errD_real + errD_fake).item(), errG.item()))
        return b_size

    source = batches()
    for _ in range(iterations):
        iteration(next(source))
    images, start = 0, time.perf_counter()
    while True:
        for _ in range(iterations):
            images += iteration(next(source))
        if time.perf_counter() - start >= seconds:
            return images / (time.perf_counter() - start)


def generation_rate(size, device):
    """Images per second of `generation.generate_pixels` (including the copy to host memory)."""
    generator = build_generator(f"dcgan{size}").to(device)
    config = {"nz": 100, "batch_size": BATCH_SIZE}
    generate_pixels(generator, config, BATCH_SIZE, seed=0)
    start = time.perf_counter()
    count = 2 * BATCH_SIZE
    generate_pixels(generator, config, count, seed=0)
    return count / (time.perf_counter() - start)


def hours(seconds):
    return f"{seconds / 3600:.1f} h"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="directory of training PNGs (default: HC18 half-size)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--sizes", default="64,128", help="comma-separated image sizes")
    parser.add_argument("--iterations", type=int, default=8, help="iterations per round (default 8)")
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="minimum timed seconds per loop (default: one round)"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="alternate the two loops this often; report the best rates"
    )
    arguments = parser.parse_args()

    device = resolve_device(arguments.device)
    paths = list_images(arguments.data)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"device {device} ({name}), torch {torch.__version__}, {len(paths)} images, batch {BATCH_SIZE}, best of {arguments.repeats}"
    )
    for size in (int(part) for part in arguments.sizes.split(",")):
        ours, reference = [], []
        for _ in range(arguments.repeats):
            torch.manual_seed(0)
            rate, load_seconds = project_rate(paths, size, device, arguments.iterations, arguments.seconds)
            ours.append(rate)
            reference.append(reference_rate(paths, size, device, arguments.iterations, arguments.seconds))
        # Other load on the machine only ever slows a loop down, so the best of the repeats is the estimate.
        ours, reference = max(ours), max(reference)
        generated = generation_rate(size, device)
        grid_training = sum(GRID_SUBSETS) * GRID_EPOCHS
        grid_generated = GRID_SNAPSHOTS * GENERATED_PER_SNAPSHOT
        print(
            f"{size}x{size}: project {ours:.1f} img/s (images loaded once in {load_seconds:.1f} s), "
            f"reference {reference:.1f} img/s, ratio {ours / reference:.2f}x"
        )
        print(
            f"  paper grid ({grid_training:,} training images, {grid_generated:,} generated at {generated:.0f} img/s): "
            f"project {hours(grid_training / ours + grid_generated / generated)}, "
            f"reference {hours(grid_training / reference + grid_generated / generated)}"
        )


if __name__ == "__main__":
    main()
