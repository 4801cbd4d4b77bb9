import csv
import json
import os
import subprocess
import sys
import time

import pytest
import torch

from synthesis.config import TrainingConfig, read_history, resume_epoch
from synthesis.data import choose_subset, list_images, load_images
from synthesis.training import RunDirectoryBusy, train
from tests.conftest import REPO_ROOT


def final_state(out_dir):
    return torch.load(out_dir / "resume.pt", map_location="cpu", weights_only=False)


def assert_same_weights(first, second):
    for network in ("generator", "discriminator"):
        assert first[network].keys() == second[network].keys()
        for name, tensor in first[network].items():
            assert torch.equal(tensor, second[network][name]), f"{network}.{name} differs"


def test_same_seed_same_losses_other_seed_other_losses(tmp_path, make_config, images64):
    config = make_config(epochs=2, snapshot_epochs=(2,))
    first = train(config, images64, tmp_path / "a")
    second = train(config, images64, tmp_path / "b")
    other = train(make_config(epochs=2, snapshot_epochs=(2,), seed=1), images64, tmp_path / "c")
    assert first == second
    assert [record["g_loss"] for record in first] != [record["g_loss"] for record in other]
    assert_same_weights(final_state(tmp_path / "a"), final_state(tmp_path / "b"))


def test_history_values_and_files(tmp_path, make_config, images64):
    history = train(make_config(), images64, tmp_path)
    assert [record["epoch"] for record in history] == [1, 2, 3]
    for record in history:
        assert record["d_loss"] > 0 and record["g_loss"] > 0
        assert 0 < record["d_real"] < 1 and 0 < record["d_fake"] < 1
    assert json.loads((tmp_path / "history.json").read_text()) == history
    with open(tmp_path / "history.csv") as file:
        rows = list(csv.DictReader(file))
    assert [float(row["g_loss"]) for row in rows] == [record["g_loss"] for record in history]
    assert (tmp_path / "losses.png").read_bytes().startswith(b"\x89PNG")


def test_stopped_run_resumes_exactly(tmp_path, make_config, images64):
    config = make_config(resume_every=5)
    straight = train(config, images64, tmp_path / "straight")
    partial = train(config, images64, tmp_path / "resumed", should_stop=lambda epoch: epoch == 2)
    assert len(partial) == 2
    resumed = train(config, images64, tmp_path / "resumed")
    assert resumed == straight
    assert_same_weights(final_state(tmp_path / "straight"), final_state(tmp_path / "resumed"))
    assert final_state(tmp_path / "resumed")["d_optimizer"]["state"][0]["step"] == 9


def test_crashed_run_resumes_from_the_last_rolling_checkpoint(tmp_path, make_config, images64):
    config = make_config(epochs=4, snapshot_epochs=(4,), resume_every=2)
    straight = train(config, images64, tmp_path / "straight")

    def crash_in_epoch_3(epoch, epochs, record):
        if epoch == 3:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        train(config, images64, tmp_path / "resumed", progress=crash_in_epoch_3)
    assert final_state(tmp_path / "resumed")["epoch"] == 2
    epochs_run = []
    resumed = train(
        config, images64, tmp_path / "resumed", progress=lambda epoch, epochs, record: epochs_run.append(epoch)
    )
    assert epochs_run == [3, 4]
    assert resumed == straight
    assert_same_weights(final_state(tmp_path / "straight"), final_state(tmp_path / "resumed"))


def test_the_history_can_be_followed_epoch_by_epoch(tmp_path, make_config, images64):
    """After every epoch its line is on disk, while the resume checkpoint holds only every second epoch."""
    seen = []

    def look(epoch, epochs, record):
        seen.append((read_history(tmp_path), resume_epoch(tmp_path)))

    history = train(make_config(epochs=5, snapshot_epochs=(5,), resume_every=2), images64, tmp_path, progress=look)
    assert [trained for trained, _ in seen] == [history[:epoch] for epoch in range(1, 6)]
    assert [checkpoint for _, checkpoint in seen] == [0, 0, 2, 2, 4]
    assert resume_epoch(tmp_path) == 5 and read_history(tmp_path) == history


def test_a_killed_run_shows_what_it_trained_and_resumes_from_its_checkpoint(tmp_path, make_config, images64):
    config = make_config(epochs=4, snapshot_epochs=(4,), resume_every=2)

    def killed_after_epoch_3(epoch, epochs, record):
        if epoch == 3:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        train(config, images64, tmp_path, progress=killed_after_epoch_3)
    trained = read_history(tmp_path)
    assert [record["epoch"] for record in trained] == [1, 2, 3]
    assert resume_epoch(tmp_path) == 2

    logged_on_resuming = []
    resumed = train(
        config,
        images64,
        tmp_path,
        progress=lambda epoch, epochs, record: logged_on_resuming.append(read_history(tmp_path)),
    )
    assert [record["epoch"] for record in logged_on_resuming[0]] == [1, 2, 3]
    assert logged_on_resuming[0][:2] == trained[:2]
    assert read_history(tmp_path) == resumed


