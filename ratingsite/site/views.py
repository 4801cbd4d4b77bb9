"""The site's home page: a researcher's steps of a study over every app's work, a rater's studies."""

from dataclasses import dataclass, field

from django.db.models import Max
from django.urls import reverse
from django.views.generic import TemplateView

from ratingsite.accounts.models import is_researcher
from ratingsite.imagesets.models import Image, ImageSet
from ratingsite.jobs.models import Job, with_outputs
from ratingsite.metrics.models import Evaluation
from ratingsite.studies.models import Participation, Rating, Study
from ratingsite.training.models import TrainingRun


def counted(count, noun, plural=None):
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


@dataclass
class Step:
    """One step of a study on the home page: what the researcher has done of it, and what to do next."""

    key: str
    title: str
    status: str
    done: bool
    actions: list = field(default_factory=list)  # (label, url), the first the one to take
    hint: str = ""


def study_steps(user):
    """The steps of a study (import, train or upload, score, study, analyse) over the work ``user`` sees.

    Sets and runs count as the user sees them (they train on and compare with any set they see); studies as
    they may change them, since only those they invite raters to and analyse.
    """
    sets = ImageSet.visible_to(user)
    real, synthetic = sets.filter(kind=ImageSet.Kind.REAL), sets.filter(kind=ImageSet.Kind.SYNTHETIC)
    n_real, n_synthetic = real.count(), synthetic.count()
    scored = synthetic.filter(pk__in=Evaluation.objects.exclude(values={}).values("synthetic_set"))
    n_scored = scored.count()
    unscored = ImageSet.changeable_by(user).filter(kind=ImageSet.Kind.SYNTHETIC).exclude(pk__in=scored).first()
    studies = Study.changeable_by(user)
    invited = Participation.objects.filter(study__in=studies)
    rated = studies.annotate(last_rating=Max("items__ratings__submitted")).filter(last_rating__isnull=False)
    waiting = studies.filter(pk__in=invited.values("study")).exclude(pk__in=rated.values("pk")).first()
    unstaffed = studies.exclude(pk__in=invited.values("study")).first()
    latest_rated = rated.order_by("-last_rating").first()
    n_ratings = Rating.objects.filter(item__study__in=studies).count()

    score_actions = [(f"Score {unscored.name}", unscored.get_absolute_url())] if unscored else []
    if unstaffed:
        study_actions = [(f"Invite raters to {unstaffed.name}", unstaffed.get_absolute_url())]
    else:
        study_actions = [("Build a study", reverse("studies:study-create"))]
    if latest_rated:
        analyse_actions = [(f"Analyse {latest_rated.name}", reverse("analysis:study-analysis", args=[latest_rated.pk]))]
    elif waiting:
        analyse_actions = [(f"Follow the raters of {waiting.name}", waiting.get_absolute_url())]
    else:
        analyse_actions = []
    return [
        Step(
            "import",
            "Import real images",
            f"{counted(n_real, 'real image set')}, "
            f"{counted(Image.objects.filter(image_set__in=real).count(), 'image')}.",
            n_real > 0,
            [("Import a zip of images", reverse("imagesets:imageset-import"))],
            "Or from the command line: python manage.py import_images PATH --name NAME (fetch_hc18 for HC18).",
        ),
        Step(
            "synthesise",
            "Train a GAN or upload synthetic sets",
            f"{counted(TrainingRun.visible_to(user).count(), 'training run')}, "
            f"{counted(n_synthetic, 'synthetic set')}.",
            n_synthetic > 0,
            [
                ("Start a training run", reverse("training:trainingrun-create")),
                ("Queue an experiment grid", reverse("training:experimentgrid-create")),
                ("Upload a synthetic set", reverse("imagesets:imageset-upload-synthetic")),
            ],
            "Every set generated from a run is scored as it is made.",
        ),
        Step(
            "score",
            "Score the synthetic sets",
            f"{n_scored} of {counted(n_synthetic, 'synthetic set')} scored.",
            n_synthetic > 0 and n_scored == n_synthetic,
            [*score_actions, ("What the metrics measure", reverse("metrics:metrics-help"))],
        ),
        Step(
            "study",
            "Build a study and invite raters",
            f"{counted(studies.count(), 'study', 'studies')}, {counted(invited.count(), 'rater')} invited.",
            invited.exists(),
            study_actions,
        ),
        Step(
            "analyse",
            "Analyse the ratings",
            f"{counted(n_ratings, 'rating')} in {counted(rated.count(), 'study', 'studies')}."
            + ("" if latest_rated or not waiting else " Waiting for the raters."),
            latest_rated is not None,
            analyse_actions,
        ),
    ]


class Home(TemplateView):
    """Everyone's first page: a researcher's steps of a study and running jobs, a rater's studies."""

    template_name = "site/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["participations"] = self.request.user.participations.select_related("study")
        if is_researcher(self.request.user):
            steps = study_steps(self.request.user)
            context["steps"] = steps
            context["next_step"] = next((step for step in steps if not step.done), steps[-1])
            context["active_jobs"] = with_outputs(
                Job.visible_to(self.request.user).filter(status__in=Job.ACTIVE_STATUSES)[:10]
            )
        return context
