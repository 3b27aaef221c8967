"""Reading cases, policy books and labelled responses from files.

Cases are authored in YAML (several per file, with comments and multi-line text) and can also come
from JSONL, CSV, Parquet or a hub dataset through `datasets`. Every loader collects problems as
`InputIssue`s naming file, line (YAML/JSONL), record and field, so one pass reports every error.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from evals import bounded_json
from evals.bounded_json import BadJSON
from evals.errors import InputError, InputIssue, did_you_mean, issues_from_validation
from evals.input_paths import file_problem, path_problem
from evals.records import Case, LabelledResponse, PolicyBook
from evals.yaml_lines import LineMap, load_yaml

YAML_SUFFIXES = {".yaml", ".yml"}
TABLE_SUFFIXES = {".jsonl", ".csv", ".parquet"}
TEXT_POLICY_SUFFIXES = {".md", ".txt"}
#: Columns that tabular sources carry as JSON text (CSV cannot nest).
NESTED_COLUMNS = ("messages", "facts", "expect", "tags")

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Located(Generic[T]):
    """A record with where it was written: its file, its first line and the line of each of
    its top-level fields (YAML; a JSONL or CSV record has one line for every field)."""

    item: T
    file: str
    line: int | None = None
    field_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int | None:
        return self.field_lines.get(name, self.line)

    def issue(
        self, message: str, *, field: str | None = None, record: str | None = None
    ) -> InputIssue:
        return InputIssue(
            self.file,
            message,
            line=self.line_of(field.split(".")[0]) if field else self.line,
            record=record,
            field=field,
        )


def _field_lines(
    lines: LineMap, prefix: tuple[int | str, ...], item: dict[str, Any]
) -> dict[str, int]:
    return {key: lines[(*prefix, key)] for key in item if (*prefix, key) in lines}


def _record_id(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("id"), str | int):
        return str(data["id"])
    return None


def _validate(
    model: type[BaseModel],
    data: Any,
    *,
    file: Path,
    issues: list[InputIssue],
    lines: LineMap | None = None,
    prefix: tuple[int | str, ...] = (),
    line: int | None = None,
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues.extend(
            issues_from_validation(
                exc,
                model=model,
                file=file,
                record=_record_id(data),
                line_of=lines,
                prefix=prefix,
                default_line=line if line is not None else (lines or {}).get(prefix),
            )
        )
        return None


# --- YAML shapes ---------------------------------------------------------------------------


def yaml_kind(data: Any) -> str | None:
    """Recognise what a YAML document is: 'suite', 'policy', 'policies', 'cases', 'labelled'."""
    if isinstance(data, dict):
        if "targets" in data:
            return "suite"
        if "cases" in data:
            return "cases"
        if "text" in data and "id" in data:
            return "policy"
        if data and all(isinstance(v, dict) and "text" in v for v in data.values()):
            return "policies"
        if "messages" in data and "id" in data:
            return "cases"
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        if all("response" in item and "case" in item for item in data):
            return "labelled"
        if all("messages" in item for item in data):
            return "cases"
    return None


def cases_from_yaml(path: Path, data: Any, lines: LineMap, issues: list[InputIssue]) -> list[Case]:
    """Cases of a YAML case file: a list of cases, one case, or {defaults: ..., cases: [...]}."""
    return [located.item for located in located_cases_from_yaml(path, data, lines, issues)]


def located_cases_from_yaml(
    path: Path, data: Any, lines: LineMap, issues: list[InputIssue]
) -> list[Located[Case]]:
    """`cases_from_yaml`, each case with its file and lines."""
    defaults: dict[str, Any] = {}
    prefix: tuple[int | str, ...] = ()
    if isinstance(data, dict) and "cases" in data:
        unknown = set(data) - {"defaults", "cases"}
        for key in sorted(unknown):
            issues.append(
                InputIssue(
                    str(path),
                    "unknown top-level key (a case file has `defaults` and `cases`)"
                    + did_you_mean(key, ["defaults"]),
                    line=lines.get((key,)),
                    field=key,
                )
            )
        raw_defaults = data.get("defaults") or {}
        if not isinstance(raw_defaults, dict):
            issues.append(
                InputIssue(str(path), "`defaults` must be a mapping", line=lines.get(("defaults",)))
            )
            raw_defaults = {}
        defaults = raw_defaults
        items = data["cases"]
        prefix = ("cases",)
    elif isinstance(data, dict):
        items = [data]
        prefix = ()
    else:
        items = data
    if not isinstance(items, list):
        issues.append(InputIssue(str(path), "`cases` must be a list", line=lines.get(prefix)))
        return []
    cases: list[Located[Case]] = []
    for index, item in enumerate(items):
        item_prefix = (*prefix, index) if prefix or isinstance(data, list) else ()
        if not isinstance(item, dict):
            issues.append(
                InputIssue(str(path), "a case must be a mapping", line=lines.get(item_prefix))
            )
            continue
        case = _validate(
            Case,
            {**defaults, **item},
            file=path,
            issues=issues,
            lines=lines,
            prefix=item_prefix,
        )
        if case is not None:
            cases.append(
                Located(
                    case, str(path), lines.get(item_prefix), _field_lines(lines, item_prefix, item)
                )
            )
    return cases


# --- tabular sources -----------------------------------------------------------------------


def _decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """Undo what tables do to nested records: JSON text columns, nulls for absent keys."""
    out = {}
    for key, value in row.items():
        if value is None:
            continue
        if key in NESTED_COLUMNS and isinstance(value, str) and value.strip()[:1] in "[{":
            try:
                value = bounded_json.loads(value)
            except BadJSON as exc:
                if not exc.message.startswith("invalid JSON"):
                    # too deep or too long a number: no validation message would say so
                    raise BadJSON(exc.message, key) from None
                # Text that is not JSON is left as is; validation will say which field is wrong.
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
        out[key] = value
    if "message" in out and "messages" not in out:
        out["messages"] = [{"role": "user", "content": out.pop("message")}]
    return out


def iter_jsonl(path: Path, issues: list[InputIssue]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file, streaming; lines that
    are not UTF-8, too long, too deep or not a JSON object become issues naming the line."""
    problem = file_problem(path)
    if problem is not None:
        issues.append(InputIssue(str(path), problem))
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        issues.append(InputIssue(str(path), f"cannot read file: {exc}"))
        return
    with handle:
        for number, text in bounded_json.read_lines(handle):
            if isinstance(text, BadJSON):
                issues.append(InputIssue(str(path), text.message, line=number))
                continue
            if not text.strip():
                continue
            try:
                obj = bounded_json.loads(text)
            except BadJSON as exc:
                issues.append(InputIssue(str(path), exc.message, line=number, field=exc.field))
                continue
            if not isinstance(obj, dict):
                issues.append(InputIssue(str(path), "a line must hold a JSON object", number))
                continue
            yield number, obj


