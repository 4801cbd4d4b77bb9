"""The bridge between an rq job function and its `Job` row.

A job function is written as ``function(progress, **kwargs) -> Outcome`` and decorated with `tracked`;
it is enqueued through `Job.enqueue`, which passes ``job_pk``. The decorator marks the row running,
hands the function a `Progress` reporter, and records the outcome or the error. The same function
bodies run in the foreground from management commands with a `progress_bar` instead.
"""

import contextlib
import dataclasses
import functools
import time
import traceback

from django.db.models import F
from django.utils import timezone
from tqdm import tqdm

from ratingsite.jobs.models import Job


@dataclasses.dataclass
class Outcome:
    message: str
    result: dict = dataclasses.field(default_factory=dict)


PROGRESS_INTERVAL = 0.5


class Progress:
    """Writes ``done`` of ``total`` and a message to the job's row, at most every ``interval`` seconds."""

    def __init__(self, job_pk, *, interval=PROGRESS_INTERVAL):
        self.job_pk = job_pk
        self.interval = interval
        self._last_write = 0.0

    def __call__(self, done, total, message=""):
        now = time.monotonic()
        if done < total and now - self._last_write < self.interval:
            return
        self._last_write = now
        Job.objects.filter(pk=self.job_pk).update(progress_done=done, progress_total=total, message=message)


@contextlib.contextmanager
def progress_bar(unit="file"):
    """The command-line counterpart of `Progress`: the same ``(done, total, message)`` calls drive a tqdm bar."""
    with tqdm(unit=unit, unit_scale=unit == "B", disable=None) as bar:

        def report(done, total, message=""):
            bar.total = total or None
            bar.n = done
            if message:
                bar.set_postfix_str(message, refresh=False)
            bar.refresh()

        yield report


def error_text(error):
    """Bad input (ValueError) reads as its message; anything else keeps its traceback for the researcher."""
    if isinstance(error, ValueError):
        return str(error)
    return "".join(traceback.format_exception(error)).strip()


def tracked(function):
    @functools.wraps(function)
    def run(*, job_pk, **kwargs):
        started = Job.objects.filter(pk=job_pk, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, started=timezone.now(), message="Started."
        )
        if not started:  # cancelled while it waited in the queue
            return None
        try:
            outcome = function(progress=Progress(job_pk), **kwargs)
        except Exception as error:
            Job.objects.filter(pk=job_pk, status=Job.Status.RUNNING).update(
                status=Job.Status.FAILED, finished=timezone.now(), message="Failed.", error=error_text(error)
            )
            raise
        finally:
            Job.objects.get(pk=job_pk).release_owned_files()
        # Whatever was last reported, a job that finished did all of its work.
        Job.objects.filter(pk=job_pk, status=Job.Status.RUNNING).update(
            status=Job.Status.FINISHED,
            finished=timezone.now(),
            message=outcome.message,
            result=outcome.result,
            progress_done=F("progress_total"),
        )
        return outcome.result

    return run
