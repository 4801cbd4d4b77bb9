"""Smoke test of `manage.py serve`, the embedded default: migrate, admin, embedded Redis, worker, gunicorn."""

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from ratingsite.core.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from tests.conftest import REPO_ROOT
from tests.http import Browser

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


def test_serve_runs_everything_and_ctrl_c_stops_everything(tmp_path, hc18_dir):
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    environment.update(DATA_DIR=str(tmp_path / "data"), DJANGO_ADMIN_PASSWORD="smoke-test-password")
    log = open(tmp_path / "serve.log", "w+")
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--data", str(hc18_dir / "fullres_samples")],
        cwd=REPO_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    browser = Browser(f"http://127.0.0.1:{port}")
    try:
        wait_for(lambda: answers(browser, "/accounts/login/"), 120, "the login page")
        descendants = psutil.Process(serve.pid).children(recursive=True)
        commands = [" ".join(process.cmdline()) for process in descendants]
        assert any("redis-server" in command for command in commands), commands
        assert any("rqworker default gpu" in command for command in commands), commands
        assert any("gunicorn" in command for command in commands), commands

        status, page = browser.log_in("admin", "smoke-test-password")
        assert status == 200 and "Welcome, admin" in page
        # The worker imports --data in the background through the embedded Redis.
        wait_for(lambda: "fullres_samples</a>" in browser.get("/imagesets/")[1], 120, "the imported set")
        assert "finished" in browser.get("/jobs/")[1]
    finally:
        serve.send_signal(signal.SIGINT)
        return_code = serve.wait(60)
        log.seek(0)
        output = log.read()
    assert return_code == 0, output
    assert "Created the admin account 'admin'" in output
    survivors = [
        process for process in descendants if process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    ]
    assert survivors == [], output


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
