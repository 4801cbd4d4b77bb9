"""`python -m evaluation compare`: output formats and one-line errors for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from evaluation.cli import main
from evaluation.registry import METRICS
from tests.images import hc18_folder

REPO_ROOT = Path(__file__).resolve().parents[2]
PIXEL_METRICS = "psnr,mutual_information,lbp,diversity"


@pytest.fixture
def folders(tmp_path, hc18_dir):
    """12 real HC18 images (native size) and 6 synthetic images of mixed sizes and pixel formats."""
    real = hc18_folder(hc18_dir, tmp_path / "real", 12)
    synthetic = tmp_path / "synthetic"
    synthetic.mkdir()
    rng = np.random.default_rng(0)
    for index in range(4):
        Image.fromarray(rng.integers(0, 256, size=(64, 64), dtype=np.uint8)).save(synthetic / f"gray{index}.png")
    Image.fromarray(rng.integers(0, 256, size=(80, 100, 3), dtype=np.uint8)).save(synthetic / "colour.png")
    Image.fromarray(rng.integers(0, 65536, size=(64, 64)).astype(np.uint16)).save(synthetic / "sixteen.png")
    return real, synthetic


def run(capsys, *arguments):
    code = main(["compare", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_and_per_image_csv(folders, tmp_path, capsys):
    real, synthetic = folders
    csv = tmp_path / "per_image.csv"
    code, out, err = run(
        capsys,
        "--real",
        str(real),
        "--synthetic",
        str(synthetic),
        "--size",
        "64",
        "--json",
        "--per-image",
        str(csv),
        "--metrics",
        PIXEL_METRICS,
        "--cache",
        str(tmp_path / "cache"),
        "--quiet",
    )
    assert code == 0
    report = json.loads(out)
    assert report["real"]["images"] == 12 and report["synthetic"]["images"] == 6 and report["size"] == 64
    assert list(report["metrics"]) == ["psnr", "mutual_information", "lbp", "diversity"]
    assert set(report["metrics"]["psnr"]["values"]) == {"psnr_mean_db", "psnr_nearest_db"}
    lbp = report["metrics"]["lbp"]
    assert lbp["values"]["reference_images"] == 12  # fewer than 800 real images: all of them
    assert [row["element"] for row in lbp["tables"]["lbp_vector"]][:2] == ["V0", "V1"]
    assert "RGB colour image converted" in err and "16-bit gray mapped" in err
    table = pd.read_csv(csv)
    assert len(table) == 6 and list(table.columns[:2]) == ["synthetic_index", "synthetic_name"]
    assert {"psnr_mean_db", "psnr_nearest_db", "mi_mean_bits", "nmi_mean", "lbp_chi_square"} <= set(table.columns)
    assert table.psnr_mean_db.mean() == pytest.approx(report["metrics"]["psnr"]["values"]["psnr_mean_db"])
    assert len(list((tmp_path / "cache").glob("lbp-histograms-*.npz"))) == 1


def test_human_table(folders, capsys):
    real, synthetic = folders
    code, out, _ = run(
        capsys,
        "--real",
        str(real),
        "--synthetic",
        str(synthetic),
        "--size",
        "64",
        "--metrics",
        "psnr,lbp",
        "--quiet",
        "--cache",
        str(real.parent / "cache"),
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split() == ["metric", "value"]
    assert any(line.split()[:2] == ["psnr", "psnr_mean_db"] for line in lines)
    assert any(line.split()[:2] == ["lbp", "V143"] for line in lines)


@pytest.mark.parametrize(
    ("arrange", "metrics", "message"),
    [
        (lambda real, synthetic: [path.unlink() for path in synthetic.iterdir()], "psnr", "holds no image files"),
        (
            lambda real, synthetic: [path.unlink() for path in list(synthetic.iterdir())[1:]],
            "fid",
            "fid needs at least 2 synthetic images, got 1 (the covariance of one image is undefined)",
        ),
        (
            lambda real, synthetic: (synthetic / "gray0.png").write_bytes(b"garbage"),
            "psnr",
            "gray0.png: not a readable image",
        ),
        (lambda real, synthetic: None, "psnr,sharpness", "unknown metric(s) sharpness"),
    ],
)
def test_bad_input_is_one_line_and_status_2(folders, capsys, arrange, metrics, message):
    real, synthetic = folders
    arrange(real, synthetic)
    code, out, err = run(
        capsys,
        "--real",
        str(real),
        "--synthetic",
        str(synthetic),
        "--size",
        "64",
        "--metrics",
        metrics,
        "--quiet",
        "--cache",
        str(real.parent / "cache"),
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_missing_folder_and_unsupported_size(tmp_path, capsys):
    code, _, err = run(capsys, "--real", str(tmp_path / "absent"), "--synthetic", str(tmp_path), "--size", "64")
    assert code == 2 and "is not a folder" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--real", str(tmp_path), "--synthetic", str(tmp_path), "--size", "100"])
    assert exit_info.value.code == 2


def test_module_entry_point_imports_no_django(folders):
    real, synthetic = folders
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['evaluation', 'compare', '--real', {str(real)!r}, '--synthetic', {str(synthetic)!r},"
        f" '--size', '64', '--metrics', 'psnr', '--json', '--quiet', '--cache', {str(real.parent / 'cache')!r}]\n"
        "try:\n    runpy.run_module('evaluation', run_name='__main__')\n"
        "except SystemExit as done:\n    code = done.code\n"
        "django = sorted(name for name in sys.modules if name.split('.')[0] == 'django')\n"
        "assert not django, django\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["metrics"]["psnr"]["values"]["psnr_mean_db"] > 0


def test_registry_names(capsys):
    assert main(["metrics"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == list(METRICS)
    assert list(METRICS) == [
        "fid",
        "fid_infinity",
        "kid",
        "precision_recall",
        "density_coverage",
        "psnr",
        "mutual_information",
        "lbp",
        "diversity",
        "memorisation",
    ]