def iter_table_rows(
    path_or_name: str, issues: list[InputIssue], *, split: str = "train", is_file: bool = True
) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """Rows of a JSONL/CSV/Parquet file or a hub dataset, with a line number where it exists."""
    if is_file and Path(path_or_name).suffix == ".jsonl":
        yield from iter_jsonl(Path(path_or_name), issues)
        return
    problem = file_problem(Path(path_or_name)) if is_file else None
    if problem is not None:
        issues.append(InputIssue(path_or_name, problem))
        return
    import datasets  # heavy: imported only when a table is read

    datasets.disable_progress_bars()
    try:
        if is_file:
            builder = {".csv": "csv", ".parquet": "parquet"}[Path(path_or_name).suffix]
            table = datasets.load_dataset(builder, data_files=path_or_name, split="train")
        else:
            table = datasets.load_dataset(path_or_name, split=split)
    except Exception as exc:  # datasets raises many kinds; all mean "cannot load this input"
        issues.append(InputIssue(path_or_name, f"cannot load with `datasets`: {exc}"))
        return
    header = 1 if is_file and Path(path_or_name).suffix == ".csv" else 0
    for index, row in enumerate(table):
        yield (index + 1 + header if header else None), dict(row)


def cases_from_table(
    path_or_name: str, issues: list[InputIssue], *, split: str = "train", is_file: bool = True
) -> list[Case]:
    return [
        located.item
        for located in located_cases_from_table(path_or_name, issues, split=split, is_file=is_file)
    ]


def located_cases_from_table(
    path_or_name: str, issues: list[InputIssue], *, split: str = "train", is_file: bool = True
) -> list[Located[Case]]:
    """Cases of a JSONL/CSV/Parquet file or a dataset, each with its line where it has one."""
    cases: list[Located[Case]] = []
    for index, (line, row) in enumerate(
        iter_table_rows(path_or_name, issues, split=split, is_file=is_file)
    ):
        try:
            row = _decode_row(row)
        except BadJSON as exc:
            issues.append(
                InputIssue(
                    path_or_name,
                    exc.message,
                    line=line,
                    record=_record_id(row) or (None if line else f"row {index}"),
                    field=exc.field,
                )
            )
            continue
        before = len(issues)
        case = _validate(Case, row, file=Path(path_or_name), issues=issues, line=line)
        if case is None and line is None:
            # no line numbers in a dataset: name the row instead
            for i in range(before, len(issues)):
                issue = issues[i]
                issues[i] = InputIssue(
                    issue.file,
                    issue.message,
                    None,
                    issue.record or f"row {index}",
                    issue.field,
                )
        if case is not None:
            cases.append(Located(case, path_or_name, line))
    return cases


# --- policy books --------------------------------------------------------------------------


def policy_from_text_file(path: Path, issues: list[InputIssue]) -> PolicyBook | None:
    """A markdown/text policy: its id is the file name, its name the first heading."""
    problem = file_problem(path)
    if problem is not None:
        issues.append(InputIssue(str(path), problem))
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(InputIssue(str(path), f"cannot read file: {exc}"))
        return None
    first = next((ln for ln in text.splitlines() if ln.strip()), path.stem)
    name = first.lstrip("# ").strip() or path.stem
    result: PolicyBook | None = _validate(
        PolicyBook, {"id": path.stem, "name": name, "text": text}, file=path, issues=issues
    )
    return result


