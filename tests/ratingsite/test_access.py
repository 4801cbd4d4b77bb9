"""The access table: every URL name of the site, for each kind of visitor, and the status they get.

The names come from the URL resolver, so a view added without a row here fails
`test_every_url_name_has_a_row`. The admin site and django-rq's dashboard are staff-only as a whole; their
pages without arguments are requested one by one.

The visitors: nobody logged in; the rater of study A; the rater of study B; the researcher who owns
everything (sets, run, grid, evaluation, job, both studies); another researcher; and a staff user. Every
GET: a view that only takes POST answers 405 to those who pass its permission check, so 403/404 against
405 shows the check. Decided here: the metrics help page is for researchers (raters see nothing but their
studies); the analysis of a study is for those who may change it, which here has no ratings (409, and 404
for its plots and files) — the point is who gets past the check.
"""

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job
from ratingsite.studies.models import Study
from ratingsite.training.models import GeneratedSet
from tests.factories import (
    EvaluationFactory,
    ExperimentGridFactory,
    ImageFactory,
    ImageSetFactory,
    JobFactory,
    ParticipationFactory,
    ResearcherFactory,
    SnapshotFactory,
    StudyFactory,
    StudyItemFactory,
    TrainingRunFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "rater_a", "rater_b", "owner", "other", "staff")
STAFF_ONLY_NAMESPACES = ("admin", "django_rq")
LOGIN = 302  # anonymous visitors are sent to the login page


def row(anonymous, rater_a, rater_b, owner, other, staff):
    return dict(zip(ROLES, (anonymous, rater_a, rater_b, owner, other, staff), strict=True))


RESEARCH_PAGE = row(LOGIN, 403, 403, 200, 200, 200)  # read-only for other researchers
CHANGE_POST = row(LOGIN, 403, 403, 405, 403, 405)  # POST-only views that change the owner's work
SHARE_PAGE = row(LOGIN, 403, 403, 200, 403, 200)  # naming collaborators: the owner and staff
ANALYSIS = row(LOGIN, 403, 403, 409, 403, 409)
ANALYSIS_FILE = row(LOGIN, 403, 403, 404, 403, 404)
STAFF_PAGE = row(LOGIN, 302, 302, 302, 302, 200)  # the admin sends non-staff to its own login

