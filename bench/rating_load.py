"""Load on the rating pages: concurrent raters against gunicorn on loopback, PostgreSQL and Redis.

Run: ``.venv/bin/python bench/rating_load.py [--raters 50] [--seconds 60] [--think 2]``

Makes a scratch PostgreSQL database (dropped afterwards) on ``--postgres`` and uses the Redis server at
``--redis``, imports HC18 images, prepares a study, starts gunicorn as ``manage.py serve`` would, then
runs the raters for a bounded time: each fetches its next image (the rating page and the image file) and
submits a rating (optionally after a think time), in a loop; every tenth rating it also fetches the login
page, the cheapest page there is, as the baseline timed under the same load. Prints p50/p95 latency of
both requests and the baseline, errors, and whether the ratings in the database equal the ratings the
server accepted. Target on 2 cores: p95 < 100 ms, 0 errors, 0 lost or
duplicated ratings.

Think time: a rater looks at an image before answering, so each rater waits a random time (uniform
between 0 and twice ``--think`` seconds, 2 s on average by default) between fetching an image and
submitting, and before its first request (so raters arrive spread over the first seconds, not in one
burst). With ``--think 0`` every rater fires its next request the moment the last one returns: the
50 loops then saturate the 2 cores (server and client threads together), and by Little's law the latency
is simply 50 / throughput; that run measures capacity (ratings per second), not a rater's wait.
"""

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
HC18 = REPO_ROOT.parent / "shared" / "data" / "hc18" / "training_set_half"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument(
        "--think", type=float, default=2.0, help="mean seconds a rater looks at an image (uniform 0..2x); 0: none"
    )
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    arguments = parser.parse_args()

    database = f"rating_load_{os.getpid()}"
    with psycopg.connect(f"{arguments.postgres}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    data_dir = tempfile.mkdtemp(prefix="rating-load-")
    environment = {
        **os.environ,
        "DATABASE_URL": f"{arguments.postgres}/{database}",
        "REDIS_URL": arguments.redis,
        "DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "ratingsite.settings",
    }
    os.environ.update(environment)
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from ratingsite.site.management.commands.serve import gunicorn_command
        from ratingsite.studies.models import Rating

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        study = prepare_study(arguments.items)
        raters = make_raters(study, arguments.raters)
        # As serve starts it (preloaded, 2 workers x 4 threads), showing warnings only, and no access log.
        server = subprocess.Popen(
            gunicorn_command("127.0.0.1", arguments.port, 2) + ["--log-level", "warning"],
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
        )
        base_url = f"http://127.0.0.1:{arguments.port}"
        wait_until_up(base_url)
        results = run_load(base_url, study.pk, raters, arguments.seconds, arguments.think)
        stored = Rating.objects.filter(item__study=study).count()
        distinct = Rating.objects.filter(item__study=study).values("item", "rater").distinct().count()
        report(results, stored, distinct, arguments)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{arguments.postgres}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        shutil.rmtree(data_dir)


def prepare_study(item_count):
    from ratingsite.core.storage import atomic_with_files
    from ratingsite.imagesets.importing import import_image_set
    from ratingsite.studies.display_files import write_display_files
    from ratingsite.studies.models import Study, StudyItem

    image_set = import_image_set(HC18, name="HC18").image_set
    study = Study.objects.create(name="load", instructions="", display_size=320)
    items = [StudyItem(study=study, image=image, is_real=True) for image in image_set.images.all()[:item_count]]
    with atomic_with_files() as save:
        for item in write_display_files(study, items, save):
            item.save()
    return study


def make_raters(study, count):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from ratingsite.studies.models import Participation

    raters = []
    for index in range(count):
        user = get_user_model().objects.create_user(f"rater{index}", password="load-test-password")
        # As the consent page does: consent, and the rater's order drawn once.
        Participation.objects.create(study=study, rater=user, consented=timezone.now()).item_order()
        raters.append(user.username)
    return raters


def wait_until_up(base_url):
    from tests.http import Browser

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            Browser(base_url).get("/accounts/login/")
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def run_load(base_url, study_pk, raters, seconds, think_seconds):
    from tests.http import Browser

    results = {"next": [], "submit": [], "baseline": [], "errors": [], "accepted": 0}
    lock = threading.Lock()
    start = threading.Barrier(len(raters) + 1)
    stop_at = [0.0]
    # One after the other, before the load: a login hashes the password (about 0.4 s of a core), so fifty at
    # once would wait for one another past the client's timeout, and they are not what is measured.
    browsers = {username: Browser(base_url) for username in raters}
    for username, browser in browsers.items():
        browser.log_in(username, "load-test-password")

    def rater_loop(username):
        browser = browsers[username]
        # Submissions are timed on their own, without following the redirect to the next page.
        no_redirects = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(browser.cookies), NoRedirects)
        think = random.Random(username)
        start.wait()
        # Raters arrive one by one, not all in the same millisecond: each starts after one think time.
        time.sleep(think.uniform(0, 2 * think_seconds))
        rate_path = f"/studies/{study_pk}/rate/"
        timings = {"next": [], "submit": [], "baseline": []}
        accepted, errors = 0, []
        try:
            while time.monotonic() < stop_at[0]:
                began = time.perf_counter()
                _, page = browser.get(rate_path)
                token = re.search(r"/studies/images/([\w-]+)\.png", page)
                if token is None:
                    break
                browser.opener.open(f"{base_url}/studies/images/{token.group(1)}.png", timeout=10).read()
                timings["next"].append(time.perf_counter() - began)
                time.sleep(think.uniform(0, 2 * think_seconds))
                fields = {
                    "csrfmiddlewaretoken": Browser.csrf_token(page),
                    "token": token.group(1),
                    "answer": "real",
                    "quality": 3,
                    "confidence": 4,
                }
                began = time.perf_counter()
                try:
                    no_redirects.open(base_url + rate_path, data=urllib.parse.urlencode(fields).encode(), timeout=10)
                except urllib.error.HTTPError as redirect:
                    if redirect.code != 302:
                        raise
                timings["submit"].append(time.perf_counter() - began)
                accepted += 1
                if accepted % 10 == 0:
                    began = time.perf_counter()
                    browser.get("/accounts/login/")
                    timings["baseline"].append(time.perf_counter() - began)
        except (OSError, urllib.error.HTTPError) as error:
            errors.append(repr(error))
        with lock:
            for key, values in timings.items():
                results[key].extend(values)
            results["errors"].extend(errors)
            results["accepted"] += accepted

    threads = [threading.Thread(target=rater_loop, args=(username,)) for username in raters]
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + seconds
    start.wait()
    for thread in threads:
        thread.join()
    return results


