"""What kind of thing an input path is, checked before it is opened: a folder where a file
belongs is a clear error, a pipe or device (which a read would wait on forever) is refused, and
a path the system cannot look at (a name too long, no permission, a symlink loop) is named
instead of raising from `Path.exists()` deep inside a loader."""

from __future__ import annotations

import stat
from pathlib import Path


def _mode(path: Path) -> int | str | None:
    """The path's file mode, None if it does not exist, or why it cannot be looked at."""
    try:
        return path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"cannot use this path: {exc.strerror or exc}"


def path_problem(path: Path) -> str | None:
    """Why `path` cannot be looked at, or None (it may still not exist)."""
    mode = _mode(path)
    return mode if isinstance(mode, str) else None


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as an input file, or None if it is a regular file (or absent:
    opening it then says so)."""
    mode = _mode(path)
    if mode is None or isinstance(mode, str):
        return mode
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, socket or device)"
    return None


def folder_problem(path: Path) -> str | None:
    """Why `path` cannot be used as a folder, or None if it is one (or does not exist yet)."""
    mode = _mode(path)
    if mode is None or isinstance(mode, str):
        return mode
    return None if stat.S_ISDIR(mode) else "is a file, not a folder"


def output_file_problem(path: Path) -> str | None:
    """Why `path` cannot be written as an output file (a folder is in the way, or the path
    cannot be looked at), or None. A pipe or device (`/dev/stdout`) is a fine output."""
    mode = _mode(path)
    if isinstance(mode, int) and stat.S_ISDIR(mode):
        return "is a folder, not a file"
    return mode if isinstance(mode, str) else None