def _known_packs(
    book: PolicyBook,
    path: Path,
    lines: LineMap,
    prefix: tuple[int | str, ...],
    issues: list[InputIssue],
) -> bool:
    """Whether every pack the book names is shipped or registered (an installed plugin's packs
    are loaded first when a name is not known); an issue for each that is not."""
    from guardrails import packs

    missing = packs.unknown(book)
    if missing:
        from evals.plugins import load_entry_points

        load_entry_points([])  # a failing plugin is reported by the command that loads them
        missing = packs.unknown(book)
    for name in missing:
        index = book.packs.index(name) if book.packs != "auto" else 0
        issues.append(
            InputIssue(
                str(path),
                f"unknown pack '{name}'; known packs: {', '.join(sorted(packs.known()))} (a "
                "plugin's pack is known once its distribution is installed or its suite module "
                "registers it)",
                line=lines.get((*prefix, "packs", index), lines.get((*prefix, "packs"))),
                record=book.id,
                field=f"packs[{index}]",
            )
        )
    return not missing


def policies_from_yaml(
    path: Path, data: Any, lines: LineMap, issues: list[InputIssue]
) -> list[PolicyBook]:
    """One policy book ({id, name, text}) or a mapping of company id -> {name, text}."""
    if isinstance(data, dict) and "text" in data and "id" in data:
        book = _validate(PolicyBook, data, file=path, issues=issues, lines=lines)
        return [book] if book and _known_packs(book, path, lines, (), issues) else []
    books = []
    for company, body in (data or {}).items():
        entry = {"id": company, **body} if isinstance(body, dict) else body
        book = _validate(
            PolicyBook, entry, file=path, issues=issues, lines=lines, prefix=(company,)
        )
        if book and _known_packs(book, path, lines, (company,), issues):
            books.append(book)
    return books


def labelled_from_yaml(
    path: Path, data: Any, lines: LineMap, issues: list[InputIssue]
) -> list[LabelledResponse]:
    return [located.item for located in located_labelled_from_yaml(path, data, lines, issues)]


def located_labelled_from_yaml(
    path: Path, data: Any, lines: LineMap, issues: list[InputIssue]
) -> list[Located[LabelledResponse]]:
    out: list[Located[LabelledResponse]] = []
    for index, item in enumerate(data):
        rec = _validate(
            LabelledResponse, item, file=path, issues=issues, lines=lines, prefix=(index,)
        )
        if rec:
            out.append(
                Located(rec, str(path), lines.get((index,)), _field_lines(lines, (index,), item))
            )
    return out


def expand(path: Path, suffixes: set[str]) -> list[Path]:
    """A file as itself; a folder as its matching files, recursively, in a stable order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in suffixes)
    return [path]


def load_policy_books(paths: list[Path], issues: list[InputIssue]) -> dict[str, PolicyBook]:
    """Policy books from files or folders (YAML books, a YAML mapping, or .md/.txt files)."""
    books: dict[str, PolicyBook] = {}
    for root in paths:
        problem = path_problem(root)
        if problem is not None or not root.exists():
            issues.append(InputIssue(str(root), problem or "policy path does not exist"))
            continue
        for path in expand(root, YAML_SUFFIXES | TEXT_POLICY_SUFFIXES):
            if path.suffix in TEXT_POLICY_SUFFIXES:
                found = [b for b in [policy_from_text_file(path, issues)] if b]
            else:
                try:
                    data, lines = load_yaml(path)
                except InputError as exc:
                    issues.extend(exc.issues)
                    continue
                if yaml_kind(data) not in ("policy", "policies"):
                    issues.append(
                        InputIssue(str(path), "not a policy book (expected id, name and text)")
                    )
                    continue
                found = policies_from_yaml(path, data, lines, issues)
            for book in found:
                if book.id in books:
                    issues.append(
                        InputIssue(str(path), "policy book id defined twice", record=book.id)
                    )
                books[book.id] = book
    return books


def load_case_file(path: Path, issues: list[InputIssue]) -> list[Case]:
    """Cases from one file of any supported kind."""
    return [located.item for located in load_located_case_file(path, issues)]


def load_located_case_file(path: Path, issues: list[InputIssue]) -> list[Located[Case]]:
    """Cases from one file of any supported kind, each with its file and lines."""
    if path.suffix in YAML_SUFFIXES:
        try:
            data, lines = load_yaml(path)
        except InputError as exc:
            issues.extend(exc.issues)
            return []
        if yaml_kind(data) != "cases":
            issues.append(InputIssue(str(path), "not a case file (expected `cases:` or a list)"))
            return []
        return located_cases_from_yaml(path, data, lines, issues)
    if path.suffix in TABLE_SUFFIXES:
        return located_cases_from_table(str(path), issues)
    issues.append(
        InputIssue(str(path), "unsupported case file type (use .yaml, .jsonl, .csv or .parquet)")
    )
    return []
