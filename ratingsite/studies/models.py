"""Rating studies: clinicians tell real from synthetic images and rate their quality, blinded.

* A `Study` is set up by a researcher: a name for researchers and a title for raters, the information and
  instructions raters read before consenting, the questions (real or synthetic and quality 1-5
  always; confidence and a comment optionally), the resolution its images are taken at and the size
  they are shown at, and a seed.
* Its pool is drawn from `StudySource` rows (an image set and how many of its images), with the seed;
  each drawn image becomes a `StudyItem`. A source may be an attention check: images whose answer is plain
  to a rater who looks (an early-epoch snapshot, clearly good real images), with the answer the researcher
  expects. Its items are drawn, made and served exactly like every other, so nothing but the pixels marks
  them; the analysis scores them apart (`with_attention`) and they enter no other statistic.
* A study may show some of its pool twice (``repeat_count``): each rater meets each of these images again late
  in their order, at least ``repeat_gap`` other images after the first showing, as an item of its own (role
  repeat, its own token and file) whose ratings give intra-rater agreement and enter no other statistic.
* A source may be practice: its images (never in the pool) are shown after consent and before the study, with
  the truth and the source's note after each answer; a `PracticeAnswer` is kept apart from the ratings and
  never analysed.
* A study may show each image for a fixed time (``exposure_ms``), then a grey mask of the same size.
* An item is known to raters only by an opaque random token, and
  the file they see is made for the study: the image's derived version at the study's resolution, scaled
  to the display size by one method and written by the one PNG encoder without compression, so real and
  synthetic files differ only in their pixels and all have the same number of bytes; a study opens to
  raters only when they do (`Study.file_bytes`).
* A researcher may edit a study until its first rating (its pool is drawn again), close and reopen it, and
  delete it while it has no ratings; with ratings it is archived instead (closed for good, kept for analysis).
* A `Participation` makes a user a rater of a study (consent time included), with the rater's profession
  and years of experience as they were at invitation: analyses and exports read these, so a later
  invitation with other answers changes nothing already rated. Each rater sees the items in a uniform
  shuffle seeded by (study seed, rater), drawn at consent and kept.
* A `Rating` is one rater's answer for one item, at most one per (rater, item), with the server time from
  showing the image to the answer and the viewing time the browser measured. Where a study lets raters
  change answers, a change overwrites the answer, counts a revision and moves the submission time. A
  `Showing` records when an item was first shown to a rater.
"""

import random
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, OuterRef, Q, Subquery
from django.urls import reverse

from ratingsite.accounts.models import RaterProfile
from ratingsite.core.models import Owned
from ratingsite.imagesets.models import Image, ImageSet
from ratingsite.jobs.models import Job
from synthesis.preprocessing import TRAINING_SIZES

DEFAULT_QUALITY_ANCHORS = [
    "1: very poor, not recognisable as a fetal head ultrasound image",
    "2: poor, major artefacts or missing anatomy",
    "3: acceptable, recognisable with noticeable flaws",
    "4: good, minor flaws only",
    "5: excellent, indistinguishable in quality from a clinical image",
]


class Answer(models.TextChoices):
    REAL = "real", "real"
    SYNTHETIC = "synthetic", "synthetic"


def default_quality_anchors():
    return list(DEFAULT_QUALITY_ANCHORS)


def new_token():
    return secrets.token_urlsafe(16)


def rater_label(user_id):
    """Raters appear in analyses and exports by a pseudonym, not by their account name; only a study's page shows
    its researchers which name each pseudonym stands for."""
    return f"rater-{user_id}"


def new_seed():
    """A fresh study's seed: drawn at random, since a seed anyone can guess (0) lets them redo every shuffle."""
    return secrets.randbelow(2**31)


