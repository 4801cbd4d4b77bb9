"""The DCGAN training loop: one plain function, `train`, with the paper's defaults and resumable checkpoints.

Per iteration, as in pytorch/examples dcgan: update D on a real batch and on a fake batch (logits,
``BCEWithLogitsLoss``, real targets ``real_label``), then update G to make D call the same fakes real
(target 1; label smoothing is one-sided, D only). Adam, lr 2e-4, betas (0.5, 0.999), batch 128.

Everything random during training (shuffling, augmentation, latent noise) is drawn from one
`torch.Generator` on the training device whose state is saved in the resume checkpoint, together with the
models, both optimisers, the global RNG states and the history. A run that is stopped and started again on
the same ``out_dir`` therefore continues exactly where it left off: on the CPU its losses and weights are
bit-identical to an uninterrupted run.

On CUDA the same code runs faster: the uint8 images stay on the GPU, augmentation is batched tensor work,
the forward passes use bf16 autocast, tensors are channels_last (also on the CPU, where it is measurably
faster for these convolutions) and Adam is the fused kernel.

Files written to ``out_dir``:

* ``snapshot_epochNNNN.pt`` at each of ``snapshot_epochs``: generator weights, config and epoch, which is
  all `synthesis.generation` needs; ``samples_epochNNNN.png`` next to it: a 3x3 grid of the first nine
  images that ``generate`` with seed 0 makes from that snapshot.
* ``resume.pt`` every ``resume_every`` epochs, when ``should_stop`` ends the run, and at the end, with
  ``history.json`` next to it: the history (per epoch: mean D loss, G loss, D(x) and D(G(z)) over the
  epoch's images) that the checkpoint holds, so its length is the epoch a resumed run goes on from
  (`resume_epoch`).
* ``history.csv``: the same history, a line appended as each epoch ends, so that it can be followed while
  the run trains (`read_history`) at the cost of one short write per epoch. A run that is killed leaves the
  epochs it trained after its last checkpoint in it; resuming cuts it back to the checkpoint's.
* ``losses.png`` at each snapshot and at the end.
* ``trainer.lock``: held (see `synthesis.locking`) by the process that trains in ``out_dir``, for as long as
  it does. A second trainer on the same directory is refused with `RunDirectoryBusy` rather than
  interleaving its checkpoints with the first one's; a trainer that dies, even by ``kill -9``, frees it.
"""

import csv
import io
import json
import os
import random
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import CHECKPOINT_HISTORY, HISTORY_FIELDS, HISTORY_LOG, resolve_device, sample_grid_path, snapshot_path
from .data import augment, seed_everything, to_unit_range
from .generation import SNAPSHOT_FORMAT, save_sample_grid
from .locking import LockHeld, file_lock
from .models import build_discriminator, build_generator
from .plots import plot_history

RESUME_FORMAT = "synthesis.dcgan-resume/1"
# Fields that may change between a run and its resumption without changing the result.
RESUMABLE_CHANGES = ("device", "resume_every")
TRAINER_LOCK = "trainer.lock"
RESUME_CHECKPOINT = "resume.pt"


class RunDirectoryBusy(ValueError):
    """Another live process is training in the run directory."""


