"""What describes a training run, without torch: the architectures, `TrainingConfig` and the names of a
run directory's files.

The site's models and forms are made of these and every page imports them, so this module imports torch
only inside `resolve_device`, where a `TrainingConfig` is made or checked: a trainer, a generator, a form.
"""

import csv
import dataclasses
import json
from pathlib import Path

from .preprocessing import RESIZE_MODES

ARCHITECTURES = {"dcgan64": 64, "dcgan128": 128}
HISTORY_FIELDS = ("epoch", "d_loss", "g_loss", "d_real", "d_fake")
# The resume checkpoint's history (replaced with the checkpoint) and the log of every epoch (appended as each
# one ends), in a run directory.
CHECKPOINT_HISTORY = "history.json"
HISTORY_LOG = "history.csv"


def image_size_of(architecture):
    """The side in pixels of the images an architecture (``"dcgan64"``/``"dcgan128"``) makes."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[architecture]


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Everything that determines a training run. ``image_size`` follows from ``architecture``.

    ``real_label`` is D's target for real images (1.0 = no smoothing, 0.9 = one-sided smoothing of 0.1).
    ``rotation_degrees`` is the largest augmentation rotation either way; ``flip`` mirrors left-right with
    p = 0.5. ``train_images`` is the size of the training subset (``None``: all images given).
    ``device`` is ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    """

    architecture: str = "dcgan64"
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    epochs: int = 1000
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    real_label: float = 1.0
    rotation_degrees: float = 10.0
    flip: bool = True
    resize_mode: str = "stretch"
    train_images: int | None = None
    seed: int = 0
    snapshot_epochs: tuple[int, ...] = (300, 500, 800, 1000)
    resume_every: int = 10
    device: str = "auto"

    def __post_init__(self):
        object.__setattr__(self, "snapshot_epochs", tuple(sorted(set(self.snapshot_epochs))))
        image_size_of(self.architecture)
        for name in ("nz", "ngf", "ndf", "epochs", "batch_size", "resume_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, not {getattr(self, name)}")
        if self.train_images is not None and self.train_images < 1:
            raise ValueError(f"train_images must be positive, not {self.train_images}")
        if not self.snapshot_epochs or self.snapshot_epochs[0] < 1:
            raise ValueError(f"snapshot epochs must be positive, not {list(self.snapshot_epochs)}")
        if self.epochs < self.snapshot_epochs[-1]:
            raise ValueError(
                f"{self.epochs} epochs never reach snapshot epoch {self.snapshot_epochs[-1]}; "
                f"train for at least {self.snapshot_epochs[-1]} epochs or drop that snapshot"
            )
        if not 0 < self.lr or not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError(f"need lr > 0 and betas in [0, 1), not lr={self.lr}, betas=({self.beta1}, {self.beta2})")
        if not 0.5 < self.real_label <= 1:
            raise ValueError(f"real_label must be in (0.5, 1], not {self.real_label}")
        if not 0 <= self.rotation_degrees <= 180:
            raise ValueError(f"rotation_degrees must be in [0, 180], not {self.rotation_degrees}")
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(f"unknown resize mode {self.resize_mode!r}; choose one of {', '.join(RESIZE_MODES)}")
        resolve_device(self.device)

    @property
    def image_size(self):
        return image_size_of(self.architecture)

    def to_dict(self):
        return dataclasses.asdict(self)


def resolve_device(name):
    """``"auto"`` -> CUDA if available, else CPU; anything else must name a usable torch device."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use auto, cpu or cuda[:N]") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but CUDA is not available here")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r} is not supported; use auto, cpu or cuda[:N]")
    return device


def snapshot_path(out_dir, epoch):
    return Path(out_dir) / f"snapshot_epoch{epoch:04d}.pt"


def sample_grid_path(out_dir, epoch):
    return Path(out_dir) / f"samples_epoch{epoch:04d}.png"


def read_history(out_dir):
    """Every epoch trained in ``out_dir`` so far, as `train` returns them ([] before the first one ends).

    Read from ``history.csv`` while a trainer may be appending to it: a line not yet complete is left out.
    """
    try:
        lines = (Path(out_dir) / HISTORY_LOG).read_text().splitlines(keepends=True)
    except FileNotFoundError:
        return []
    complete = [line for line in lines[1:] if line.endswith("\n")]
    return [
        {name: int(value) if name == "epoch" else float(value) for name, value in row.items()}
        for row in csv.DictReader(complete, fieldnames=HISTORY_FIELDS)
    ]


def resume_epoch(out_dir):
    """The epoch that training in ``out_dir`` goes on from: the last one its resume checkpoint holds (0: none)."""
    path = Path(out_dir) / CHECKPOINT_HISTORY
    return len(json.loads(path.read_text())) if path.is_file() else 0
