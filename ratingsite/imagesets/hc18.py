"""The official HC18 training set: where to download it and how to check that a copy is intact.

The record (Zenodo 1327317, doi:10.5281/zenodo.1327317, CC BY 4.0) publishes an md5 checksum for each of
its files in its metadata; a download is imported only if its checksum matches the one published. The
pixel-size table's checksum is also pinned here, as given in the HC18 data README.
"""

import hashlib
import json
import shutil
import urllib.request

RECORD_API_URL = "https://zenodo.org/api/records/1327317"
TRAINING_ZIP = "training_set.zip"
PIXEL_SIZE_CSV = "training_set_pixel_size_and_HC.csv"
PIXEL_SIZE_CSV_MD5 = "c0761518fece2bd2d2ad4218f2cd9777"


class ChecksumMismatch(ValueError):
    pass


def md5_of(path, chunk_size=1 << 20):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path, expected):
    """Raise `ChecksumMismatch` unless the file's md5 is ``expected`` (hex, case-insensitive)."""
    actual = md5_of(path)
    if actual != expected.strip().lower():
        raise ChecksumMismatch(
            f"{path.name} has md5 {actual}, but {expected} was expected: the file is damaged or is not the "
            "official HC18 file."
        )


def published_files(timeout=60):
    """``{file name: (download url, md5)}`` from the Zenodo record's metadata."""
    with urllib.request.urlopen(RECORD_API_URL, timeout=timeout) as response:
        record = json.load(response)
    files = {}
    for entry in record["files"]:
        algorithm, _, checksum = entry["checksum"].partition(":")
        if algorithm == "md5":
            files[entry["key"]] = (entry["links"]["self"], checksum)
    return files


def download(url, destination, progress=None, timeout=60):
    """Stream ``url`` to ``destination``; ``progress(bytes_done, bytes_total)`` as it goes."""
    partial = destination.with_name(destination.name + ".part")
    with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as handle:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while chunk := response.read(1 << 20):
            handle.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    shutil.move(partial, destination)
    return destination
