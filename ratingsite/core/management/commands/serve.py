"""Run the whole tool on this machine: database migrations, an admin account, the embedded Redis (unless
REDIS_URL is set), one rq worker on the ``default`` and ``gpu`` queues, and gunicorn. Ctrl-C stops
everything it started."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ratingsite.accounts.admin_account import ensure_admin
from ratingsite.core.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from ratingsite.imagesets import jobs as imageset_jobs
from ratingsite.imagesets.models import ImageSet
from ratingsite.jobs.models import Job

STOP_GRACE_SECONDS = 10


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

        children = []
        embedded_redis = None
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            if not os.environ.get("REDIS_URL"):
                embedded_redis = EmbeddedRedis(settings.EMBEDDED_REDIS_SOCKET, settings.DATA_DIR).start()
                self.stdout.write(f"Embedded Redis on {embedded_redis.url}")
            children.append(("rq worker", self._start([sys.executable, "manage.py", "rqworker", "default", "gpu"])))
            if data:
                self._import_first_dataset(data)
            children.append(
                (
                    "gunicorn",
                    self._start(
                        [
                            sys.executable,
                            "-m",
                            "gunicorn",
                            "ratingsite.wsgi:application",
                            "--bind",
                            f"{host}:{port}",
                            "--workers",
                            str(web_workers),
                            "--worker-class",
                            "gthread",
                            "--threads",
                            "4",
                            "--access-logfile",
                            "-",
                        ]
                    ),
                )
            )
            self.stdout.write(self.style.SUCCESS(f"Serving on http://{host}:{port}/ ; Ctrl-C stops everything."))
            while not stopping:
                for name, process in children:
                    if process.poll() is not None:
                        raise CommandError(f"The {name} exited with code {process.returncode}; stopping.")
                time.sleep(0.2)
        except EmbeddedRedisError as error:
            raise CommandError(str(error)) from error
        finally:
            for _, process in reversed(children):
                _stop_process_group(process)
            if embedded_redis is not None:
                embedded_redis.stop()
            self.stdout.write("Stopped.")

    def _start(self, command):
        # A session of its own: Ctrl-C reaches only this command, which then stops the children in order.
        return subprocess.Popen(command, cwd=settings.BASE_DIR, stdin=subprocess.DEVNULL, start_new_session=True)

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


def _stop_process_group(process):
    """SIGTERM the child's whole process group (gunicorn's workers, rq's work horse), then SIGKILL stragglers."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(process, signal.SIGKILL)
    process.wait()


def _signal_group(process, signum):
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass
