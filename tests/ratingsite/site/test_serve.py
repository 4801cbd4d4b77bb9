"""`manage.py serve`, the embedded default (migrate, admin, embedded Redis, worker, gunicorn), as real processes:
it runs everything, restarts what crashes, and stops every process it started, work horses included."""

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ratingsite.site.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from ratingsite.site.management.commands.serve import Child
from tests.conftest import REPO_ROOT
from tests.http import Browser
from tests.images import hc18_folder

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def answers(browser, path):
    try:
        return browser.get(path)[0] == 200
    except OSError:
        return False


def embedded_environment(tmp_path):
    """The environment of the embedded default in ``tmp_path / "data"``, whatever database and Redis the tests use."""
    environment = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    return {**environment, "DATA_DIR": str(tmp_path / "data"), "DJANGO_ADMIN_PASSWORD": "smoke-test-password"}


def start_serve(tmp_path, port, data=None):
    log = open(tmp_path / "serve.log", "w+")
    command = [sys.executable, "manage.py", "serve", "--port", str(port), "--web-workers", "1"]
    command += ["--data", str(data)] if data else []
    serve = subprocess.Popen(
        command, cwd=REPO_ROOT, env=embedded_environment(tmp_path), stdout=log, stderr=subprocess.STDOUT
    )
    return serve, log


def stop_serve(serve, log):
    """SIGINT, as Ctrl-C; returns serve's exit status and its output."""
    serve.send_signal(signal.SIGINT)
    return_code = serve.wait(60)
    log.seek(0)
    return return_code, log.read()


def test_serve_runs_everything_and_ctrl_c_stops_everything(tmp_path, hc18_dir):
    port = free_port()
    serve, log = start_serve(tmp_path, port, hc18_dir / "fullres_samples")
    browser = Browser(f"http://127.0.0.1:{port}")
    try:
        wait_for(lambda: answers(browser, "/accounts/login/"), 120, "the login page")
        descendants = psutil.Process(serve.pid).children(recursive=True)
        commands = [" ".join(process.cmdline()) for process in descendants]
        assert any("redis-server" in command for command in commands), commands
        assert any("rqworker default gpu" in command for command in commands), commands
        assert any("gunicorn" in command for command in commands), commands
        # The worker imports the jobs' libraries once, for every work horse it forks to inherit.
        [worker] = worker_of(serve)
        wait_for(lambda: "libtorch" in Path(f"/proc/{worker.pid}/maps").read_text(), 60, "torch in the worker")

        status, page = browser.log_in("admin", "smoke-test-password")
        assert status == 200 and "Welcome, admin" in page
        # The worker imports --data in the background through the embedded Redis.
        wait_for(lambda: "fullres_samples</a>" in browser.get("/imagesets/")[1], 120, "the imported set")
        assert "finished" in browser.get("/jobs/")[1]
    finally:
        return_code, output = stop_serve(serve, log)
    assert return_code == 0, output
    assert "Created the admin account 'admin'" in output
    survivors = [
        process for process in descendants if process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    ]
    assert survivors == [], output


def wait_for_the_url(folder):
    """Until serve, started in ``folder``, prints the URL to open."""
    wait_for(lambda: "Serving on" in (folder / "serve.log").read_text(), 120, f"the URL to open from {folder}")


def test_serve_prints_the_url_once_the_site_answers(tmp_path):
    port = free_port()
    serve, log = start_serve(tmp_path, port)
    try:
        wait_for_the_url(tmp_path)
        # At once, and with one try: the user who opens the URL as soon as it is printed gets the page.
        assert Browser(f"http://127.0.0.1:{port}").get("/accounts/login/")[0] == 200
    finally:
        return_code, output = stop_serve(serve, log)
    assert return_code == 0, output
    assert f"Serving on http://127.0.0.1:{port}/" in output


# What the processes of an instance may share with another: the code they run and the system's devices.
READ_ONLY = tuple(Path(folder).resolve() for folder in (sys.prefix, sys.base_prefix, REPO_ROOT, "/usr", "/dev"))


def files_in_use(serve):
    """The files and listening unix sockets that serve and its descendants hold open, deleted ones included."""
    paths = set()
    for process in [psutil.Process(serve.pid), *psutil.Process(serve.pid).children(recursive=True)]:
        with contextlib.suppress(psutil.Error, OSError):
            for descriptor in Path(f"/proc/{process.pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(descriptor)
                    if target.startswith("/"):
                        paths.add(Path(target.removesuffix(" (deleted)")))
            paths.update(Path(socket.laddr) for socket in process.net_connections(kind="unix") if socket.laddr)
    return {path for path in paths if not any(path.is_relative_to(folder) for folder in READ_ONLY)}


def test_two_serve_instances_with_their_own_data_dirs_share_no_file(tmp_path):
    """Each instance's database, Redis, gunicorn control socket and heartbeat files lie in its own DATA_DIR."""
    instances = {}
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        port = free_port()
        instances[name] = (tmp_path / name, port, *start_serve(tmp_path / name, port))
    try:
        for _, port, _, _ in instances.values():
            browser = Browser(f"http://127.0.0.1:{port}")
            wait_for(lambda browser=browser: answers(browser, "/accounts/login/"), 120, "the login page")
        in_use = {name: files_in_use(serve) for name, (_, _, serve, _) in instances.items()}
    finally:
        outputs = [stop_serve(serve, log) for _, _, serve, log in instances.values()]
    assert [return_code for return_code, _ in outputs] == [0, 0], outputs
    for name, (folder, _, _, _) in instances.items():
        data_dir = folder / "data"
        assert data_dir / "gunicorn" / "gunicorn.ctl" in in_use[name]
        assert data_dir / "redis.sock" in in_use[name]
        assert {path for path in in_use[name] if not path.is_relative_to(folder)} == set()
    assert in_use["first"] & in_use["second"] == set()


def query(data_dir, sql, *parameters):
    """The first row of the answer from serve's database; None before serve has made it and its tables."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{data_dir / 'db.sqlite3'}?mode=ro", uri=True, timeout=30)) as db:
            return db.execute(sql, parameters).fetchone()
    except sqlite3.OperationalError:
        return None


def processes_holding(path):
    """Every process on the machine that has ``path`` open: for a trainer's lock file, the trainers of its run."""
    holders = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if any(file.path == str(path) for file in process.open_files()):
                holders.append(process)
    return holders


def worker_of(serve):
    return [child for child in psutil.Process(serve.pid).children() if "rqworker" in " ".join(child.cmdline())]


def test_serve_restarts_a_killed_worker_without_a_second_trainer_and_stops_every_process(tmp_path, hc18_dir):
    """The worker is killed (-9) while its work horse trains; serve kills the orphaned horse, fails the job
    and starts a new worker; the resumed run continues from its checkpoint with one trainer; SIGTERM then
    leaves no process behind, though a work horse is training."""
    data_dir = tmp_path / "data"
    leftovers = [data_dir / "media" / "imagesets" / name for name in (".incoming-killed", "99")]
    for leftover in leftovers:
        (leftover / "original").mkdir(parents=True)
        (leftover / "original" / "x.png").write_bytes(b"half written")
    port = free_port()
    serve, log = start_serve(tmp_path, port, hc18_folder(hc18_dir, tmp_path / "real", 16))
    sessions, descendants = set(), set()

    def watch_tree():
        for process in psutil.Process(serve.pid).children(recursive=True):
            with contextlib.suppress(OSError):
                sessions.add(os.getsid(process.pid))
                descendants.add(process)
        return True

    def job_of_run(run_pk):
        row = query(
            data_dir,
            "select job.id, job.status, job.progress_done, job.error from jobs_job job "
            "join training_trainingrun run on run.job_id = job.id where run.id = ?",
            run_pk,
        )
        return dict(zip(("id", "status", "epoch", "error"), row or (None, None, 0, ""), strict=True))

    try:
        wait_for(lambda: query(data_dir, "select count(*) from imagesets_imageset") == (1,), 180, "the import")
        assert not any(leftover.exists() for leftover in leftovers)
        created = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", TINY_TRAINING_RUN],
            cwd=REPO_ROOT,
            env=embedded_environment(tmp_path),
            capture_output=True,
            text=True,
            check=True,
        )
        run_pk = int(created.stdout.split()[-1])
        lock_file = data_dir / "media" / "training" / f"run-{run_pk}" / "trainer.lock"
        wait_for(lambda: job_of_run(run_pk)["epoch"] >= 12 and watch_tree(), 120, "12 epochs of training")
        [trainer] = processes_holding(lock_file)
        [worker] = worker_of(serve)
        first_job = job_of_run(run_pk)["id"]
        worker.kill()

        wait_for(lambda: not trainer.is_running() or trainer.status() == psutil.STATUS_ZOMBIE, 30, "the orphaned horse")
        wait_for(lambda: job_of_run(run_pk)["status"] == "failed", 30, "the job to fail with its worker")
        assert "was killed by SIGKILL" in job_of_run(run_pk)["error"]
        wait_for(lambda: [process.pid for process in worker_of(serve)] not in ([], [worker.pid]), 30, "a new worker")
        watch_tree()

        browser = Browser(f"http://127.0.0.1:{port}")
        wait_for(lambda: answers(browser, "/accounts/login/"), 60, "the login page")
        browser.log_in("admin", "smoke-test-password")
        page = browser.get(f"/training/runs/{run_pk}/")[1]
        assert "Resume from epoch" in page
        browser.post(f"/training/runs/{run_pk}/resume/", {"csrfmiddlewaretoken": browser.csrf_token(page)})
        wait_for(lambda: job_of_run(run_pk)["id"] != first_job, 10, "the resumed job")
        resumed_from = wait_for(lambda: job_of_run(run_pk)["epoch"], 120, "the resumed training's first epoch")
        assert resumed_from > 10  # from the checkpoint at epoch 10, not from the start
        for _ in range(10):
            assert len(processes_holding(lock_file)) == 1
            watch_tree()
            time.sleep(0.3)
    finally:
        serve.send_signal(signal.SIGTERM)
        return_code = serve.wait(90)
        log.seek(0)
        output = log.read()
    assert return_code == 0, output
    assert "The rq worker was killed by SIGKILL; restarting it in 1 s." in output
    assert "Restarted the rq worker" in output
    left = [process for process in descendants if process.is_running() and process.status() != psutil.STATUS_ZOMBIE]
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getsid(process.pid) in sessions and process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
    assert left == [], output
    assert job_of_run(run_pk)["status"] == "failed", output  # not "running" for ever


TINY_TRAINING_RUN = """
from ratingsite.imagesets.models import ImageSet
from ratingsite.training.jobs import enqueue_training
from ratingsite.training.models import TrainingRun
run = TrainingRun.objects.create(
    name="tiny", dataset=ImageSet.objects.get(), architecture="dcgan64", train_images=16, epochs=100000,
    snapshot_epochs=[100000], batch_size=8, ngf=8, ndf=8, seed=1,
)
enqueue_training(run)
print(run.pk)
"""


def test_a_child_that_keeps_crashing_is_restarted_after_growing_delays():
    starts, lines = [], []

    def start():
        starts.append(time.monotonic())
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], start_new_session=True)

    crashing = Child("crasher", start)
    crashing.start()
    deadline = time.monotonic() + 30
    while len(starts) < 3 and time.monotonic() < deadline:
        crashing.supervise(lines.append)
        time.sleep(0.05)
    crashing.stop()
    assert [line for line in lines if not line.startswith("Restarted")] == [
        "The crasher exited with code 3; restarting it in 1 s.",
        "The crasher exited with code 3; restarting it in 2 s.",
    ]
    assert starts[1] - starts[0] >= 1 and starts[2] - starts[1] >= 2


def test_embedded_redis_persists_and_refuses_a_second_server(tmp_path):
    import redis

    with EmbeddedRedis(tmp_path / "redis.sock", tmp_path) as server:
        redis.Redis.from_url(server.url).set("kept", "yes")
        with pytest.raises(EmbeddedRedisError, match="already answers"):
            EmbeddedRedis(tmp_path / "redis.sock", tmp_path).start()
    assert (
        not psutil.pid_exists(server.process.pid) or psutil.Process(server.process.pid).status() == psutil.STATUS_ZOMBIE
    )
    with EmbeddedRedis(tmp_path / "redis.sock", tmp_path) as restarted:
        assert redis.Redis.from_url(restarted.url).get("kept") == b"yes"
