"""Job functions for the tests, importable by rq workers."""

import os
import signal

from ratingsite.jobs.tracking import Outcome, tracked


def kill_own_process(job_pk):
    """Dies the way a crashed or OOM-killed worker dies: no exception, no chance to report."""
    os.kill(os.getpid(), signal.SIGKILL)


@tracked
def count_to(progress, *, total):
    for done in range(1, total + 1):
        progress(done, total, f"counted {done}")
    return Outcome(f"Counted to {total}.", {"total": total})


@tracked
def refuse_input(progress):
    raise ValueError("The input has no images.")


@tracked
def crash(progress):
    return {}["missing"]


@tracked
def finish_before_the_last_report(progress):
    """Ends with its last step's report throttled away, as `Progress` does with reports less than 0.5 s apart."""
    progress(1, 4, "step 1 of 4")
    return Outcome("Done.")