def report(results, stored, distinct, arguments):
    print(
        f"{arguments.raters} raters for {arguments.seconds:.0f} s, mean think time {arguments.think:g} s, against "
        "gunicorn (2 workers x 4 threads), PostgreSQL, Redis, on 2 cores"
    )
    for name in ("next", "submit", "baseline"):
        values = results[name]
        print(
            f"  {name:8s} n={len(values):6d}  p50 {percentile(values, 0.5):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms"
            f"  p99 {percentile(values, 0.99):6.1f} ms  max {percentile(values, 1.0):6.1f} ms"
            + (f"  ({statistics.mean(values) * 1000:.1f} ms mean)" if values else "")
        )
    print(f"  errors: {len(results['errors'])}" + (f" (first: {results['errors'][0]})" if results["errors"] else ""))
    print(f"  ratings accepted: {results['accepted']}, in the database: {stored}, distinct (rater, item): {distinct}")
    print(f"  lost or duplicated: {results['accepted'] - stored + (stored - distinct)}")
    print(f"  throughput: {results['accepted'] / arguments.seconds:.1f} ratings/s")
    next_p95 = percentile(results["next"], 0.95)
    print(f"  p95 next image / p95 login page (baseline): {next_p95 / percentile(results['baseline'], 0.95):.2f}x")


if __name__ == "__main__":
    main()