class Study(Owned):
    name = models.CharField(max_length=200, help_text="The study's name among researchers; raters never see it.")
    rater_title = models.CharField(
        max_length=200, help_text="The study's name as raters see it (say nothing of what is compared)."
    )
    information = models.TextField(
        blank=True,
        help_text="Shown to raters above the consent button (Markdown): who runs the study, what taking part "
        "means, how to withdraw, whom to contact.",
    )
    instructions = models.TextField(help_text="Shown to raters before they start (Markdown).")
    resolution = models.PositiveSmallIntegerField(
        choices=[(size, f"{size} x {size}") for size in TRAINING_SIZES],
        default=TRAINING_SIZES[0],
        help_text="Which derived version of every image is shown (the training resolution).",
    )
    display_size = models.PositiveSmallIntegerField(default=320, help_text="Shown at this many pixels square.")
    target_real_share = models.FloatField(
        default=0.5, help_text="The intended share of real images, checked against the pool drawn."
    )
    seed = models.IntegerField(default=new_seed, help_text="Seeds the pool's draw and every rater's order.")
    ask_confidence = models.BooleanField(
        default=True, help_text="Confidence 1-5 with each answer: it makes the ROC curve and the MRMC analysis."
    )
    ask_comment = models.BooleanField(default=False)
    allow_changes = models.BooleanField(default=False, help_text="Raters may go back and change an answer.")
    repeat_count = models.PositiveSmallIntegerField(
        default=0,
        help_text="Show this many images of the pool (not attention checks) to every rater a second time, real "
        "and synthetic in the pool's proportion: intra-rater agreement. 0: none.",
    )
    repeat_gap = models.PositiveSmallIntegerField(
        default=10, help_text="At least this many other images between an image's two showings."
    )
    exposure_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(100), MaxValueValidator(60_000)],
        help_text="Show each image for this many milliseconds, then a grey mask of the same size; the rater "
        "answers after. Empty: the image stays until the rater answers.",
    )
    quality_anchors = models.JSONField(default=default_quality_anchors, help_text="What each quality score means.")
    file_bytes = models.PositiveIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="The size every one of the study's files has; empty while they are not all one size, and then "
        "raters cannot open the study.",
    )
    closed = models.DateTimeField(null=True, blank=True, help_text="Closed to raters by a researcher, until reopened.")
    archived = models.DateTimeField(
        null=True, blank=True, help_text="Put away with its ratings: closed for good and left out of the list."
    )
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    raters = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Participation", related_name="studies")

    class Meta(Owned.Meta):
        verbose_name_plural = "studies"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("studies:study-detail", kwargs={"pk": self.pk})

    @property
    def is_open(self):
        """Raters may rate: the files are made, and all of one size (so `Content-Length` tells nothing), and no
        researcher has closed or archived the study."""
        return self.file_bytes is not None and self.closed is None and self.archived is None

    @property
    def is_editable(self):
        """Its settings and pool may still change: nobody has rated an image of it yet."""
        return self.archived is None and not Rating.objects.filter(item__study=self).exists()

    def item_counts(self):
        """``{role: items}`` of every `StudyItem.Role` (0 where there are none): the pool, its second showings and
        the practice images."""
        counts = dict(self.items.values_list("role").annotate(items=models.Count("pk")).order_by())
        return {role: counts.get(role, 0) for role in StudyItem.Role}

    def order_for(self, rater):
        """The items' primary keys in this rater's order: a uniform shuffle seeded by (study seed, rater), with
        the second showings placed by `with_repeats`.

        The shuffle looks at nothing but the items' ids. Any rule that looks at an image's set looks at its
        kind: all real images come from one set, so a rule keeping two images of one set apart meant a real
        image was never followed by another real one, and a rater sure of one image knew the next.
        """
        rng = random.Random(f"{self.seed}:{rater.pk}")
        items = list(self.items.filter(role=StudyItem.Role.POOL).order_by("pk").values_list("pk", flat=True))
        rng.shuffle(items)
        repeats = dict(self.items.filter(role=StudyItem.Role.REPEAT).order_by("pk").values_list("repeat_of_id", "pk"))
        return with_repeats(items, repeats, self.repeat_gap, rng) if repeats else items

    def practice_order_for(self, rater):
        """The practice items' primary keys in this rater's order (a shuffle seeded by study seed and rater)."""
        items = list(self.items.filter(role=StudyItem.Role.PRACTICE).order_by("pk").values_list("pk", flat=True))
        random.Random(f"{self.seed}:{rater.pk}:practice").shuffle(items)
        return items


def count_problem(image_set, available, count, resolution, outside_pool=False):
    """Why ``count`` images cannot be drawn from ``image_set``, which has ``available`` (that are not in the pool,
    for practice) at ``resolution``; None when they can."""
    if count <= available:
        return None
    where = " that are not in the study's pool" if outside_pool else ""
    return (
        f"{image_set.name} has {available} images at {resolution} x {resolution}{where}; {count} cannot be drawn "
        "from it."
    )


