"""One plain line for any failure of the command line: the problem and the fix."""

from __future__ import annotations

import errno

_MAX_CHARS = 600


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_CHARS else text[:_MAX_CHARS - 3] + "..."


def _file_problem(error: OSError, inputs: list[str]) -> str:
    text = _one_line(error)
    from_hdf5 = "Unable to synchronously open file" in text or "file signature not found" in text
    if error.errno is None and error.filename is None and not from_hdf5:
        return text  # raised with a plain message (e.g. "No FADVI model file at ...")
    named = error.filename or (inputs[0] if inputs else "the file")
    if isinstance(error, PermissionError):
        return f"Permission denied for {named}. Choose a file or folder you can read and write."
    if error.errno == errno.ENOSPC:
        return f"The disk is full while writing {named}. Free some space or write elsewhere."
    if isinstance(error, IsADirectoryError) or error.errno == errno.EISDIR:
        return f"{named} is a folder; give the path of an .h5ad file."
    if isinstance(error, FileNotFoundError) or error.errno == errno.ENOENT:
        return f"No such file: {named}. Check the path."
    if from_hdf5:
        return (f"{named} is not a readable .h5ad file, or it is damaged ({text}). "
                "Check the path, or write the file again with AnnData's write_h5ad.")
    return f"Could not read or write {named} ({text}). Check the path and the disk."


def describe_error(error: BaseException, *, inputs: list[str] | None = None) -> str:
    """The message ``fadvi`` prints for ``error``, one line, without the ``fadvi:`` prefix.

    Parameters
    ----------
    error
        What was raised.
    inputs
        The files named on the command line, the data file first; the first is named when the
        error does not name its file (h5py's errors do not).
    """
    inputs = [str(path) for path in inputs or []]
    if isinstance(error, KeyboardInterrupt):
        return "Interrupted; nothing was written."
    if isinstance(error, MemoryError) or "out of memory" in str(error).lower():
        return ("Not enough memory for this data. Use a smaller --batch-size, fewer cells or "
                "genes (e.g. highly variable genes), or a machine with more memory.")
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str) \
            and " " in error.args[0]:
        return _one_line(error.args[0])  # our own messages, raised as KeyError
    if isinstance(error, (ValueError, FileExistsError)):
        return _one_line(error)
    if isinstance(error, OSError):
        return _file_problem(error, inputs)
    detail = _one_line(error) or "no details"
    return (f"Unexpected {type(error).__name__}: {detail}. Check the input file and options; "
            "rerun with --debug to see where it happened, and report it if the input is fine.")
