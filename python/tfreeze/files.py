"""Writing output files so that a failure never leaves a partial file behind."""

from __future__ import annotations

import os
import tempfile

__all__ = ["check_writable", "write_atomically"]


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fails early, before any work, on an output path that cannot be a file."""
    path = os.fspath(path)
    if "\0" in path:
        raise ValueError(f"output path {path!r} contains a NUL byte")
    if os.path.isdir(path):
        raise IsADirectoryError(f"output path {path!r} is a directory; give a file name")
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(directory):
        _probe(directory, path)  # the only sure test: make a file there
        return
    existing = directory
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(
            f"cannot write {path!r}: {existing!r} is not a folder tfreeze may write in"
        )


def _probe(directory: str, path: str) -> None:
    try:
        handle, probe = tempfile.mkstemp(dir=directory, prefix=".tfreeze-", suffix=".tmp")
    except OSError as error:
        raise OSError(error.errno, f"cannot write {path!r}: {error.strerror}") from None
    os.close(handle)
    os.unlink(probe)


def _umask() -> int:
    """Read from /proc on Linux; elsewhere set and restored (briefly process-wide)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Writes ``data`` to a temporary file beside ``path``, then renames it into
    place: readers see the old file or the whole new one, never a partial one."""
    path = os.fspath(path)
    check_writable(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tfreeze-", suffix=".tmp")
    except OSError as error:
        raise OSError(error.errno, f"cannot write {path!r}: {error.strerror}") from None
    try:
        # mkstemp makes the file 0600; give it the mode any new file gets, so a
        # server running as another user can read a copied model.
        os.chmod(temporary, 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
