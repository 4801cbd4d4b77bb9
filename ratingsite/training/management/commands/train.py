from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ratingsite.core.lookup import by_id_or_name
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.tracking import progress_bar
from ratingsite.training import jobs
from ratingsite.training.models import PAPER_SNAPSHOT_EPOCHS, TrainingRun
from synthesis.config import ARCHITECTURES


def number_list(number_type):
    def parse(text):
        return [number_type(item) for item in text.split(",") if item.strip()]

    return parse


def image_set_argument(value):
    """An image set by id or by exact name."""
    return by_id_or_name(ImageSet.objects.all(), value, "image set")


class Command(BaseCommand):
    help = "Train a DCGAN on a real image set; in the foreground with a progress bar, or --background as an rq job."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="Real image set id or name.")
        parser.add_argument("--architecture", choices=list(ARCHITECTURES), default="dcgan64")
        parser.add_argument("--train-images", type=int, required=True, help="Training subset size.")
        parser.add_argument("--epochs", type=int, default=max(PAPER_SNAPSHOT_EPOCHS))
        parser.add_argument(
            "--checkpoints",
            type=number_list(int),
            default=list(PAPER_SNAPSHOT_EPOCHS),
            help="Snapshot epochs, e.g. 300,500,800,1000.",
        )
        parser.add_argument("--lr", type=float, default=2e-4)
        parser.add_argument("--batch-size", type=int, default=128)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--real-label", type=float, default=1.0)
        parser.add_argument(
            "--images-per-snapshot",
            type=int,
            default=0,
            help="Generate a synthetic set of this many images from each snapshot.",
        )
        parser.add_argument("--name")
        parser.add_argument("--background", action="store_true")

    def handle(self, *args, **options):
        dataset = image_set_argument(options["dataset"])
        run = TrainingRun(
            name=options["name"]
            or f"{options['architecture']}, {options['train_images']} images, lr {options['lr']:g}",
            dataset=dataset,
            architecture=options["architecture"],
            train_images=options["train_images"],
            epochs=options["epochs"],
            snapshot_epochs=options["checkpoints"],
            lr=options["lr"],
            batch_size=options["batch_size"],
            seed=options["seed"],
            real_label=options["real_label"],
            images_per_snapshot=options["images_per_snapshot"],
        )
        try:
            run.full_clean()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        run.save()
        if options["background"]:
            job = jobs.enqueue_training(run)
            self.stdout.write(f"Training run #{run.pk} queued as job #{job.pk} on the {job.queue} queue.")
            return
        with progress_bar(unit="epoch") as report_progress:
            outcome = jobs.run_training(run, report_progress)
        self.stdout.write(self.style.SUCCESS(outcome.message) + f" (training run #{run.pk}, files in {run.out_dir})")