def train(config, images, out_dir, progress=None, should_stop=None):
    """Train a DCGAN on ``images``, writing checkpoints to ``out_dir``; resume if ``out_dir`` holds a run.

    ``images``: uint8 tensor ``(n, 1, size, size)`` (from `data.load_images`), the whole training set;
    ``n`` must equal ``config.train_images`` when that is set. ``progress(epoch, epochs, record)`` is
    called after each epoch; ``should_stop(epoch)`` is asked after each epoch and, if true, the run saves a
    resume checkpoint and returns early. Returns the history: one dict per epoch with the keys of
    `HISTORY_FIELDS` (losses are the epoch's mean BCE; d_real, d_fake are mean D(x), D(G(z)) in [0, 1]).
    """
    _check_images(images, config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with file_lock(out_dir / TRAINER_LOCK, wait=False):
            return _train(config, images, out_dir, progress, should_stop)
    except LockHeld as held:
        raise RunDirectoryBusy(
            f"{out_dir} is being trained by another process (pid {held.holder}); "
            "wait for it to finish or stop it, then resume"
        ) from None


def _train(config, images, out_dir, progress, should_stop):
    device = resolve_device(config.device)
    on_cuda = device.type == "cuda"
    if on_cuda:
        torch.backends.cudnn.benchmark = True

    seed_everything(config.seed)
    generator = build_generator(config.architecture, config.nz, config.ngf)
    discriminator = build_discriminator(config.architecture, config.ndf)
    # Seeded from the global RNG rather than with config.seed itself, so its stream differs from the init's.
    rng = torch.Generator(device).manual_seed(int(torch.randint(2**62, ())))
    generator.to(device, memory_format=torch.channels_last)
    discriminator.to(device, memory_format=torch.channels_last)
    betas = (config.beta1, config.beta2)
    g_optimizer = torch.optim.Adam(generator.parameters(), config.lr, betas=betas, fused=on_cuda)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), config.lr, betas=betas, fused=on_cuda)
    state = (generator, discriminator, g_optimizer, d_optimizer)

    history = []
    resume_file = out_dir / RESUME_CHECKPOINT
    if resume_file.exists():
        history = _load_resume(resume_file, config, state, rng)
    _start_history_log(out_dir, history)
    images = images.to(device)

    for epoch in range(len(history) + 1, config.epochs + 1):
        record = {"epoch": epoch, **_train_epoch(config, images, state, rng, device)}
        history.append(record)
        _log_epoch(out_dir, record)
        if progress is not None:
            progress(epoch, config.epochs, record)
        if epoch in config.snapshot_epochs:
            _save_snapshot(out_dir, generator, config, epoch)
            plot_history(history, out_dir / "losses.png")
        stop = should_stop is not None and should_stop(epoch)
        if stop or epoch % config.resume_every == 0 or epoch == config.epochs:
            _save_resume(resume_file, config, state, rng, history)
            _save_checkpoint_history(out_dir, history)
        if stop:
            break
    plot_history(history, out_dir / "losses.png")
    return history


def _check_images(images, config):
    size = config.image_size
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8:
        raise ValueError("images must be a uint8 tensor (see synthesis.data.load_images)")
    if images.ndim != 4 or tuple(images.shape[1:]) != (1, size, size):
        raise ValueError(
            f"{config.architecture} trains on images of shape (n, 1, {size}, {size}), not {tuple(images.shape)}"
        )
    if images.shape[0] == 0:
        raise ValueError("no training images")
    if config.train_images is not None and images.shape[0] != config.train_images:
        raise ValueError(f"config asks for {config.train_images} training images but {images.shape[0]} were given")


