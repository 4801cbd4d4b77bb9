import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job
from tests.factories import (
    PASSWORD,
    EvaluationFactory,
    ImageFactory,
    ImageSetFactory,
    JobFactory,
    ParticipationFactory,
    RaterFactory,
    RatingFactory,
    ResearcherFactory,
    StudyFactory,
    StudyItemFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_login_page_is_the_only_public_page(client):
    assert client.get(reverse("login")).status_code == 200
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home.url.startswith(reverse("login"))


def test_login_then_home_by_role(client):
    researcher = ResearcherFactory()
    response = client.post(reverse("login"), {"username": researcher.username, "password": PASSWORD}, follow=True)
    page = response.content.decode()
    assert f"Welcome, {researcher.username}" in page
    assert reverse("imagesets:imageset-list") in page

    client.force_login(RaterFactory())
    page = client.get(reverse("home")).content.decode()
    assert reverse("imagesets:imageset-list") not in page

    client.force_login(UserFactory())
    assert "no role yet" in client.get(reverse("home")).content.decode()


def test_admin_site_lists_every_model(admin_client, admin_user, rf, rq_queues):
    page = admin_client.get(reverse("admin:index")).content.decode()
    request = rf.get("/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        name, url = model._meta.verbose_name_plural, f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert f">{name.lower()}<" in page.lower(), name
        assert admin_client.get(reverse(f"{url}_changelist")).status_code == 200, name
        if model_admin.has_add_permission(request):
            assert admin_client.get(reverse(f"{url}_add")).status_code == 200, name

    inline = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    project_models = {model for model in apps.get_models() if model._meta.app_config.name.startswith("ratingsite.")}
    unlisted = project_models - set(admin.site._registry) - inline
    assert {model._meta.label_lower for model in unlisted} == set()


def step(page, key):
    """The home page's item of one step of a study."""
    start = page.index(f'<li id="step-{key}"')
    return page[start : page.index("</li>", start)]


def next_action(page):
    """The step marked next and the label and address of the button it offers."""
    key = re.search(r'<li id="step-(\w+)" class="step[\w ]* next">', page).group(1)
    button = re.search(r'<a href="([^"]+)" class="button">([^<]+)</a>', step(page, key))
    return key, button and (button.group(2), button.group(1))


def test_a_new_researchers_home_shows_the_steps_of_a_study_and_the_next_action_as_work_is_done(client):
    researcher = ResearcherFactory()
    client.force_login(researcher)

    def home():
        return client.get(reverse("home")).content.decode()

    page = home()
    assert re.findall(r'<li id="step-(\w+)"', page) == ["import", "synthesise", "score", "study", "analyse"]
    assert next_action(page) == ("import", ("Import a zip of images", reverse("imagesets:imageset-import")))
    assert "0 real image sets, 0 images." in step(page, "import") and "done" not in page
    assert "<h2>Running jobs</h2>\n    <p>None." in page

    real = ImageSetFactory(name="HC18", kind=ImageSet.Kind.REAL, created_by=researcher)
    ImageFactory.create_batch(2, image_set=real)
    page = home()
    assert "1 real image set, 2 images." in step(page, "import") and 'class="step done"' in step(page, "import")
    assert next_action(page) == ("synthesise", ("Start a training run", reverse("training:trainingrun-create")))
    assert reverse("imagesets:imageset-upload-synthetic") in step(page, "synthesise")

    synthetic = ImageSetFactory(name="epoch 300", kind=ImageSet.Kind.SYNTHETIC, created_by=researcher)
    image = ImageFactory(image_set=synthetic)
    others = ImageSetFactory(name="not yours", kind=ImageSet.Kind.SYNTHETIC, created_by=ResearcherFactory())
    page = home()
    assert "0 training runs, 2 synthetic sets." in step(page, "synthesise")
    assert next_action(page) == ("score", ("Score epoch 300", synthetic.get_absolute_url()))
    assert "0 of 2 synthetic sets scored." in step(page, "score")
    for image_set in (synthetic, others):
        EvaluationFactory(synthetic_set=image_set, reference_set=real, size=64, values={"fid": {"fid": 1.0}})
    page = home()
    assert "2 of 2 synthetic sets scored." in step(page, "score")
    assert next_action(page) == ("study", ("Build a study", reverse("studies:study-create")))

    study = StudyFactory(name="Turing", created_by=researcher)
    assert next_action(home()) == ("study", ("Invite raters to Turing", study.get_absolute_url()))
    rater = ParticipationFactory(study=study).rater
    page = home()
    assert "1 study, 1 rater invited." in step(page, "study")
    assert next_action(page) == ("analyse", ("Follow the raters of Turing", study.get_absolute_url()))
    assert "0 ratings in 0 studies. Waiting for the raters." in step(page, "analyse")

    RatingFactory(item=StudyItemFactory(study=study, image=image), rater=rater)
    job = JobFactory(kind="train DCGAN64", status=Job.Status.RUNNING, message="epoch 3 of 300")
    page = home()
    assert "1 rating in 1 study." in step(page, "analyse")
    analysis = reverse("analysis:study-analysis", args=[study.pk])
    assert next_action(page) == ("analyse", ("Analyse Turing", analysis))  # every step done: analyse again
    assert re.search(
        rf'<a href="{job.get_absolute_url()}">train DCGAN64 #{job.pk}</a>: running,\s+epoch 3 of 300', page
    )


def test_a_raters_home_lists_their_studies_and_no_steps(client):
    rater = RaterFactory()
    study = StudyFactory(name="internal name", rater_title="Turing")
    ParticipationFactory(study=study, rater=rater)
    client.force_login(rater)
    page = client.get(reverse("home")).content.decode()
    assert f'<a href="{reverse("studies:study-start", args=[study.pk])}">Turing</a>' in page
    assert 'id="steps"' not in page and "Running jobs" not in page and "internal name" not in page
