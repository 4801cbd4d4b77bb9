"""Background jobs.

Long work (imports, training, generation, metrics) runs in rq workers, never in a web request. Each
piece of work has a `Job` row that researchers see on the Jobs page: what kind of work it is, its status,
its progress (items done of total, with a message), the error text if it failed, and its timing.

The row is the tool's record; rq holds the live queue state. A job's function updates its row as it
goes (see `ratingsite.jobs.tracking`). A worker that dies cannot update anything, so whenever a row
that still says queued or running is shown, `Job.sync_with_queue` asks rq: rq moves the job of a dead
work horse, or of a worker whose heartbeat stopped, to its failed registry, and the row follows. rq
notices a dead worker only minutes later; whoever sees one die (``manage.py serve``, which supervises
its worker) calls `fail_jobs_of_dead_worker` to record it at once.

A job's ``result`` names the rows it made or works on by key (`RESULT_ROWS`), so that its row links to them:
a run to train and a set's scores are named when the job is queued, what an import or a generation makes
when it finishes.

Some work leaves files that show it was done whatever its row says: a training run whose every epoch and
snapshot is on disk has finished, even if the worker that ran it was killed just after, or a job that had
been given up for dead went on to the end. An app registers such a check for its kind of job in
`OUTCOMES_ON_DISK`, and `sync_with_queue` turns a failed row whose check finds the work done into a
finished one.
"""

import datetime
import uuid

import django_rq
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse
from django.utils import timezone
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job as RqJob
from rq.job import JobStatus as RqStatus
from rq.queue import Queue
from rq.worker import Worker

from ratingsite.core.models import Authored

LOST_QUEUED_JOB_AFTER = datetime.timedelta(minutes=1)
# Job.result key -> the model of the row whose primary key it holds, and what a link to that row is called.
RESULT_ROWS = {
    "run": ("training.TrainingRun", "training run"),
    "image_set": ("imagesets.ImageSet", "image set"),
    "evaluation": ("metrics.Evaluation", "scores"),
    "study": ("studies.Study", "study"),
    "scoring_job": ("jobs.Job", "scoring"),
}
# Job kind -> function(job) that marks a failed job finished (`Job.mark_finished_from_files`) when its files
# show the work done.
OUTCOMES_ON_DISK = {}