# url name: (the URL's kwargs from the world, expected status per role)
TABLE = {
    "home": (lambda w: {}, row(LOGIN, 200, 200, 200, 200, 200)),
    "login": (lambda w: {}, row(200, 200, 200, 200, 200, 200)),
    "logout": (lambda w: {}, row(LOGIN, 405, 405, 405, 405, 405)),
    "imagesets:imageset-list": (lambda w: {}, RESEARCH_PAGE),
    "imagesets:imageset-import": (lambda w: {}, RESEARCH_PAGE),
    "imagesets:imageset-upload-synthetic": (lambda w: {}, RESEARCH_PAGE),
    "imagesets:imageset-detail": (lambda w: {"pk": w["synthetic"].pk}, RESEARCH_PAGE),
    "imagesets:imageset-collaborators": (lambda w: {"pk": w["synthetic"].pk}, SHARE_PAGE),
    "imagesets:image-file": (lambda w: {"pk": w["image"].pk}, RESEARCH_PAGE),
    "imagesets:image-derived-file": (lambda w: {"pk": w["image"].pk, "size": 64}, RESEARCH_PAGE),
    "imagesets:image-thumbnail": (lambda w: {"pk": w["image"].pk}, RESEARCH_PAGE),
    "jobs:job-list": (lambda w: {}, RESEARCH_PAGE),
    "jobs:job-detail": (lambda w: {"pk": w["job"].pk}, RESEARCH_PAGE),
    "jobs:job-cancel": (lambda w: {"pk": w["job"].pk}, CHANGE_POST),
    "training:trainingrun-list": (lambda w: {}, RESEARCH_PAGE),
    "training:trainingrun-create": (lambda w: {}, RESEARCH_PAGE),
    "training:trainingrun-detail": (lambda w: {"pk": w["run"].pk}, RESEARCH_PAGE),
    "training:trainingrun-collaborators": (lambda w: {"pk": w["run"].pk}, SHARE_PAGE),
    "training:trainingrun-resume": (lambda w: {"pk": w["run"].pk}, CHANGE_POST),
    "training:trainingrun-loss-curve": (lambda w: {"pk": w["run"].pk}, RESEARCH_PAGE),
    "training:snapshot-sample-grid": (lambda w: {"pk": w["snapshot"].pk}, RESEARCH_PAGE),
    "training:snapshot-generate": (lambda w: {"pk": w["snapshot"].pk}, CHANGE_POST),
    "training:experimentgrid-list": (lambda w: {}, RESEARCH_PAGE),
    "training:experimentgrid-create": (lambda w: {}, RESEARCH_PAGE),
    "training:experimentgrid-detail": (lambda w: {"pk": w["grid"].pk}, RESEARCH_PAGE),
    "training:experimentgrid-collaborators": (lambda w: {"pk": w["grid"].pk}, SHARE_PAGE),
    "metrics:metrics-help": (lambda w: {}, RESEARCH_PAGE),
    "metrics:evaluation-detail": (lambda w: {"pk": w["evaluation"].pk}, RESEARCH_PAGE),
    "metrics:evaluation-create": (lambda w: {"pk": w["synthetic"].pk}, CHANGE_POST),
    "studies:study-list": (lambda w: {}, RESEARCH_PAGE),
    "studies:study-create": (lambda w: {}, RESEARCH_PAGE),
    "studies:study-detail": (lambda w: {"pk": w["study_a"].pk}, RESEARCH_PAGE),
    "studies:study-collaborators": (lambda w: {"pk": w["study_a"].pk}, SHARE_PAGE),
    "studies:rater-invite": (lambda w: {"pk": w["study_a"].pk}, CHANGE_POST),
    "studies:study-update": (lambda w: {"pk": w["study_a"].pk}, row(LOGIN, 403, 403, 200, 403, 200)),
    "studies:study-close": (lambda w: {"pk": w["study_a"].pk}, CHANGE_POST),
    "studies:study-reopen": (lambda w: {"pk": w["study_a"].pk}, CHANGE_POST),
    "studies:study-archive": (lambda w: {"pk": w["study_a"].pk}, CHANGE_POST),
    "studies:study-delete": (lambda w: {"pk": w["study_a"].pk}, CHANGE_POST),
    "studies:rater-link-reissue": (
        lambda w: {"pk": w["study_a"].pk, "rater_pk": w["users"]["rater_a"].pk},
        CHANGE_POST,
    ),
    # The link's token is the permission: a wrong one is no page, for anyone.
    "invitation-accept": (lambda w: {"token": "not-a-token"}, row(410, 410, 410, 410, 410, 410)),
    "studies:study-files-rewrite": (lambda w: {"pk": w["study_a"].pk}, CHANGE_POST),
    "studies:study-start": (lambda w: {"pk": w["study_a"].pk}, row(LOGIN, 200, 404, 404, 404, 404)),
    "studies:study-rate": (lambda w: {"pk": w["study_a"].pk}, row(LOGIN, 200, 404, 404, 404, 404)),
    # The study has no practice round: its rater is sent on to the rating page.
    "studies:study-practice": (lambda w: {"pk": w["study_a"].pk}, row(LOGIN, 302, 404, 404, 404, 404)),
    "studies:studyitem-image": (lambda w: {"token": w["item_a"].token}, row(LOGIN, 200, 404, 200, 404, 200)),
    "analysis:experimentgrid-metrics": (lambda w: {"pk": w["grid"].pk}, row(LOGIN, 403, 403, 200, 403, 200)),
    "analysis:study-analysis": (lambda w: {"pk": w["study_a"].pk}, ANALYSIS),
    "analysis:report": (lambda w: {"pk": w["study_a"].pk}, ANALYSIS),
    "analysis:scatter": (lambda w: {"pk": w["study_a"].pk}, ANALYSIS),
    "analysis:scatter-data": (lambda w: {"pk": w["study_a"].pk}, ANALYSIS_FILE),
    "analysis:plot": (lambda w: {"pk": w["study_a"].pk, "name": "accuracy", "image_format": "svg"}, ANALYSIS_FILE),
    "analysis:export": (lambda w: {"pk": w["study_a"].pk, "filename": "ratings.csv"}, ANALYSIS_FILE),
    # Token authentication, no session: a GET is refused before anyone is looked at.
    "api-synthetic-set-upload": (lambda w: {}, row(405, 405, 405, 405, 405, 405)),
}


def url_names(patterns=None, namespace=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            yield from url_names(
                pattern.url_patterns, f"{namespace}:{inner}" if namespace and inner else inner or namespace
            )
        elif isinstance(pattern, URLPattern) and namespace not in STAFF_ONLY_NAMESPACES:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name) if pattern.name else None
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}"


