"""Run the whole tool on this machine: database migrations, an admin account, the embedded Redis (unless
REDIS_URL is set), one rq worker on the ``default`` and ``gpu`` queues, and gunicorn, all supervised.

Each child starts a session of its own, and its session then holds all its descendants, whatever becomes
of their parents: rq's work horse has a process group of its own and goes on working when its worker
dies, but it stays in the worker's session.

* A child that exits is restarted, with a line in the log, after a delay that doubles with each exit
  that follows soon after a start (1 s up to a minute). What is left of its session is killed first: a
  work horse whose worker died would go on training beside the resumed run. The jobs the dead worker
  was running are then failed at once, so that they can be resumed, and anything that an import it was
  storing left behind is swept away, as it is when ``serve`` starts.
* gunicorn loads the site before it forks its web workers (``--preload``), and the URL to open is
  printed once the site answers it, so that the first page a user opens is not the one that waits for the
  imports. Its control socket and heartbeat files lie in ``DATA_DIR``, beside the database and the
  embedded Redis, so that another ``serve`` with another ``DATA_DIR`` and port shares no file with this one.
* SIGTERM or SIGINT (Ctrl-C) stops the children in the reverse order of their start: every process of
  a child's session gets SIGTERM, then SIGKILL after a grace period, until none is left. A work horse
  dies of SIGTERM at once and its worker records the job as failed; the rows of the jobs still active
  then follow, before Redis stops.
"""

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
import uuid

import psutil
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.urls import reverse

from ratingsite.accounts.admin_account import ensure_admin
from ratingsite.imagesets import jobs as imageset_jobs
from ratingsite.imagesets.importing import sweep_interrupted_imports
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job, fail_jobs_of_dead_worker
from ratingsite.site.embedded_redis import EmbeddedRedis, EmbeddedRedisError

STOP_GRACE_SECONDS = 10
RESTART_DELAYS = (1, 2, 4, 8, 16, 32, 60)
# A child that exits later than this after its start is restarted after the first delay again.
RAN_WELL_SECONDS = 60
SUPERVISE_SECONDS = 0.2
# While serve waits this long for the site's first answer it supervises nothing (and Ctrl-C waits).
FIRST_ANSWER_TIMEOUT = 2


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument(
            "--data",
            default=os.environ.get("HC18_DIR"),
            help="A folder or zip of real images to import as the first real dataset (default: $HC18_DIR).",
        )

    def handle(self, *args, host, port, web_workers, data, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._ensure_admin()
        self._sweep_interrupted_imports()

        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        redis, users_of_redis = [], []  # the embedded Redis, if any, stops last
        try:
            if not os.environ.get("REDIS_URL"):
                embedded_redis = EmbeddedRedis(settings.EMBEDDED_REDIS_SOCKET, settings.DATA_DIR)
                redis.append(Child("embedded Redis", lambda: embedded_redis.start().process))
                redis[0].start()
                self._log(f"Embedded Redis on {embedded_redis.url}")
            users_of_redis.append(Child("rq worker", self._start_worker, after_exit=self._after_worker_exit))
            users_of_redis[0].start()
            if data:
                self._import_first_dataset(data)
            users_of_redis.append(Child("gunicorn", lambda: self._start(gunicorn_command(host, port, web_workers))))
            users_of_redis[1].start()
            announced = False
            while not stopping:
                for child in redis + users_of_redis:
                    child.supervise(self._log)
                if not announced and site_answers(host, port):
                    self._log(self.style.SUCCESS(f"Serving on http://{host}:{port}/ ; Ctrl-C stops everything."))
                    announced = True
                time.sleep(SUPERVISE_SECONDS)
        except EmbeddedRedisError as error:
            raise CommandError(str(error)) from error
        finally:
            try:
                for child in reversed(users_of_redis):
                    child.stop()
                self._settle_active_jobs()
            finally:
                for child in redis:
                    child.stop()
                self._log("Stopped.")

    def _log(self, message):
        self.stdout.write(message)
        self.stdout.flush()

    def _start(self, command):
        # A session of its own: Ctrl-C reaches only this command, and the session holds all the child's descendants.
        return subprocess.Popen(command, cwd=settings.BASE_DIR, stdin=subprocess.DEVNULL, start_new_session=True)

    def _start_worker(self):
        # A new name each time, by which the jobs of this worker can be found once it is dead.
        self.worker_name = f"serve-{uuid.uuid4().hex[:12]}"
        return self._start([sys.executable, "manage.py", "rqworker", "default", "gpu", "--name", self.worker_name])

    def _after_worker_exit(self, returncode):
        close_old_connections()
        reason = f"The worker running this job {exit_description(returncode)}; resume or run the job again."
        with self._logged_failure(f"record the jobs of the dead worker {self.worker_name}"):
            for job in fail_jobs_of_dead_worker(self.worker_name, reason):
                self._log(f"Job #{job.pk} ({job.kind}) failed with its worker.")
        self._sweep_interrupted_imports()

    def _sweep_interrupted_imports(self):
        with self._logged_failure("sweep what interrupted imports left"):
            for folder in sweep_interrupted_imports():
                self._log(f"Removed {folder}, left by an import that was killed while storing its files.")

    def _settle_active_jobs(self):
        """Bring the rows of jobs that the stopped worker ended in line with rq while Redis still answers."""
        close_old_connections()
        with self._logged_failure("bring the active jobs in line with the queue"):
            for job in Job.objects.filter(status__in=Job.ACTIVE_STATUSES):
                job.sync_with_queue()

    @contextlib.contextmanager
    def _logged_failure(self, what):
        """Clean-up after a child must not end the site (nor skip stopping Redis): a failure is logged."""
        try:
            yield
        except Exception as error:  # noqa: BLE001 -- whatever it is, the supervisor goes on
            self._log(f"Could not {what}: {type(error).__name__}: {error}")

    def _ensure_admin(self):
        username, generated_password = ensure_admin(
            os.environ.get("DJANGO_ADMIN_USERNAME", "admin"),
            os.environ.get("DJANGO_ADMIN_PASSWORD"),
            os.environ.get("DJANGO_ADMIN_EMAIL", ""),
        )
        if username and generated_password:
            self.stdout.write(
                self.style.WARNING(
                    f"Created the admin account '{username}' with password: {generated_password}\n"
                    "It is shown only this once; change it in the admin site."
                )
            )
        elif username:
            self.stdout.write(f"Created the admin account '{username}' with the password from DJANGO_ADMIN_PASSWORD.")

    def _import_first_dataset(self, path):
        already = (
            ImageSet.objects.filter(kind=ImageSet.Kind.REAL).exists()
            or Job.objects.filter(kind=imageset_jobs.IMPORT_JOB_KIND, status__in=Job.ACTIVE_STATUSES).exists()
        )
        if already:
            return
        job = imageset_jobs.enqueue_import(
            source=os.path.abspath(path), name=os.path.basename(os.path.normpath(path)), kind=ImageSet.Kind.REAL
        )
        self.stdout.write(f"Importing {path} as the first real dataset (job #{job.pk}, see the Jobs page).")


def gunicorn_command(host, port, web_workers):
    runtime_files = settings.DATA_DIR / "gunicorn"
    runtime_files.mkdir(exist_ok=True)
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "ratingsite.wsgi:application",
        "--preload",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(web_workers),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--control-socket",
        str(runtime_files / "gunicorn.ctl"),
        "--worker-tmp-dir",
        str(runtime_files),
        "--access-logfile",
        "-",
    ]