def repeats_problem(repeats, *, ordinary, pool, gap):
    """Why ``repeats`` images cannot be shown twice in a pool of ``pool`` first showings, ``ordinary`` of them no
    attention check, with ``gap`` images between an image's showings; None when they can."""
    if repeats > ordinary:
        return f"{repeats} images cannot be shown twice: the pool has {ordinary} that are no attention check."
    if repeats and repeats > pool - gap:
        return (
            f"In a pool of {pool}, at most {max(pool - gap, 0)} images can each be shown again {gap} images later: "
            "show fewer twice, or ask for a smaller gap."
        )
    return None


def with_repeats(order, repeats, gap, rng):
    """``order`` with the second showing ``repeats[pk]`` of each repeated item ``pk`` added late in it, at least
    ``gap`` other items after the first (`repeats_problem` says when that cannot be).

    The first showings of the repeated items take places drawn uniformly among the first ``len(order) - gap``
    (the others keep their shuffled order around them), so every one leaves room for the gap; each second
    showing then goes to a uniformly drawn place in the second half, at or beyond its gap. Nothing here looks at
    an item's kind: which items repeat is drawn in the pool's proportion of kinds, so the places tell nothing.
    """
    room = len(order) - gap
    repeated = [pk for pk in order if pk in repeats]
    places = set(rng.sample(range(room), len(repeated)))
    firsts, others = iter(repeated), iter(pk for pk in order if pk not in repeats)
    shown = [next(firsts) if place in places else next(others) for place in range(len(order))]
    second_half = (len(order) + 1) // 2
    for pk in repeated:
        earliest = max(shown.index(pk) + gap + 1, second_half)
        shown.insert(rng.randint(earliest, len(shown)), repeats[pk])
    return shown


class StudySource(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="sources")
    image_set = models.ForeignKey(ImageSet, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField()
    attention_check = models.BooleanField(
        default=False,
        help_text="These images check that raters pay attention: their answers are scored apart and enter no "
        "other statistic.",
    )
    expected_answer = models.CharField(
        max_length=16,
        choices=Answer,
        blank=True,
        help_text="The answer a rater who pays attention gives to these images (attention checks only).",
    )
    practice = models.BooleanField(
        default=False,
        help_text="Practice images: shown after consent and before the study, with the truth after each answer; "
        "never analysed.",
    )
    note = models.TextField(
        blank=True, help_text="Shown with the truth after each practice answer, say what gives these images away."
    )

    class Meta:
        ordering = ("pk",)
        constraints = [
            # A set may give the pool and, from its other images, the practice round.
            models.UniqueConstraint(fields=("study", "image_set", "practice"), name="unique_study_source"),
            models.CheckConstraint(
                condition=Q(attention_check=False, expected_answer="")
                | (Q(attention_check=True) & ~Q(expected_answer="")),
                name="attention_check_has_expected_answer",
                violation_error_message="An attention check needs an expected answer, and only an attention "
                "check has one.",
            ),
            models.CheckConstraint(
                condition=~Q(practice=True, attention_check=True),
                name="practice_is_no_attention_check",
                violation_error_message="A source is either practice or an attention check, not both.",
            ),
        ]

    def __str__(self):
        text = f"{self.count} from {self.image_set.name} ({self.image_set.kind})"
        if self.practice:
            return f"{text}, practice"
        return f"{text}, attention check expecting {self.expected_answer}" if self.attention_check else text

    def clean(self):
        if self.attention_check and not self.expected_answer:
            raise ValidationError(
                {"expected_answer": "An attention check needs the answer a rater who pays attention gives."}
            )
        if self.expected_answer and not self.attention_check:
            raise ValidationError(
                {"expected_answer": "Only an attention check has an expected answer; tick it, or leave this empty."}
            )
        if self.practice and self.attention_check:
            raise ValidationError({"practice": "A source is either practice or an attention check, not both."})
        if self.note and not self.practice:
            raise ValidationError({"note": "Only practice images have a note for the rater; tick practice."})


def with_attention(ratings):
    """``ratings`` (of `Rating`) annotated with ``attention_answer``, the answer the attention-check source of the
    rating's item expects (None for an item of an ordinary source), and ``passed_attention``, whether the rating
    gave it: the one definition of passing that the study page and the analysis share."""
    expected = StudySource.objects.filter(
        study=OuterRef("item__study"), image_set=OuterRef("item__image__image_set"), attention_check=True
    ).values("expected_answer")[:1]
    return ratings.annotate(attention_answer=Subquery(expected)).annotate(
        passed_attention=ExpressionWrapper(Q(answer=F("attention_answer")), output_field=models.BooleanField())
    )


class StudyItem(models.Model):
    class Role(models.TextChoices):
        POOL = "pool", "pool"
        REPEAT = "repeat", "second showing"
        PRACTICE = "practice", "practice"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=32, unique=True, default=new_token)
    is_real = models.BooleanField()
    file = models.FileField(max_length=300, help_text="The file raters are shown, named by the token.")
    role = models.CharField(max_length=16, choices=Role, default=Role.POOL)
    repeat_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="repeats",
        help_text="The item this is the second showing of (role repeat only).",
    )

    class Meta:
        ordering = ("pk",)
        constraints = [
            models.UniqueConstraint(fields=("study", "image"), condition=~Q(role="repeat"), name="unique_study_image"),
            models.CheckConstraint(
                condition=Q(role="repeat", repeat_of__isnull=False) | (~Q(role="repeat") & Q(repeat_of__isnull=True)),
                name="repeat_has_first_showing",
            ),
        ]


