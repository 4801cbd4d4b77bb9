"""Command line: ``python -m synthesis train ...`` and ``python -m synthesis generate ...``.

train     draws ``--train-images`` images from ``--data`` with ``--seed``, lists them in
          ``OUT/training_images.txt`` and trains (see `synthesis.training`). Rerunning the same command on
          the same ``--out`` resumes from the last resume checkpoint. Ctrl-C once stops after the current
          epoch with a resume checkpoint; twice aborts.
generate  writes ``-n`` PNGs from a ``snapshot_epochNNNN.pt`` to an empty ``--out`` directory.

Bad input ends the program with exit status 2 and one line on stderr.
"""

import argparse
import signal
import sys
from pathlib import Path

from tqdm import tqdm

from .config import TrainingConfig, resolve_device
from .data import choose_subset, list_images, load_images
from .generation import generate_images
from .training import train

DEFAULTS = TrainingConfig()


def main(argv=None):
    arguments = _parser().parse_args(argv)
    try:
        arguments.command(arguments)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        return 130
    return 0


def _train(arguments):
    if not 0 <= arguments.label_smoothing < 0.5:
        raise ValueError(
            f"--label-smoothing must be in [0, 0.5), e.g. 0.1 for real targets 0.9; not {arguments.label_smoothing}"
        )
    config = TrainingConfig(
        architecture=f"dcgan{arguments.size}",
        nz=arguments.nz,
        ngf=arguments.ngf,
        ndf=arguments.ndf,
        epochs=arguments.epochs,
        batch_size=arguments.batch_size,
        lr=arguments.lr,
        real_label=1.0 - arguments.label_smoothing,
        rotation_degrees=arguments.rotation,
        flip=not arguments.no_flip,
        resize_mode=arguments.resize_mode,
        train_images=arguments.train_images,
        seed=arguments.seed,
        snapshot_epochs=arguments.checkpoints or (arguments.epochs,),
        resume_every=arguments.resume_every,
        device=arguments.device,
    )
    paths = choose_subset(list_images(arguments.data), config.train_images, config.seed)
    images = load_images(paths, config.image_size, config.resize_mode)
    out_dir = Path(arguments.out)
    _record_training_images(out_dir / "training_images.txt", paths)

    stop_requested = []

    def request_stop(signum, frame):
        stop_requested.append(True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        tqdm.write("stopping after this epoch (Ctrl-C again to abort)")

    print(
        f"training {config.architecture} on {len(paths)} images, device {resolve_device(config.device)}",
        file=sys.stderr,
    )
    previous_handler = signal.signal(signal.SIGINT, request_stop)
    try:
        with tqdm(total=config.epochs, unit="epoch") as bar:

            def progress(epoch, epochs, record):
                bar.update(epoch - bar.n)
                bar.set_postfix(D=f"{record['d_loss']:.3f}", G=f"{record['g_loss']:.3f}", Dx=f"{record['d_real']:.2f}")

            history = train(config, images, out_dir, progress=progress, should_stop=lambda epoch: bool(stop_requested))
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    if len(history) < config.epochs:
        print(f"stopped after epoch {len(history)}; run the same command again to resume", file=sys.stderr)


def _record_training_images(list_file, paths):
    """Write the chosen image paths; a resumed run must have chosen the same ones."""
    listing = "".join(f"{path.resolve()}\n" for path in paths)
    if list_file.exists() and list_file.read_text() != listing:
        raise ValueError(f"{list_file.parent} holds a run trained on other images; use a new output directory")
    list_file.parent.mkdir(parents=True, exist_ok=True)
    list_file.write_text(listing)


def _generate(arguments):
    paths = generate_images(
        arguments.checkpoint, arguments.out, arguments.n, arguments.seed, resolve_device(arguments.device)
    )
    print(f"wrote {len(paths)} images to {arguments.out}", file=sys.stderr)


def _epoch_list(text):
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated epochs like 300,500, not {text!r}") from None


def _parser():
    parser = argparse.ArgumentParser(prog="python -m synthesis", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="command")

    training = commands.add_parser("train", help="train a DCGAN on a directory of images")
    training.set_defaults(command=_train)
    training.add_argument("--data", required=True, help="directory of training images")
    training.add_argument("--out", required=True, help="output directory (resumed if it holds a run)")
    training.add_argument("--size", type=int, choices=(64, 128), default=64, help="image side: dcgan64 or dcgan128")
    training.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    training.add_argument(
        "--train-images", type=int, help="size of the training subset drawn with --seed (default: all)"
    )
    training.add_argument("--checkpoints", type=_epoch_list, help="snapshot epochs, e.g. 300,500 (default: last epoch)")
    training.add_argument("--seed", type=int, default=DEFAULTS.seed)
    training.add_argument("--lr", type=float, default=DEFAULTS.lr)
    training.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    training.add_argument("--nz", type=int, default=DEFAULTS.nz, help="latent size")
    training.add_argument("--ngf", type=int, default=DEFAULTS.ngf, help="generator base width")
    training.add_argument("--ndf", type=int, default=DEFAULTS.ndf, help="discriminator base width")
    training.add_argument(
        "--label-smoothing", type=float, default=0.0, help="one-sided: 0.1 trains D on real targets 0.9 (default 0)"
    )
    training.add_argument(
        "--rotation", type=float, default=DEFAULTS.rotation_degrees, help="max augmentation rotation, degrees"
    )
    training.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    training.add_argument("--resize-mode", default=DEFAULTS.resize_mode, help="stretch or center-crop")
    training.add_argument(
        "--resume-every", type=int, default=DEFAULTS.resume_every, help="epochs between resume checkpoints"
    )
    training.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")

    generating = commands.add_parser("generate", help="write synthetic images from a snapshot")
    generating.set_defaults(command=_generate)
    generating.add_argument("--checkpoint", required=True, help="a snapshot_epochNNNN.pt written by train")
    generating.add_argument("-n", type=int, default=800, help="number of images (default 800)")
    generating.add_argument("--seed", type=int, default=0)
    generating.add_argument("--out", required=True, help="empty or new directory for the PNGs")
    generating.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    return parser


if __name__ == "__main__":
    sys.exit(main())