def staff_pages():
    """The admin's index, every registered model's list and django-rq's dashboard."""
    names = ["admin:index", "django_rq:home"]
    names += [f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist" for model in admin.site._registry]
    return names


def test_every_url_name_has_a_row():
    names = list(url_names())
    assert None not in names, "a URL pattern without a name has no row in the access table: name it"
    names = set(names)
    unlisted = {name for name in names if name.split(":")[0] not in STAFF_ONLY_NAMESPACES} - set(TABLE)
    assert not unlisted, f"URL names without a row in the access table: {sorted(unlisted)}"
    assert not set(TABLE) - names, "rows for URL names that no longer exist"
    assert set(staff_pages()) <= names


@pytest.fixture(autouse=True)
def quick_passwords(settings):
    """Six accounts per case over some 300 cases: the default hasher's deliberate slowness would take minutes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world():
    """Two studies of one owner, each with one rater, and one of each kind of the owner's work."""
    owner = ResearcherFactory()
    real = ImageSetFactory(name="real", kind=ImageSet.Kind.REAL, created_by=owner)
    synthetic = ImageSetFactory(name="synthetic", kind=ImageSet.Kind.SYNTHETIC, created_by=owner)
    image = ImageFactory(image_set=synthetic)
    grid = ExperimentGridFactory(name="grid", dataset=real, created_by=owner)
    run = TrainingRunFactory(name="run", dataset=real, grid=grid, created_by=owner)
    run.out_dir.mkdir(parents=True, exist_ok=True)
    (run.out_dir / "history.csv").write_text("epoch,d_loss,g_loss,d_real,d_fake\n1,1.0,1.0,0.5,0.5\n")
    snapshot = SnapshotFactory(run=run, epoch=1)
    evaluation = EvaluationFactory(synthetic_set=synthetic, reference_set=real, size=64, created_by=owner)
    job = JobFactory(kind="test job", status=Job.Status.RUNNING, created_by=owner)
    studies, items, raters = [], [], []
    for name in ("A", "B"):
        study = StudyFactory(name=name, created_by=owner)
        item = StudyItemFactory(study=study, image=image, is_real=False)
        Study.objects.filter(pk=study.pk).update(file_bytes=item.file.size)
        participation = ParticipationFactory(study=study, consented="2026-01-01T00:00:00Z")
        studies.append(study), items.append(item), raters.append(participation.rater)
    users = {
        "anonymous": None,
        "rater_a": raters[0],
        "rater_b": raters[1],
        "owner": owner,
        "other": ResearcherFactory(),
        "staff": UserFactory(is_staff=True, is_superuser=True),
    }
    return {
        "users": users, "synthetic": synthetic, "image": image, "grid": grid, "run": run, "snapshot": snapshot,
        "evaluation": evaluation, "job": job, "study_a": studies[0], "item_a": items[0],
    }  # fmt: skip


def status_for(client, world, role, url):
    if world["users"][role] is not None:
        client.force_login(world["users"][role])
    response = client.get(url)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(TABLE))
def test_the_access_table(client, world, name, role):
    kwargs, expected = TABLE[name]
    url = reverse(name, kwargs=kwargs(world))
    assert status_for(client, world, role, url) == expected[role], f"{role} GET {url}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", staff_pages())
def test_the_admin_and_the_queue_dashboard_are_for_staff(client, world, rq_queues, name, role):
    assert status_for(client, world, role, reverse(name)) == STAFF_PAGE[role]


def test_a_collaborator_may_change_what_the_owner_shares(client, world, rq_queues):
    owner, other, study = world["users"]["owner"], world["users"]["other"], world["study_a"]
    client.force_login(owner)
    share = reverse("studies:study-collaborators", args=[study.pk])
    assert client.post(share, {"collaborators": [other.pk]}).status_code == 302
    assert list(study.collaborators.all()) == [other]
    client.force_login(other)
    assert client.get(reverse("analysis:study-analysis", args=[study.pk])).status_code == 409
    invite = {"username": "reader", "profession": "clinician", "years_of_experience": 3}
    assert client.post(reverse("studies:rater-invite", args=[study.pk]), invite).status_code == 302
    assert study.participations.filter(rater__username="reader").exists()
    assert client.get(share).status_code == 403  # collaborators do not name collaborators
    resume = reverse("training:trainingrun-resume", args=[world["run"].pk])
    assert client.get(resume).status_code == 403
    world["grid"].collaborators.add(other)
    assert client.get(resume).status_code == 405  # a grid's collaborators share its runs


