from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ratingsite.training.grids import create_grid
from ratingsite.training.management.commands.train import (
    image_set_argument,
    number_list,
)
from ratingsite.training.models import (
    DEFAULT_IMAGES_PER_SET,
    PAPER_SNAPSHOT_EPOCHS,
    PAPER_SUBSET_SIZES,
)
from synthesis.config import ARCHITECTURES


class Command(BaseCommand):
    help = (
        "Queue the reference study's experiment grid: one training run per subset size (and learning rate), "
        "snapshots along the way, and a synthetic set generated from every snapshot."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="Real image set id or name.")
        parser.add_argument("--name", default="Reference study grid")
        parser.add_argument("--architecture", choices=list(ARCHITECTURES), default="dcgan64")
        parser.add_argument("--subset-sizes", type=number_list(int), default=list(PAPER_SUBSET_SIZES))
        parser.add_argument("--snapshots", type=number_list(int), default=list(PAPER_SNAPSHOT_EPOCHS))
        parser.add_argument("--learning-rates", type=number_list(float), default=[2e-4])
        parser.add_argument("--images-per-set", type=int, default=DEFAULT_IMAGES_PER_SET)
        parser.add_argument("--batch-size", type=int, default=128)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        try:
            grid = create_grid(
                name=options["name"],
                dataset=image_set_argument(options["dataset"]),
                architecture=options["architecture"],
                subset_sizes=options["subset_sizes"],
                snapshot_epochs=options["snapshots"],
                learning_rates=options["learning_rates"],
                images_per_set=options["images_per_set"],
                batch_size=options["batch_size"],
                seed=options["seed"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        runs = grid.runs.count()
        sets = runs * len(grid.snapshot_epochs)
        self.stdout.write(
            self.style.SUCCESS(
                f"Grid #{grid.pk}: {runs} training runs queued; {sets} sets of {grid.images_per_set} "
                "images will be generated as they finish."
            )
        )
