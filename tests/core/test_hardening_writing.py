"""Every file is written by one atomic writer: fsynced, renamed, cleaned up, usual permissions."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fadvi_core
from fadvi_core import write_atomically

ATOMIC = Path(fadvi_core.__file__).with_name("_atomic.py")
# Loads only the writer (no torch), writes a large file slowly, then waits to be killed.
_SLOW_WRITER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("atomic", sys.argv[1])
atomic = importlib.util.module_from_spec(spec); spec.loader.exec_module(atomic)
def write(path):
    with open(path, "wb") as file:
        file.write(b"x" * 1_000_000); file.flush()
        print("writing", flush=True); time.sleep(60)
atomic.write_atomically(sys.argv[2], write)
"""


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".fadvi-tmp-" in p.name)


def test_temporary_of_a_killed_save_is_cleaned_at_the_next_save(trained, tmp_path):
    model, _ = trained
    model.save(tmp_path)
    old = (tmp_path / "fadvi_model.npz").read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(ATOMIC),
                               str(tmp_path / "fadvi_model.npz")], stdout=subprocess.PIPE)
    assert writer.stdout.readline() == b"writing\n"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    left = _temporaries(tmp_path)
    assert len(left) == 1 and left[0].startswith(f".fadvi-tmp-{writer.pid}-")
    assert (tmp_path / "fadvi_model.npz").read_bytes() == old  # the old file survived
    alive = tmp_path / f".fadvi-tmp-{os.getpid()}-0123abcd-other.npz"  # a live save's
    alive.touch()
    unrelated = tmp_path / ".fadvi_model.npz.tmp1234"  # not ours
    unrelated.touch()
    model.save(tmp_path, overwrite=True)
    assert _temporaries(tmp_path) == [alive.name]
    assert unrelated.exists()


def test_temporary_is_removed_on_error_and_target_kept(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")

    def fail(path):
        Path(path).write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(target, fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_file_and_folder_are_fsynced_before_and_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append(
        ("fsync", stat.S_ISDIR(os.fstat(fd).st_mode))) or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda *a: events.append(("replace",)) or real_replace(*a))
    write_atomically(tmp_path / "a.txt", lambda path: Path(path).write_text("data"))
    assert events == [("fsync", False), ("replace",), ("fsync", True)]


def test_written_files_get_the_usual_permissions(trained, tmp_path, umask_022):
    model, _ = trained
    model.save(tmp_path, save_anndata=True)
    for name in ("fadvi_model.npz", "adata.h5ad"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
    os.umask(0o077)
    write_atomically(tmp_path / "private.npy", lambda path: np.save(path, np.zeros(2)))
    assert stat.S_IMODE((tmp_path / "private.npy").stat().st_mode) == 0o600


def test_the_saved_model_still_loads(trained, tmp_path):
    model, data = trained
    model.save(tmp_path)
    loaded = fadvi_core.FADVI.load(tmp_path, adata=data.copy())
    assert (loaded.predict() == model.predict()).all()
    assert _temporaries(tmp_path) == []


def test_a_missing_folder_is_an_error_when_not_to_be_created(tmp_path):
    target = tmp_path / "typo" / "predictions.csv"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_atomically(target, lambda temporary: temporary.write_text("x"), create_folder=False)
    assert not (tmp_path / "typo").exists()
    assert write_atomically(target, lambda temporary: temporary.write_text("x")).read_text() == "x"
