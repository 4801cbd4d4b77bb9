"""Locks that say a process is working in a folder: one trainer per run directory, for instance.

A lock is an OS file lock (``flock``) on a lock file. The kernel drops it when the process that holds it
exits, however it exits (``kill -9`` included), so a lock never outlives its holder and there is never a
stale lock to clean up. An exclusive lock has one holder, which writes its pid into the lock file for the
message that the next process gets; shared locks have any number of holders at once, and keep an
exclusive one out.

A lock file can also be removed by the last holder to let go, so that nothing is left behind. Whoever
locks it then checks that the file it locked is still the one at its path (it may have been removed
between the opening and the locking), and starts again if not.
"""

import contextlib
import fcntl
import os
from pathlib import Path


class LockHeld(Exception):
    """Another live process holds the lock; ``holder`` is its pid when it wrote one."""

    def __init__(self, path, holder):
        super().__init__(f"{path} is locked by process {holder or 'unknown'}")
        self.path = path
        self.holder = holder


@contextlib.contextmanager
def file_lock(path, *, shared=False, wait=True, remove_when_free=False):
    """Hold the lock on ``path`` (created if missing) for the ``with`` block.

    Without ``wait`` a lock that another process holds raises `LockHeld` at once instead of waiting for it.
    With ``remove_when_free`` the lock file is removed on the way out unless another process holds it too.
    """
    path = Path(path)
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
            os.close(descriptor)
            raise LockHeld(path, holder) from None
        if not remove_when_free or _is_at(descriptor, path):
            break
        os.close(descriptor)
    try:
        if not shared:
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        if remove_when_free:
            with contextlib.suppress(BlockingIOError):
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # only when no one else holds it
                path.unlink()
        os.close(descriptor)  # closing the last descriptor of the open file releases the lock


def _is_at(descriptor, path):
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(path))
    except FileNotFoundError:
        return False
