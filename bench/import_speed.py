"""Import speed: all 999 half-size HC18 images from a folder, derived 64 and 128 versions included.

Run: ``.venv/bin/python bench/import_speed.py [--data ../shared/data/hc18/training_set_half]``

Prints images/s of the full import (check, convert, resize to 64 and 128, hash, store files and rows
in SQLite) and, as the baseline measured in the same process, of a plain loop that only reads and
decodes every file, so the ratio shows what the import adds on top of the unavoidable decoding.
Target: the whole set in under 60 s on 2 cores.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "hc18" / "training_set_half"


def decode_all(folder):
    from PIL import Image

    count = 0
    for path in sorted(folder.rglob("*.png")):
        with Image.open(path) as image:
            image.load()
        count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="ratingsite.settings")
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(REPO_ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        from ratingsite.imagesets.importing import import_image_set

        call_command("migrate", verbosity=0)

        started = time.perf_counter()
        decoded = decode_all(arguments.data)
        baseline_seconds = time.perf_counter() - started

        started = time.perf_counter()
        report = import_image_set(arguments.data, name="benchmark")
        import_seconds = time.perf_counter() - started

    files = report.images + report.duplicates
    print(f"files: {files} ({report.images} imported, {report.duplicates} duplicates skipped)")
    print(f"decode-only baseline: {decoded / baseline_seconds:8.1f} images/s ({baseline_seconds:.2f} s)")
    print(f"full import:          {files / import_seconds:8.1f} images/s ({import_seconds:.2f} s)")
    print(f"import time / decode-only time: {import_seconds / baseline_seconds:.2f}x")
    print(f"target: whole set under 60 s -> {'met' if import_seconds < 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
