"""Job rows follow their rq jobs through a real worker on a real Redis."""

import contextlib
import os
import subprocess
import sys
import time
from datetime import timedelta

import django_rq
import psutil
import pytest
from django.urls import reverse
from django.utils import timezone
from rq import Worker
from rq.job import Job as RqJob

from ratingsite.jobs.models import LOST_QUEUED_JOB_AFTER, Job, fail_jobs_of_dead_worker
from tests.factories import JobFactory, ResearcherFactory
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
    job = JobFactory(kind="lost", status=Job.Status.RUNNING, rq_id="no-such-job")
    job.sync_with_queue()
    assert job.status == Job.Status.FAILED
    assert "disappeared" in job.error


def test_queued_row_whose_rq_job_vanished_is_failed_after_a_grace_period(rq_queues):
    job = JobFactory(kind="lost", rq_id="no-such-job")
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


def test_jobs_of_a_dead_worker_are_failed_at_once(rq_queues, redis_url, tmp_path):
    """serve, seeing its worker die, fails its jobs now, not when rq notices the missing heartbeats minutes later."""
    job = JobFactory(kind="sleep", status=Job.Status.RUNNING, rq_id="sleeping-job")
    django_rq.get_queue("default").enqueue(time.sleep, 300, job_id=job.rq_id)
    worker = subprocess.Popen(
        [sys.executable, "-m", "rq.cli", "worker", "--url", redis_url, "--name", "doomed", "default"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while RqJob.fetch(job.rq_id, connection=django_rq.get_connection()).get_status() != "started":
            assert time.monotonic() < deadline, "the worker never started the job"
            time.sleep(0.2)
    finally:
        # SIGKILL the worker and its work horse, which has a process group of its own but stays in the session.
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error, OSError):
                if os.getsid(process.pid) == worker.pid:
                    process.kill()
        worker.wait()
    job.sync_with_queue()
    assert job.status == Job.Status.RUNNING  # rq still believes it runs

    [failed] = fail_jobs_of_dead_worker("doomed", "The worker died; resume the job.")
    assert failed.pk == job.pk
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == "The worker died; resume the job."
    assert "doomed" not in [worker.name for worker in Worker.all(connection=django_rq.get_connection())]
    assert fail_jobs_of_dead_worker("doomed", "again") == []