def test_other_researchers_are_refused_changes_they_post(client, world, rq_queues):
    client.force_login(world["users"]["other"])
    study = world["study_a"]
    invite = {"username": "reader", "profession": "clinician", "years_of_experience": 3}
    assert client.post(reverse("studies:rater-invite", args=[study.pk]), invite).status_code == 403
    assert client.post(reverse("training:trainingrun-resume", args=[world["run"].pk])).status_code == 403
    generate = reverse("training:snapshot-generate", args=[world["snapshot"].pk])
    assert client.post(generate, {"count": 4, "seed": 0}).status_code == 403
    score = reverse("metrics:evaluation-create", args=[world["synthetic"].pk])
    assert client.post(score, {"reference_set": world["synthetic"].pk, "size": 64}).status_code == 403
    assert client.post(reverse("jobs:job-cancel", args=[world["job"].pk])).status_code == 403
    world["job"].refresh_from_db()
    assert not Job.objects.exclude(pk=world["job"].pk).exists() and world["job"].status == Job.Status.RUNNING
    assert not study.participations.filter(rater__username="reader").exists()


def test_with_sharing_off_other_researchers_see_nothing_of_it(client, world, settings):
    settings.RESEARCHERS_SEE_ALL_WORK = False
    client.force_login(world["users"]["other"])
    for name, pk in (
        ("studies:study-detail", world["study_a"].pk),
        ("imagesets:imageset-detail", world["synthetic"].pk),
        ("training:trainingrun-detail", world["run"].pk),
        ("training:experimentgrid-detail", world["grid"].pk),
        ("metrics:evaluation-detail", world["evaluation"].pk),
        ("imagesets:image-file", world["image"].pk),
    ):
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    assert client.get(reverse("jobs:job-detail", args=[world["job"].pk])).status_code == 404
    for name in ("studies:study-list", "imagesets:imageset-list", "training:trainingrun-list", "jobs:job-list"):
        page = client.get(reverse(name)).content.decode()
        for shown in ("study_a", "synthetic", "run", "job"):
            assert world[shown].get_absolute_url() not in page, (name, shown)
    own = ImageSetFactory(name="own", kind=ImageSet.Kind.REAL, created_by=world["users"]["other"])
    owners_sets = ImageSet.objects.filter(created_by=world["users"]["owner"])
    for url in (
        reverse("studies:study-create"),
        reverse("training:trainingrun-create"),
        reverse("training:experimentgrid-create"),
        reverse("imagesets:imageset-import"),
        reverse("imagesets:imageset-upload-synthetic"),
        reverse("imagesets:imageset-detail", args=[own.pk]),
    ):
        page = client.get(url).content.decode()
        assert f'<option value="{own.pk}"' in page, url  # the choices are there, narrowed
        for image_set in owners_sets:
            assert f'<option value="{image_set.pk}"' not in page, (url, image_set.name)
    client.force_login(world["users"]["owner"])
    assert client.get(reverse("studies:study-detail", args=[world["study_a"].pk])).status_code == 200


def test_rows_of_nobody_are_every_researchers_and_generated_sets_are_shared_with_their_run(client, world, settings):
    settings.RESEARCHERS_SEE_ALL_WORK = False
    other = world["users"]["other"]
    from_command_line = ImageSetFactory(name="HC18", kind=ImageSet.Kind.REAL)
    assert from_command_line.may_change(other) and from_command_line in ImageSet.visible_to(other)
    generated = world["synthetic"]
    GeneratedSet.objects.create(snapshot=world["snapshot"], image_set=generated, seed=0)
    assert not generated.may_change(other)
    world["grid"].collaborators.add(other)
    assert generated.may_change(other) and generated in ImageSet.visible_to(other)
    client.force_login(other)
    assert client.get(reverse("metrics:evaluation-create", args=[generated.pk])).status_code == 405


def test_a_refusal_is_a_page_of_the_site_with_a_way_back(client, world):
    analysis = reverse("analysis:study-analysis", args=[world["study_a"].pk])
    for role, url, says in (
        ("rater_a", reverse("studies:study-list"), "This page is for researchers"),
        ("other", analysis, "has not made you a collaborator"),
    ):
        client.force_login(world["users"][role])
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 403 and says in page, role
        assert 'class="site-header"' in page and f'href="{reverse("home")}"' in page and "Log out" in page
