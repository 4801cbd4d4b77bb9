"""What job rows show: how long they took, how far they got and links to what they made."""

import datetime

import pytest
from django.urls import reverse

from ratingsite.core.templatetags.durations import duration
from ratingsite.jobs.models import Job, with_outputs
from ratingsite.metrics.models import Evaluation
from ratingsite.training import jobs as training_jobs
from ratingsite.training.models import GeneratedSet, TrainingRun
from tests.factories import ImageSetFactory, JobFactory, ResearcherFactory
from tests.ratingsite.jobs import dying_jobs

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "seconds, shown",
    [
        (None, ""),
        (0.04, "0.0 s"),
        (2.83, "2.8 s"),
        (9.96, "10 s"),
        (42.4, "42 s"),
        (59.7, "1 min"),
        (241, "4 min 1 s"),
        (3599.7, "1 h"),
        (3780, "1 h 3 min"),
        (90_000, "1 d 1 h"),
        (datetime.timedelta(minutes=4, seconds=1.2), "4 min 1 s"),
    ],
)
def test_durations_read_in_their_two_largest_units(seconds, shown):
    assert duration(seconds) == shown


def test_job_pages_show_durations_as_people_read_them(client):
    client.force_login(ResearcherFactory())
    started = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    quick = JobFactory(status=Job.Status.FINISHED, started=started, finished=started + datetime.timedelta(seconds=2.8))
    slow = JobFactory(status=Job.Status.FINISHED, started=started, finished=started + datetime.timedelta(seconds=241))
    page = client.get(reverse("jobs:job-list")).content.decode()
    assert "<td>2.8 s</td>" in page and "<td>4 min 1 s</td>" in page
    assert "<dd>4 min 1 s</dd>" in client.get(slow.get_absolute_url()).content.decode()
    assert "<dd>2.8 s</dd>" in client.get(quick.get_absolute_url()).content.decode()


def test_a_finished_job_shows_100_percent(client, run_worker):
    client.force_login(ResearcherFactory())
    job = Job.enqueue(dying_jobs.finish_before_the_last_report, {}, kind="steps")
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FINISHED and job.progress_percent == 100
    assert (job.progress_done, job.progress_total) == (4, 4)
    assert "100% (4 / 4)" in client.get(reverse("jobs:job-list")).content.decode()
    assert "100% (4 / 4)" in client.get(job.get_absolute_url()).content.decode()
    assert JobFactory(status=Job.Status.FINISHED).progress_percent == 100  # one that never reported


def test_job_rows_link_to_what_the_jobs_made(real_set, client, run_worker):
    researcher = ResearcherFactory()
    client.force_login(researcher)
    run = TrainingRun(
        name="tiny", dataset=real_set, architecture="dcgan64", train_images=8, epochs=1, snapshot_epochs=[1],
        batch_size=8, ngf=8, ndf=8, images_per_snapshot=12, created_by=researcher,
    )  # fmt: skip
    run.full_clean()
    run.save()
    training = training_jobs.enqueue_training(run, created_by=researcher)
    link_to_run = f'training run <a href="{run.get_absolute_url()}">tiny</a>'
    assert link_to_run in client.get(reverse("jobs:job-list")).content.decode()  # queued, not yet trained
    assert link_to_run in client.get(reverse("home")).content.decode()

    run_worker()  # trains, generates a set from the snapshot, scores it
    generated = GeneratedSet.objects.get().image_set
    generation = Job.objects.get(kind=training_jobs.GENERATION_JOB_KIND)
    evaluation = Evaluation.objects.get(synthetic_set=generated)
    assert generation.status == evaluation.job.status == Job.Status.FINISHED
    page = client.get(generation.get_absolute_url()).content.decode()
    assert f'image set <a href="{generated.get_absolute_url()}">{generated}</a>' in page
    assert f'scoring <a href="{evaluation.job.get_absolute_url()}">{evaluation.job}</a>' in page
    page = client.get(evaluation.job.get_absolute_url()).content.decode()
    assert f'scores <a href="{evaluation.get_absolute_url()}">' in page
    page = client.get(reverse("jobs:job-list")).content.decode()
    assert link_to_run in page and page.count(f'<a href="{generated.get_absolute_url()}">') == 1
    assert link_to_run in client.get(training.get_absolute_url()).content.decode()


def test_the_links_of_a_page_of_jobs_cost_one_query_per_kind_of_row(django_assert_num_queries):
    image_sets = [ImageSetFactory() for _ in range(6)]
    for image_set in image_sets:
        JobFactory(result={"image_set": image_set.pk, "images": 3})
    JobFactory(result={"image_set": 999_999})  # a set deleted since
    with django_assert_num_queries(2):
        jobs = with_outputs(Job.objects.order_by("pk"))
    assert [job.outputs for job in jobs] == [[("image set", image_set)] for image_set in image_sets] + [[]]
