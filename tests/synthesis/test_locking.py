import pytest

from synthesis.locking import LockHeld, file_lock


def test_shared_holders_keep_an_exclusive_one_out_and_the_last_removes_the_file(tmp_path):
    path = tmp_path / "store.lock"
    with file_lock(path, shared=True, remove_when_free=True):
        with file_lock(path, shared=True, remove_when_free=True):
            with pytest.raises(LockHeld):
                with file_lock(path, wait=False, remove_when_free=True):
                    pass
        assert path.exists()  # still held by the first
    assert not path.exists()
    with file_lock(path, wait=False, remove_when_free=True):
        assert path.read_text().strip().isdigit()  # the exclusive holder's pid
    assert not path.exists()