class Participation(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participations")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations")
    consented = models.DateTimeField(null=True, blank=True)
    practised = models.DateTimeField(
        null=True, blank=True, help_text="When the rater was done with the practice round (or found none to do)."
    )
    finished = models.DateTimeField(null=True, blank=True)
    order = models.JSONField(default=list, blank=True, help_text="The rater's item order, kept once made.")
    profession = models.CharField(
        max_length=16, choices=RaterProfile.Profession, blank=True, help_text="At invitation; empty: not known."
    )
    years_of_experience = models.PositiveSmallIntegerField(null=True, blank=True, help_text="At invitation.")

    def save(self, *args, **kwargs):
        # A participation made without them (the admin, a script) takes the rater's profile as it is now.
        if self._state.adding and not self.profession:
            profile = RaterProfile.objects.filter(user_id=self.rater_id).first()
            if profile is not None:
                self.profession, self.years_of_experience = profile.profession, profile.years_of_experience
        super().save(*args, **kwargs)

    def item_order(self):
        """`Study.order_for` this rater, computed on first use and kept (the rating page needs it every time)."""
        if not self.order:
            self.order = self.study.order_for(self.rater)
            Participation.objects.filter(pk=self.pk).update(order=self.order)
        return self.order

    class Meta:
        constraints = [models.UniqueConstraint(fields=("study", "rater"), name="unique_participation")]


class Showing(models.Model):
    item = models.ForeignKey(StudyItem, on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shown = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("item", "rater"), name="unique_showing")]


class Answers(models.Model):
    """The questions every image is answered with: real or synthetic, quality and, if asked, confidence."""

    Answer = Answer

    answer = models.CharField(max_length=16, choices=Answer)
    quality = models.PositiveSmallIntegerField(choices=[(score, str(score)) for score in range(1, 6)])
    confidence = models.PositiveSmallIntegerField(null=True, blank=True, choices=[(s, str(s)) for s in range(1, 6)])

    class Meta:
        abstract = True


class PracticeAnswer(Answers):
    """A rater's answer to a practice image: kept apart from the ratings, never analysed."""

    item = models.ForeignKey(StudyItem, on_delete=models.CASCADE, related_name="practice_answers")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    submitted = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("pk",)
        constraints = [models.UniqueConstraint(fields=("item", "rater"), name="one_practice_answer_per_rater")]


class Rating(Answers):
    item = models.ForeignKey(StudyItem, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ratings")
    comment = models.TextField(blank=True)
    shown = models.DateTimeField(help_text="When the image was first shown to the rater (server time).")
    submitted = models.DateTimeField(auto_now=True)
    viewing_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Viewing time the browser measured.")
    revisions = models.PositiveSmallIntegerField(
        default=0, help_text="How often the rater changed this answer (studies that allow changes)."
    )

    class Meta:
        ordering = ("pk",)
        constraints = [models.UniqueConstraint(fields=("item", "rater"), name="one_rating_per_rater_and_item")]

    @property
    def server_seconds(self):
        return (self.submitted - self.shown).total_seconds()
