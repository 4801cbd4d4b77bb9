from django.core.management.base import BaseCommand, CommandError

from ratingsite.analysis.data import RATER_GROUPS
from ratingsite.analysis.reports import HYPE_RESAMPLES, ReportError, StudyReport
from ratingsite.studies.models import Study


def study_argument(value):
    """A study by id or by exact name."""
    lookup = {"pk": int(value)} if value.isdigit() else {"name": value}
    matches = list(Study.objects.filter(**lookup)[:2])
    if len(matches) != 1:
        raise CommandError(f"{'No' if not matches else 'More than one'} study is called {value!r}; give its id.")
    return matches[0]


class Command(BaseCommand):
    help = (
        "Write a study's analysis: ratings.csv, images.csv, sets.csv, results.csv/json, settings.json, "
        "report.html and plots/ (the files the analysis page offers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("studies", nargs="+", help="study id or name; several are analysed together")
        parser.add_argument("--out", required=True, help="directory to write into (created if missing)")
        parser.add_argument("--raters", choices=list(RATER_GROUPS), default="all")
        parser.add_argument("--resamples", type=int, default=HYPE_RESAMPLES, help="HYPE bootstrap resamples")
        parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")

    def handle(self, *args, studies, out, raters, resamples, seed, **options):
        try:
            report = StudyReport([study_argument(value) for value in studies], raters, resamples=resamples, seed=seed)
        except ReportError as error:
            raise CommandError(str(error)) from error
        written = report.write(out)
        self.stdout.write(f"Wrote {len(written)} files to {out}")
