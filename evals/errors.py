"""Input errors that name the file, line, record and field, so users never see a traceback."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError


@dataclass(frozen=True)
class InputIssue:
    """One problem in one input file."""

    file: str
    message: str
    line: int | None = None
    record: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.record:
            parts.append(f"record '{self.record}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ": ".join([*parts, self.message])


class InputError(Exception):
    """One or more problems with the user's input files (exit code 2)."""

    def __init__(self, issues: Iterable[InputIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    @classmethod
    def single(
        cls,
        file: str | Path,
        message: str,
        *,
        line: int | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> InputError:
        return cls([InputIssue(str(file), message, line, record, field)])


def field_path(loc: tuple[int | str, ...]) -> str:
    """pydantic's error location as a dotted path: ('messages', 0, 'role') -> messages[0].role."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def issues_from_validation(
    exc: ValidationError,
    *,
    file: str | Path,
    record: str | None = None,
    line_of: dict[tuple[int | str, ...], int] | None = None,
    prefix: tuple[int | str, ...] = (),
    default_line: int | None = None,
) -> list[InputIssue]:
    """Turn a pydantic ValidationError into InputIssues, with YAML lines when known."""
    issues = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        line = default_line
        if line_of is not None:
            # The most specific location that has a known line.
            full = prefix + loc
            for cut in range(len(full), -1, -1):
                if full[:cut] in line_of:
                    line = line_of[full[:cut]]
                    break
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see the format in the README)"
        elif err["type"] == "missing":
            message = "required field is missing"
        issues.append(
            InputIssue(str(file), message, line=line, record=record, field=field_path(loc) or None)
        )
    return issues


def error_text(exc: BaseException) -> str:
    """An exception's message as users should read it: `str(KeyError(m))` is `repr(m)`, which
    would wrap the message in stray quotes (and escape the quotes inside it)."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)