def _train_epoch(config, images, state, rng, device):
    """One pass over ``images`` in a random order; returns the epoch's means (one device sync, at the end)."""
    generator, discriminator, g_optimizer, d_optimizer = state
    criterion = nn.BCEWithLogitsLoss()
    count = images.shape[0]
    order = torch.randperm(count, device=device, generator=rng)
    # Sums of batch mean x batch size for d_loss, g_loss, D(x), D(G(z)); kept on the device to avoid syncs.
    totals = torch.zeros(4, device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    for start in range(0, count, config.batch_size):
        pixels = images[order[start : start + config.batch_size]]
        real = augment(to_unit_range(pixels), rng, config.rotation_degrees, config.flip)
        real = real.contiguous(memory_format=torch.channels_last)
        batch_size = real.shape[0]  # the epoch's last batch may be short
        noise = torch.randn(batch_size, config.nz, 1, 1, device=device, generator=rng)
        real_targets = torch.full((batch_size,), config.real_label, device=device)
        fake_targets = torch.zeros(batch_size, device=device)

        with autocast:
            real_logits = discriminator(real)
            fake = generator(noise)
            fake_logits = discriminator(fake.detach())
            d_loss = criterion(real_logits, real_targets) + criterion(fake_logits, fake_targets)
        d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        d_optimizer.step()

        # G's step needs gradients through D, not for D's weights; skipping those halves this backward pass.
        discriminator.requires_grad_(False)
        with autocast:
            g_loss = criterion(discriminator(fake), torch.ones(batch_size, device=device))
        g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        g_optimizer.step()
        discriminator.requires_grad_(True)

        batch_means = torch.stack(
            [
                d_loss.detach(),
                g_loss.detach(),
                torch.sigmoid(real_logits.detach().float()).mean(),
                torch.sigmoid(fake_logits.detach().float()).mean(),
            ]
        )
        totals += batch_means.float() * batch_size
    d_loss, g_loss, d_real, d_fake = (totals / count).tolist()
    return {"d_loss": d_loss, "g_loss": g_loss, "d_real": d_real, "d_fake": d_fake}


def _cpu_state(module):
    return {name: tensor.detach().cpu().contiguous() for name, tensor in module.state_dict().items()}


def _save_snapshot(out_dir, generator, config, epoch):
    path = snapshot_path(out_dir, epoch)
    snapshot = {
        "format": SNAPSHOT_FORMAT,
        "config": config.to_dict(),
        "epoch": epoch,
        "generator": _cpu_state(generator),
    }
    _atomic_save(snapshot, path)
    save_sample_grid(generator, config.to_dict(), sample_grid_path(out_dir, epoch))


def _save_resume(path, config, state, rng, history):
    generator, discriminator, g_optimizer, d_optimizer = state
    checkpoint = {
        "format": RESUME_FORMAT,
        "config": config.to_dict(),
        "epoch": len(history),
        "history": history,
        "generator": _cpu_state(generator),
        "discriminator": _cpu_state(discriminator),
        "g_optimizer": g_optimizer.state_dict(),
        "d_optimizer": d_optimizer.state_dict(),
        "training_rng": rng.get_state(),
        "python_rng": random.getstate(),
        "numpy_rng": np.random.get_state(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }
    _atomic_save(checkpoint, path)


def _load_resume(path, config, state, rng):
    """Restore models, optimisers and RNG states from ``path``; returns the history so far."""
    saved_run = torch.load(path, map_location="cpu", weights_only=False)
    if saved_run.get("format") != RESUME_FORMAT:
        raise ValueError(f"{path} is not a resume checkpoint of this tool")
    saved, wanted = dict(saved_run["config"]), config.to_dict()
    for name in RESUMABLE_CHANGES:
        saved.pop(name, None)
        wanted.pop(name)
    differing = sorted(name for name in wanted if saved.get(name) != wanted[name])
    if differing:
        details = ", ".join(f"{name} {saved.get(name)!r} -> {wanted[name]!r}" for name in differing)
        raise ValueError(f"{path.parent} holds a run with a different config ({details}); use a new output directory")
    generator, discriminator, g_optimizer, d_optimizer = state
    generator.load_state_dict(saved_run["generator"])
    discriminator.load_state_dict(saved_run["discriminator"])
    g_optimizer.load_state_dict(saved_run["g_optimizer"])
    d_optimizer.load_state_dict(saved_run["d_optimizer"])
    rng.set_state(saved_run["training_rng"])
    random.setstate(saved_run["python_rng"])
    np.random.set_state(saved_run["numpy_rng"])
    torch.set_rng_state(saved_run["torch_rng"])
    if saved_run["cuda_rng"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(saved_run["cuda_rng"][: torch.cuda.device_count()])
    return saved_run["history"]


def _save_checkpoint_history(out_dir, history):
    # Replaced whole, never rewritten in place: a reader (the run page, the job's reconciliation with the
    # files) may look at any moment, and a trainer may be killed at any moment.
    _atomic_write_text(out_dir / CHECKPOINT_HISTORY, json.dumps(history, indent=1) + "\n")


def _start_history_log(out_dir, history):
    """Begin the log with the history a run starts from (the resume checkpoint's, or none)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=HISTORY_FIELDS)
    writer.writeheader()
    writer.writerows(history)
    _atomic_write_text(out_dir / HISTORY_LOG, text.getvalue())


def _log_epoch(out_dir, record):
    # Appended, not rewritten: the whole history would cost a write that grows with every epoch.
    with open(out_dir / HISTORY_LOG, "a", newline="") as file:
        csv.DictWriter(file, fieldnames=HISTORY_FIELDS).writerow(record)


def _atomic_write_text(path, text):
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", newline="") as file:
        file.write(text)
    os.replace(temporary, path)


def _atomic_save(obj, path):
    """Write via a temporary file so an interrupted save never leaves a truncated checkpoint behind."""
    temporary = path.with_name(path.name + ".tmp")
    torch.save(obj, temporary)
    os.replace(temporary, path)
