"""The starter project `evals init` writes: a policy book, cases in two intents and two
languages, a suite, labelled responses, scan transcripts, `.gitignore` and a CI workflow.

The project is the data under `files/`, copied byte for byte; a path part starting with `dot-`
is written with a leading dot instead (`dot-gitignore` -> `.gitignore`), so the package's own
files are never hidden or read by git as its ignore rules. Nothing is overwritten unless
`force` is given, and then only the files the scaffold writes: nothing else is deleted.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from evals.errors import InputError, InputIssue

FILES = Path(__file__).resolve().parent / "files"

CiChoice = Literal["github", "gitlab", "none"]
#: The CI file each `--ci` choice writes (paths as in FILES).
CI_FILES: dict[str, str] = {
    "github": "dot-github/workflows/evals.yml",
    "gitlab": "dot-gitlab-ci.yml",
}


@dataclass(frozen=True)
class Planned:
    """One file of the scaffold: where it comes from and where it goes."""

    source: Path
    relative: PurePosixPath
    destination: Path


def _written_name(relative: PurePosixPath) -> PurePosixPath:
    parts = ["." + part[4:] if part.startswith("dot-") else part for part in relative.parts]
    return PurePosixPath(*parts)


def plan(folder: Path, ci: CiChoice = "github") -> list[Planned]:
    """Every file the scaffold writes into `folder`, in a stable order."""
    skipped = {name for choice, name in CI_FILES.items() if choice != ci}
    out = []
    for source in sorted(FILES.rglob("*")):
        relative = PurePosixPath(source.relative_to(FILES).as_posix())
        if not source.is_file() or "__pycache__" in relative.parts or str(relative) in skipped:
            continue
        written = _written_name(relative)
        out.append(Planned(source, written, folder.joinpath(*written.parts)))
    return out


def _kind(path: Path) -> str | None:
    """'file', 'folder', 'link', 'other', None (absent), or why it cannot be looked at."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"cannot use this path: {exc.strerror or exc}"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


_WHAT = {
    "file": "is a file",
    "folder": "is a folder",
    "link": "is a symbolic link",
    "other": "is a pipe, socket or device",
}


def _what(kind: str) -> str:
    return _WHAT.get(kind, kind)  # else it is already why the path cannot be looked at


def problems(folder: Path, files: list[Planned], *, force: bool) -> list[InputIssue]:
    """Why the scaffold cannot be written as planned: a file in the way (unless `force`), or a
    path of the wrong kind (never replaced, even with `force`)."""
    kind = _kind(folder)
    if kind not in (None, "folder") and not (kind == "link" and folder.is_dir()):
        what = _what(kind) + (", not a folder" if kind in _WHAT else "")
        return [InputIssue(str(folder), f"{what}; give the folder to create the project in")]
    issues: list[InputIssue] = []
    folders_checked: set[Path] = set()
    for item in files:
        for parent in reversed(item.destination.relative_to(folder).parents[:-1]):
            path = folder / parent
            if path in folders_checked:
                continue
            folders_checked.add(path)
            parent_kind = _kind(path)
            if parent_kind in (None, "folder") or (parent_kind == "link" and path.is_dir()):
                continue
            what = _what(parent_kind)
            issues.append(InputIssue(str(path), f"{what}, not a folder; move it away"))
        found = _kind(item.destination)
        if found is None:
            continue
        if found not in ("file", "link"):
            issues.append(InputIssue(str(item.destination), f"{_what(found)}; move it away"))
        elif not force:
            issues.append(
                InputIssue(
                    str(item.destination),
                    "already exists; evals init never replaces a file unless --force is given",
                )
            )
    return issues


def write(folder: Path, ci: CiChoice = "github", *, force: bool = False) -> list[Planned]:
    """Write the scaffold into `folder` (created if absent); return what was written.

    Raises InputError naming every file in the way before anything is written."""
    files = plan(folder, ci)
    issues = problems(folder, files, force=force)
    if issues:
        raise InputError(issues)
    for item in files:
        try:
            item.destination.parent.mkdir(parents=True, exist_ok=True)
            if force and item.destination.is_symlink():
                item.destination.unlink()  # replace the link itself, never what it points to
            item.destination.write_bytes(item.source.read_bytes())
        except OSError as exc:
            raise InputError.single(item.destination, f"cannot write: {exc}") from None
    return files
