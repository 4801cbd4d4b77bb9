"""Job rows follow their rq jobs through a real worker on a real Redis."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ratingsite.jobs.models import LOST_QUEUED_JOB_AFTER, Job
from tests.factories import ResearcherFactory
from tests.ratingsite.jobs import dying_jobs

pytestmark = pytest.mark.django_db


def test_finished_job_records_progress_outcome_and_timing(run_worker):
    job = Job.enqueue(dying_jobs.count_to, {"total": 5}, kind="count")
    assert job.status == Job.Status.QUEUED and job.rq_id
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FINISHED
    assert (job.progress_done, job.progress_total) == (5, 5)
    assert job.message == "Counted to 5."
    assert job.result == {"total": 5}
    assert job.started <= job.finished


def test_bad_input_reads_as_its_message(run_worker):
    job = Job.enqueue(dying_jobs.refuse_input, {}, kind="refuse")
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "The input has no images."


def test_unexpected_error_keeps_its_traceback(run_worker):
    job = Job.enqueue(dying_jobs.crash, {}, kind="crash")
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Traceback" in job.error and "KeyError: 'missing'" in job.error


@pytest.mark.django_db(transaction=True)
def test_worker_that_dies_marks_its_job_failed(run_worker):
    job = Job.enqueue(dying_jobs.kill_own_process, {}, kind="die")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    run_worker(forking=True)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING  # nobody could tell the row yet
    job.sync_with_queue()
    assert job.status == Job.Status.FAILED
    assert "Work-horse terminated unexpectedly" in job.error
    assert job.finished is not None


def test_cancelling_a_queued_job_means_it_never_runs(run_worker):
    job = Job.enqueue(dying_jobs.count_to, {"total": 3}, kind="count")
    assert job.cancel()
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.progress_done == 0
    assert not job.cancel()


def test_running_row_whose_rq_job_vanished_is_failed(rq_queues):
    job = Job.objects.create(kind="lost", status=Job.Status.RUNNING, rq_id="no-such-job")
    job.sync_with_queue()
    assert job.status == Job.Status.FAILED
    assert "disappeared" in job.error


def test_queued_row_whose_rq_job_vanished_is_failed_after_a_grace_period(rq_queues):
    job = Job.objects.create(kind="lost", rq_id="no-such-job")
    job.sync_with_queue()
    assert job.status == Job.Status.QUEUED
    Job.objects.filter(pk=job.pk).update(created=timezone.now() - LOST_QUEUED_JOB_AFTER - timedelta(seconds=1))
    job.refresh_from_db()
    job.sync_with_queue()
    assert job.status == Job.Status.FAILED


def test_jobs_page_shows_progress_and_errors(client, run_worker):
    client.force_login(ResearcherFactory())
    Job.enqueue(dying_jobs.refuse_input, {}, kind="refuse")
    counted = Job.enqueue(dying_jobs.count_to, {"total": 4}, kind="count")
    queued_page = client.get(reverse("jobs:job-list")).content.decode()
    assert 'http-equiv="refresh"' in queued_page
    run_worker()
    page = client.get(reverse("jobs:job-list")).content.decode()
    assert "The input has no images." in page
    assert "4 / 4" in page and "Counted to 4." in page
    assert 'http-equiv="refresh"' not in page
    assert "Counted to 4." in client.get(counted.get_absolute_url()).content.decode()
