"""Reference (real-set) features and statistics, computed once and reused.

A cache entry is keyed by what determines its content and nothing else:

    key = sha256(JSON of {"kind", "version", "size", "resize_mode", "images": [sha256 of each image's
                           matched-resolution pixels, in set order]})

so the same real images at the same resolution give the same entry whatever folder, file names or file
format they came from, and a changed image, resolution, resize mode or metric version gives a new one.
``version`` is the metric's (or feature extractor's) version string: bump it whenever the computation
changes. Entries are ``<folder>/<kind>-<key>.npz`` files of named arrays, written to a temporary file and
renamed, so a crashed or concurrent writer never leaves a half-written entry; two processes computing the
same entry at once both compute it and the last rename wins (identical content).

Callers such as the web app pass their own folder: ``ReferenceCache(Path(MEDIA_ROOT) / "metric-cache")``.
``ReferenceCache(None)`` caches in memory only (for one process).
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def default_cache_folder():
    """``$XDG_CACHE_HOME/fetal-gan-evaluation`` (``~/.cache/fetal-gan-evaluation`` when that is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fetal-gan-evaluation"


def reference_key(images, kind, version):
    """The hex sha256 cache key of ``kind``/``version`` computed on ``images`` (see the module docstring)."""
    description = {
        "kind": kind,
        "version": version,
        "size": images.size,
        "resize_mode": images.resize_mode,
        "images": images.image_sha256s(),
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


class ReferenceCache:
    """Load-or-compute store of named arrays per (image set, kind, version); ``folder=None`` keeps them in memory."""

    def __init__(self, folder):
        self.folder = Path(folder) if folder is not None else None
        self._memory = {}

    def path(self, images, kind, version):
        return None if self.folder is None else self.folder / f"{kind}-{reference_key(images, kind, version)}.npz"

    def load_or_compute(self, images, kind, version, compute):
        """This entry's arrays: from memory, else from the folder, else ``compute()``'s (a dict of arrays), stored."""
        key = reference_key(images, kind, version)
        if key in self._memory:
            return self._memory[key]
        path = self.path(images, kind, version)
        if path is not None and path.is_file():
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        else:
            arrays = {name: np.asarray(value) for name, value in compute().items()}
            if path is not None:
                self._write(path, arrays)
        self._memory[key] = arrays
        return arrays

    @staticmethod
    def _write(path, arrays):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                np.savez(stream, **arrays)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