def site_answers(host, port):
    """Whether a web worker answers a request for the login page (with any status: it is the site that answers)."""
    address = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    connection = http.client.HTTPConnection(address, port, timeout=FIRST_ANSWER_TIMEOUT)
    try:
        connection.request("GET", reverse("login"))
        connection.getresponse()
        return True
    except OSError:  # refused while gunicorn loads the site; a timeout while its workers start
        return False
    finally:
        connection.close()


class Child:
    """A supervised child process.

    ``start()`` returns its `subprocess.Popen`, begun in a session of its own; ``after_exit(returncode)``
    cleans up after it once it and its whole session are gone.
    """

    def __init__(self, name, start, after_exit=lambda returncode: None):
        self.name = name
        self._start = start
        self.after_exit = after_exit
        self.process = None
        self.started_at = 0.0
        self.restart_at = None
        self.restarts_in_a_row = 0  # since it last ran well

    def start(self):
        self.process = self._start()
        self.started_at = time.monotonic()

    def supervise(self, log):
        """Notice the child's exit (and clean up after it), or restart it once its delay has passed."""
        if self.process is not None:
            if self.process.poll() is None:
                return
            returncode = self.process.returncode
            stop_session(self.process.pid)
            self.process = None
            self.after_exit(returncode)
            self._restart_later(log, exit_description(returncode), time.monotonic() - self.started_at)
        elif time.monotonic() >= self.restart_at:
            try:
                self.start()
            except (OSError, EmbeddedRedisError) as error:
                self._restart_later(log, f"could not be started ({error})", 0)
                return
            log(f"Restarted the {self.name} (pid {self.process.pid}).")

    def _restart_later(self, log, what_happened, ran_for):
        if ran_for > RAN_WELL_SECONDS:
            self.restarts_in_a_row = 0
        delay = RESTART_DELAYS[min(self.restarts_in_a_row, len(RESTART_DELAYS) - 1)]
        self.restarts_in_a_row += 1
        self.restart_at = time.monotonic() + delay
        log(f"The {self.name} {what_happened}; restarting it in {delay} s.")

    def stop(self):
        if self.process is not None:
            stop_session(self.process.pid)
            self.process.wait()
            self.after_exit(self.process.returncode)
            self.process = None


def exit_description(returncode):
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:  # a real-time signal has no name
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def session_processes(session_id):
    """The live processes of a session (zombies excluded: they are dead and wait only to be reaped)."""
    members = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == session_id and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (OSError, psutil.Error):  # ended meanwhile
            pass
    return members


def stop_session(session_id, grace=STOP_GRACE_SECONDS):
    """SIGTERM every process of the session; SIGKILL whatever is still there after ``grace`` seconds."""
    _signal_all(session_processes(session_id), signal.SIGTERM)
    deadline = time.monotonic() + grace
    while (members := session_processes(session_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for _ in range(50):  # until none is left; a process only dies once it is scheduled
        if not members:
            return
        _signal_all(members, signal.SIGKILL)
        time.sleep(0.1)
        members = session_processes(session_id)


def _signal_all(processes, signum):
    for process in processes:
        try:
            process.send_signal(signum)
        except psutil.NoSuchProcess:
            pass
