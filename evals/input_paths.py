"""What kind of thing an input path is, checked before it is opened: a folder where a file
belongs is a clear error, and a pipe or device (which a read would wait on forever) is refused."""

from __future__ import annotations

from pathlib import Path


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as an input file, or None if it is a regular file (or absent:
    opening it then says so)."""
    if path.is_dir():
        return "is a folder, not a file"
    if path.exists() and not path.is_file():
        return "is not a regular file (a pipe, socket or device)"
    return None
