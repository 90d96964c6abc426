"""One atomic writer for every file the project writes.

`write_atomically` writes to a temporary file next to the target, flushes it to disk (file and
folder), then renames it over the target: a crash leaves either the old file or the new one,
never half a file. Temporary files are named ``.fadvi-tmp-<pid>-<token>-<target name>``; they are
removed on any error, and those left by a process that no longer runs (killed mid-save) are
removed at the next save into the same folder. Written files get the usual permissions
(``0666`` less the umask), like any other program's output.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

TEMP_PREFIX = ".fadvi-tmp-"
_TEMP_NAME = re.compile(r"^\.fadvi-tmp-(\d+)-[0-9a-f]{8}-")


def _process_is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists but belongs to someone else, or we cannot tell: keep its file
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete our temporary files in ``folder`` whose writing process is gone; return them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or _process_is_running(int(match.group(1))):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass  # removed by someone else meanwhile, or not ours to remove
    return removed


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        handle = os.open(path, flags)
    except OSError:
        if directory:  # some platforms (Windows) cannot open folders; the rename still holds
            return
        raise
    try:
        os.fsync(handle)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(handle)


def write_atomically(path: str | os.PathLike, write: Callable[[Path], object], *,
                     create_folder: bool = True) -> Path:
    """Write a file through ``write(temporary_path)`` and move it into place atomically.

    Parameters
    ----------
    path
        The file to create or replace.
    write
        Called once with the path of an empty temporary file in the same folder, with the same
        suffix as ``path``; it writes the whole content there (e.g. ``adata.write_h5ad``,
        ``frame.to_csv`` or ``numpy.savez``).
    create_folder
        Create the folder of ``path`` if it does not exist; otherwise raise `FileNotFoundError`
        (for paths a person picked, where a missing folder is more likely a mistake).

    Returns
    -------
    The path written, as a `~pathlib.Path`.

    Notes
    -----
    The temporary file is flushed to disk and the folder synced before and after the rename.
    On any error (or ``KeyboardInterrupt``) the temporary file is removed and the old file, if
    any, is left as it was.
    """
    target = Path(path)
    folder = target.parent
    if create_folder:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(f"The folder {folder} does not exist. Choose an existing folder.")
    remove_stale_temporaries(folder)
    temporary = folder / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{target.name}"
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    os.close(handle)
    try:
        write(temporary)
        _fsync_path(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_path(folder, directory=True)
    return target
