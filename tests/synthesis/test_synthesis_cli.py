import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from synthesis.__main__ import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(*arguments):
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}  # tiny models; see one_cpu_thread in conftest
    return subprocess.run(
        [sys.executable, "-m", "synthesis", *map(str, arguments)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_train_then_generate_on_real_images(tmp_path, hc18_images):
    run_dir = tmp_path / "run"
    trained = run_cli(
        "train",
        "--data",
        hc18_images,
        "--size",
        64,
        "--epochs",
        2,
        "--train-images",
        6,
        "--checkpoints",
        "1,2",
        "--seed",
        0,
        "--out",
        run_dir,
        "--ngf",
        4,
        "--ndf",
        4,
        "--batch-size",
        4,
        "--device",
        "cpu",
    )
    assert trained.returncode == 0, trained.stderr
    assert (run_dir / "snapshot_epoch0001.pt").exists() and (run_dir / "snapshot_epoch0002.pt").exists()
    listed = (run_dir / "training_images.txt").read_text().splitlines()
    assert len(listed) == 6 and all(line.endswith(".png") for line in listed)

    generated = run_cli(
        "generate", "--checkpoint", run_dir / "snapshot_epoch0002.pt", "-n", 3, "--seed", 0, "--out", tmp_path / "gen"
    )
    assert generated.returncode == 0, generated.stderr
    names = sorted(path.name for path in (tmp_path / "gen").iterdir())
    assert names == ["0000.png", "0001.png", "0002.png"]
    with Image.open(tmp_path / "gen" / "0000.png") as image:
        assert image.mode == "L" and image.size == (64, 64)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--epochs", 2, "--train-images", 5000], "cannot draw 5000 training images from a set of 999"),
        (["--epochs", 2, "--checkpoints", "1,3"], "2 epochs never reach snapshot epoch 3"),
        (["--epochs", 2, "--checkpoints", "0,2"], "snapshot epochs must be positive"),
        (["--size", 64, "--lr", 0], "need lr > 0"),
        (["--label-smoothing", 0.9], "--label-smoothing must be in [0, 0.5)"),
    ],
)
def test_bad_training_input_exits_with_one_line(tmp_path, hc18_images, capsys, arguments, message):
    # In-process: the exit status and message come from main(); the subprocess tests cover the entry point.
    assert main(["train", "--data", str(hc18_images), "--out", str(tmp_path / "run"), *map(str, arguments)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}")


def test_missing_or_empty_data_directory_exits_with_one_line(tmp_path, capsys):
    for data, message in [(tmp_path / "missing", "does not exist"), (tmp_path, "no images found")]:
        assert (
            main(["train", "--data", str(data), "--out", str(tmp_path / "run"), "--epochs", "1", "--checkpoints", "1"])
            == 2
        )
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


def test_generate_from_a_non_snapshot_exits_with_one_line(tmp_path):
    (tmp_path / "fake.pt").write_bytes(b"junk")
    result = run_cli("generate", "--checkpoint", tmp_path / "fake.pt", "--out", tmp_path / "gen")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'fake.pt'} is not a generator snapshot of this tool (a snapshot_epochNNNN.pt)"
    ]


def test_library_does_not_depend_on_django():
    sources = sorted((REPO_ROOT / "synthesis").glob("*.py"))
    assert len(sources) >= 7
    for source in sources:
        lines = source.read_text().splitlines()
        assert not [line for line in lines if line.lstrip().startswith(("import django", "from django"))], source