def test_a_history_line_still_being_written_is_left_out(tmp_path, make_config, images64):
    history = train(make_config(epochs=2, snapshot_epochs=(2,)), images64, tmp_path)
    with open(tmp_path / "history.csv", "a") as file:
        file.write("3,0.69")
    assert read_history(tmp_path) == history
    assert read_history(tmp_path / "not trained") == [] and resume_epoch(tmp_path / "not trained") == 0


def test_finished_run_is_not_trained_again(tmp_path, make_config, images64):
    config = make_config(epochs=2, snapshot_epochs=(2,))
    history = train(config, images64, tmp_path)
    calls = []
    assert train(config, images64, tmp_path, progress=lambda *args: calls.append(args)) == history
    assert calls == []


def test_resume_with_another_config_is_refused(tmp_path, make_config, images64):
    train(make_config(), images64, tmp_path, should_stop=lambda epoch: True)
    with pytest.raises(ValueError, match="different config.*lr"):
        train(make_config(lr=1e-3), images64, tmp_path)
    train(make_config(resume_every=2), images64, tmp_path)


def test_snapshots_exactly_at_the_requested_epochs(tmp_path, make_config, images64):
    train(make_config(epochs=4, snapshot_epochs=(1, 3)), images64, tmp_path)
    assert sorted(path.name for path in tmp_path.glob("snapshot_*")) == [
        "snapshot_epoch0001.pt",
        "snapshot_epoch0003.pt",
    ]
    assert sorted(path.name for path in tmp_path.glob("samples_*")) == [
        "samples_epoch0001.png",
        "samples_epoch0003.png",
    ]
    snapshot = torch.load(tmp_path / "snapshot_epoch0003.pt", weights_only=True)
    assert snapshot["epoch"] == 3 and snapshot["config"]["snapshot_epochs"] == (1, 3)
    assert "discriminator" not in snapshot


def test_label_smoothing_changes_training(tmp_path, make_config, images64):
    plain = train(make_config(epochs=2, snapshot_epochs=(2,)), images64, tmp_path / "plain")
    smoothed = train(make_config(epochs=2, snapshot_epochs=(2,), real_label=0.9), images64, tmp_path / "smoothed")
    assert plain[0]["d_loss"] != smoothed[0]["d_loss"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"epochs": 2, "snapshot_epochs": (2, 3)}, "2 epochs never reach snapshot epoch 3"),
        ({"snapshot_epochs": (0, 3)}, "snapshot epochs must be positive"),
        ({"snapshot_epochs": ()}, "snapshot epochs must be positive"),
        ({"architecture": "dcgan256"}, "unknown architecture"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"real_label": 0.1}, r"real_label must be in \(0.5, 1\]"),
        ({"resize_mode": "pad"}, "unknown resize mode"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_invalid_configs_are_refused(make_config, changes, message):
    with pytest.raises(ValueError, match=message):
        make_config(**changes)


def test_paper_defaults():
    config = TrainingConfig()
    assert (config.lr, config.beta1, config.beta2, config.batch_size) == (2e-4, 0.5, 0.999, 128)
    assert (config.nz, config.ngf, config.ndf, config.real_label) == (100, 64, 64, 1.0)
    assert config.snapshot_epochs == (300, 500, 800, 1000) and config.image_size == 64


def test_images_must_match_the_config(tmp_path, make_config, images64):
    with pytest.raises(ValueError, match="config asks for 30 training images but 20 were given"):
        train(make_config(train_images=30), images64, tmp_path)
    with pytest.raises(ValueError, match=r"shape \(n, 1, 128, 128\)"):
        train(make_config(architecture="dcgan128"), images64, tmp_path)
    with pytest.raises(ValueError, match="no training images"):
        train(make_config(), images64[:0], tmp_path)
    with pytest.raises(ValueError, match="uint8"):
        train(make_config(), images64.float(), tmp_path)


def test_a_second_trainer_is_refused_until_the_first_one_dies(tmp_path, make_config, hc18_images):
    """Two trainers on one run directory would interleave their checkpoints; the lock dies with its holder."""
    config = make_config(epochs=100_000, snapshot_epochs=(100_000,), train_images=8, nz=100)
    paths = choose_subset(list_images(hc18_images), config.train_images, config.seed)
    first = subprocess.Popen(
        [sys.executable, "-m", "synthesis", "train", "--data", hc18_images, "--out", tmp_path, "--size", "64"]
        + ["--epochs", "100000", "--checkpoints", "100000", "--train-images", "8", "--ngf", "8", "--ndf", "8"]
        + ["--batch-size", "8", "--resume-every", "1", "--device", "cpu"],
        cwd=REPO_ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "history.json").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (tmp_path / "history.json").exists(), "the first trainer saved no epoch"
        with pytest.raises(RunDirectoryBusy, match=f"being trained by another process \\(pid {first.pid}\\)"):
            train(config, load_images(paths, 64, "stretch"), tmp_path, should_stop=lambda epoch: True)
    finally:
        first.kill()  # SIGKILL: no chance to let go of anything
        first.wait()
    saved_by_the_first = final_state(tmp_path)["epoch"]
    resumed = train(config, load_images(paths, 64, "stretch"), tmp_path, should_stop=lambda epoch: True)
    assert len(resumed) == saved_by_the_first + 1