class Job(Authored):
    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        FINISHED = "finished", "finished"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=64, help_text="What the job does, e.g. 'import images'.")
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED, db_index=True)
    queue = models.CharField(max_length=32, default="default")
    rq_id = models.CharField(max_length=64, blank=True, db_index=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, help_text="The latest progress or outcome, for people.")
    error = models.TextField(blank=True, help_text="Why the job failed.")
    result = models.JSONField(default=dict, blank=True)
    owned_files = models.JSONField(
        default=list,
        blank=True,
        help_text="Uploads in the media storage that the job consumes; deleted when it ends, whatever the outcome.",
    )
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"

    @classmethod
    def visible_to(cls, user):
        """Every job, or where `settings.RESEARCHERS_SEE_ALL_WORK` is off only the user's own (staff: all)."""
        if user.is_staff or settings.RESEARCHERS_SEE_ALL_WORK:
            return cls.objects.all()
        return cls.objects.filter(created_by=user)

    def get_absolute_url(self):
        return reverse("jobs:job-detail", kwargs={"pk": self.pk})

    @classmethod
    def enqueue(cls, function, arguments, *, kind, created_by=None, queue="default", owned_files=(), result=None):
        """Create the row and put ``function(job_pk=..., **arguments)`` on an rq queue.

        ``result`` names the rows the job works on (see `RESULT_ROWS`), for its row to link to from the start.
        django-rq enqueues once the surrounding database transaction commits, so a worker never picks up
        a job whose row it cannot see yet.
        """
        job = cls.objects.create(
            kind=kind,
            queue=queue,
            created_by=created_by,
            rq_id=uuid.uuid4().hex,
            message="Waiting for a worker.",
            owned_files=list(owned_files),
            result=result or {},
        )
        django_rq.get_queue(queue).enqueue(function, job_id=job.rq_id, job_pk=job.pk, **arguments)
        return job

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES

    @property
    def progress_percent(self):
        if self.status == self.Status.FINISHED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def duration(self):
        if self.started is None:
            return None
        return (self.finished or timezone.now()) - self.started

    def _rq_job(self):
        if not self.rq_id:
            return None
        try:
            return RqJob.fetch(self.rq_id, connection=django_rq.get_connection(self.queue))
        except NoSuchJobError:
            return None

    def sync_with_queue(self):
        """Bring the row in line with rq, for jobs whose worker could not report, and then with the files."""
        if self.is_active:
            self._sync_active_with_queue()
        if self.status == self.Status.FAILED and self.kind in OUTCOMES_ON_DISK:
            OUTCOMES_ON_DISK[self.kind](self)

    def _sync_active_with_queue(self):
        rq_job = self._rq_job()
        if rq_job is None:
            # A queued row gets a moment: django-rq enqueues only once the creating transaction commits.
            if self.status == self.Status.RUNNING or timezone.now() - self.created > LOST_QUEUED_JOB_AFTER:
                self._mark_ended(self.Status.FAILED, error="The job disappeared from the queue.")
            return
        rq_status = rq_job.get_status()
        if rq_status == RqStatus.FAILED:
            latest = rq_job.latest_result()
            self._mark_ended(self.Status.FAILED, error=(latest.exc_string if latest else "") or "The worker failed.")
        elif rq_status in (RqStatus.STOPPED, RqStatus.CANCELED):
            self._mark_ended(self.Status.CANCELLED, message="Cancelled.")

    def _mark_ended(self, status, *, error="", message=None):
        # Conditional update: a worker finishing at the same moment wins over this bookkeeping.
        changes = {"status": status, "finished": timezone.now()}
        if error:
            changes["error"] = error
            changes["message"] = "Failed."
        if message is not None:
            changes["message"] = message
        updated = Job.objects.filter(pk=self.pk, status__in=self.ACTIVE_STATUSES).update(**changes)
        self.refresh_from_db()
        if updated:
            self.release_owned_files()
        return updated

    def mark_finished_from_files(self, message, **fields):
        """A failed row whose work its files show done becomes finished (with ``fields`` such as ``result``)."""
        Job.objects.filter(pk=self.pk, status=self.Status.FAILED).update(
            status=self.Status.FINISHED, message=message, error="", finished=self.finished or timezone.now(), **fields
        )
        self.refresh_from_db()

    def release_owned_files(self):
        for name in self.owned_files:
            default_storage.delete(name)

    def cancel(self):
        """Stop a queued job before it starts, or a running one in its worker."""
        if not self.is_active:
            return False
        rq_job = self._rq_job()
        if rq_job is not None:
            if rq_job.get_status() == RqStatus.STARTED:
                try:
                    send_stop_job_command(rq_job.connection, rq_job.id)
                except InvalidJobOperation:  # it ended between the two calls
                    pass
            else:
                rq_job.cancel()
        return bool(self._mark_ended(self.Status.CANCELLED, message="Cancelled."))


def has_active_job(row):
    """Whether ``row`` (a training run, study, evaluation: whatever has a ``job``, or none yet) has a queued or
    running job."""
    return row.job is not None and row.job.is_active


def sync_job_of(row):
    """Bring the job of ``row`` (a training run, study, evaluation: whatever has a ``job``, or none yet) in line
    with the queue, before a page shows its status."""
    if row.job is not None:
        row.job.sync_with_queue()


def with_outputs(jobs):
    """``jobs`` as a list, each with ``outputs``: (what it is called, row) for every row its result names that
    still exists, in the order of `RESULT_ROWS`. One query per kind of row, whatever the number of jobs."""
    jobs = list(jobs)
    rows = {}
    for key, (model, _) in RESULT_ROWS.items():
        pks = {job.result[key] for job in jobs if key in job.result}
        rows[key] = apps.get_model(model).objects.in_bulk(pks) if pks else {}
    for job in jobs:
        job.outputs = [
            (label, rows[key][job.result[key]])
            for key, (_, label) in RESULT_ROWS.items()
            if job.result.get(key) in rows[key]
        ]
    return jobs


def fail_jobs_of_dead_worker(worker_name, reason):
    """Record, in rq and in their rows, that the jobs the worker ``worker_name`` was running failed; returns the rows.

    For a worker that is known to be dead and whose processes are all gone (a work horse left running would
    otherwise go on writing to a job that is failed). rq itself would notice only once the worker's
    heartbeats expire and a live worker's maintenance comes round, minutes later.
    """
    connection = django_rq.get_connection()
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker_name, connection=connection)
    if worker is None:
        return []
    rq_ids = []
    for execution in worker.get_current_executions():
        rq_job = execution.job
        queue = Queue(rq_job.origin, connection=connection)
        worker.handle_job_failure(rq_job, queue, exc_string=reason, execution=execution)
        rq_ids.append(rq_job.id)
    worker.register_death()
    rows = list(Job.objects.filter(rq_id__in=rq_ids))
    for row in rows:
        row.sync_with_queue()
    return rows
