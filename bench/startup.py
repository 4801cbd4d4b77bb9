"""Start-up: from launching ``manage.py serve`` on a fresh DATA_DIR to the first answered pages.

Run: ``.venv/bin/python bench/startup.py [--runs 1] [--web-workers 2]``

Each run launches ``serve`` as a new user would (the embedded default: SQLite and the embedded Redis in a
new temporary DATA_DIR, no ``--data``) and reads its output. It prints the seconds from the launch to the
"Serving on" line (ready); then, from that line on, as many users as gunicorn has threads open the login
page at once (each asking again while the connection is refused), so that every web worker answers a
first page; then the admin logs in and opens the home page. Baseline, in the same run: the login page
once every worker has answered (a warm request); the ratio shows what a first page costs on top of it.
Target: every first page answered within a few seconds of ready.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.http import Browser  # noqa: E402

ADMIN_PASSWORD = "startup-bench-password"
THREADS_PER_WORKER = 4  # as serve starts gunicorn
READY_LINE = "Serving on http://"
PAGE_TIMEOUT = 300


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed_get(browser, path):
    """Seconds until ``path`` answered 200, asking again while the server refuses the connection."""
    began = time.perf_counter()
    while True:
        try:
            with browser.opener.open(browser.base_url + path, timeout=PAGE_TIMEOUT) as response:
                response.read()
                assert response.status == 200, response.status
                return time.perf_counter() - began
        except OSError as error:  # urllib wraps the refusal in a URLError
            if not isinstance(getattr(error, "reason", error), ConnectionRefusedError):
                raise
            time.sleep(0.05)


def first_pages_at_once(base_url, count):
    """The seconds until each of ``count`` users who open the login page at the same moment sees it."""
    waits = [None] * count

    def open_login_page(index):
        waits[index] = timed_get(Browser(base_url), "/accounts/login/")

    users = [threading.Thread(target=open_login_page, args=(index,)) for index in range(count)]
    for user in users:
        user.start()
    for user in users:
        user.join()
    if None in waits:
        raise RuntimeError("a first login page failed (see above)")
    return waits


def one_run(web_workers, timeout):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as data_dir:
        environment = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
        environment.update(DATA_DIR=data_dir, DJANGO_ADMIN_PASSWORD=ADMIN_PASSWORD, PYTHONUNBUFFERED="1")
        command = [sys.executable, "manage.py", "serve", "--port", str(port), "--web-workers", str(web_workers)]
        launched = time.perf_counter()
        serve = subprocess.Popen(
            command, cwd=REPO_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        ready = threading.Event()

        def read_output():
            for line in serve.stdout:
                if READY_LINE in line:
                    ready.set()

        threading.Thread(target=read_output, daemon=True).start()
        try:
            if not ready.wait(timeout):
                raise RuntimeError(f"serve printed no {READY_LINE!r} line within {timeout} s")
            figures = {"ready": time.perf_counter() - launched}
            figures["first logins"] = first_pages_at_once(base_url, web_workers * THREADS_PER_WORKER)
            browser = Browser(base_url)
            browser.log_in("admin", ADMIN_PASSWORD)
            figures["home request"] = timed_get(browser, "/")
            figures["home"] = time.perf_counter() - launched
            figures["warm login"] = statistics.median(
                timed_get(Browser(base_url), "/accounts/login/") for _ in range(20)
            )
        finally:
            serve.terminate()
            serve.wait(60)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300, help="seconds serve may take to print that it is ready")
    arguments = parser.parse_args()

    users = arguments.web_workers * THREADS_PER_WORKER
    print(f"manage.py serve on a fresh DATA_DIR, {arguments.web_workers} web workers, {os.cpu_count()} cores")
    for run in range(1, arguments.runs + 1):
        figures = one_run(arguments.web_workers, arguments.timeout)
        slowest = max(figures["first logins"])
        rows = [
            ("launch -> ready line", f"{figures['ready']:.1f} s"),
            (f"ready -> login page, slowest of {users} users at once", f"{slowest:.2f} s"),
            (f"ready -> login page, median of the {users}", f"{statistics.median(figures['first logins']):.2f} s"),
            ("first home page after logging in", f"{figures['home request']:.2f} s"),
            ("launch -> home page answered", f"{figures['home']:.1f} s"),
            ("warm login page (baseline)", f"{figures['warm login'] * 1000:.1f} ms"),
            ("slowest first login page / warm login page", f"{slowest / figures['warm login']:.0f}x"),
        ]
        print(f"run {run}:")
        for label, value in rows:
            print(f"  {label:52s} {value:>9s}")
        print(f"  target: every first page within a few seconds of ready -> {'met' if slowest < 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
