from django.core.management.base import BaseCommand, CommandError

from ratingsite.analysis.data import RATER_GROUPS
from ratingsite.analysis.reports import HYPE_RESAMPLES, ReportError, StudyReport
from ratingsite.core.lookup import by_id_or_name
from ratingsite.studies.models import Study


class Command(BaseCommand):
    help = (
        "Write a study's analysis: ratings.csv, attention.csv, repeats.csv, repeat_pairs.csv, images.csv, sets.csv, "
        "results.csv/json, settings.json, report.html and plots/ (the files the analysis page offers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("studies", nargs="+", help="study id or name; several are analysed together")
        parser.add_argument("--out", required=True, help="directory to write into (created if missing)")
        parser.add_argument("--raters", choices=list(RATER_GROUPS), default="all")
        parser.add_argument(
            "--min-attention",
            type=float,
            metavar="PERCENT",
            help="leave out raters who passed fewer than PERCENT of their attention checks (default: nobody)",
        )
        parser.add_argument("--resamples", type=int, default=HYPE_RESAMPLES, help="HYPE bootstrap resamples")
        parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")

    def handle(self, *args, studies, out, raters, min_attention, resamples, seed, **options):
        try:
            report = StudyReport(
                [by_id_or_name(Study.objects.all(), value, "study") for value in studies],
                raters,
                resamples=resamples,
                seed=seed,
                min_attention=min_attention,
            )
        except ReportError as error:
            raise CommandError(str(error)) from error
        written = report.write(out)
        self.stdout.write(f"Wrote {len(written)} files to {out}")
