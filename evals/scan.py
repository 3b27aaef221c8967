"""`evals scan`: check responses that already exist (production transcripts), no LLM call.

A transcript record is one response a bot gave, with the conversation before it. This module
holds the input contract (`Transcript`) and the one pure check every engine uses:
`check_records(records, setup)` turns raw input records into `Checked` results (the findings
line, the verdict, and for a scored scan the answer as a stored result would hold it). It is a
module-level function of picklable values, so a process pool (`evals.scan_workers`) or a Ray
task can run it anywhere; the guardrails are built once per process and setup.

Reading the inputs is `evals.scan_inputs`; writing findings and resuming, `evals.scan_output`;
scoring a scan as a stored run, `evals.scan_run`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TextIO

from pydantic import Field, ValidationError, field_validator, model_validator

from evals import bounded_json
from evals.case_files import load_policy_books
from evals.errors import InputError, InputIssue, issues_from_validation
from evals.records import (
    DEFAULT_FAIL_ON,
    Case,
    Channel,
    Expect,
    FactValue,
    Identifier,
    Kind,
    LanguageTag,
    Message,
    PolicyBook,
    Record,
    Response,
    Risk,
    Severity,
    content_hash,
)
from evals.verdict import judge_answer
from guardrails.registry import GuardrailContext, GuardrailSet

#: The model string of a scan's targets: the bots whose transcripts were scanned. A run whose
#: targets carry it was scored from transcripts, not answered by `evals run`.
SCAN_MODEL = "scan"
#: What a transcript without `target` or `bot` was answered by.
DEFAULT_BOT = "bot"


class Transcript(Record):
    """One existing response to check (the `evals scan` input contract)."""

    id: str = Field(min_length=1)
    company: Identifier
    language: LanguageTag
    messages: list[Message] = Field(min_length=1)
    response: str
    facts: dict[str, FactValue] = Field(default_factory=dict)
    intent: Identifier | None = Field(
        default=None, description="what the customer wanted; records with one are scored"
    )
    expect: Expect = Field(default_factory=Expect)
    kind: Kind | None = Field(default=None, description="default: support")
    channel: Channel = "chat"
    risk: Risk | None = Field(
        default=None, description="default: the decision policy's risk for the intent, else medium"
    )
    target: Identifier | None = Field(default=None, description="the bot that answered")
    bot: Identifier | None = Field(default=None, description="another name for `target`")
    conversation_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="answers of one conversation are one case (pass^k counts them together)",
    )
    timestamp: str | None = Field(default=None, description="when the answer was given")

    @field_validator("timestamp", mode="before")
    @classmethod
    def _time_as_text(cls, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date | datetime) else value

    @model_validator(mode="after")
    def _one_bot(self) -> Transcript:
        if self.target and self.bot and self.target != self.bot:
            raise ValueError(f"`target` ({self.target}) and `bot` ({self.bot}) disagree")
        return self

    @property
    def answered_by(self) -> str:
        return self.target or self.bot or DEFAULT_BOT

    @property
    def case_id(self) -> str:
        """The case this answer belongs to: its conversation, else the transcript itself."""
        raw = self.conversation_id or self.id
        safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in raw)[:200] or "t"
        return safe if safe[0].isalnum() else "t" + safe[:199]

    def as_case(self, risks: Mapping[str, Risk] | None = None) -> Case:
        intent = self.intent or "unknown"
        return Case(
            id=self.case_id,
            intent=intent,
            kind=self.kind or "support",
            language=self.language,
            channel=self.channel,
            risk=self.risk or (risks or {}).get(intent, "medium"),
            company=self.company,
            messages=self.messages,
            facts=self.facts,
            expect=self.expect,
        )


#: The fields a transcript record may carry (what `--map` may name as a target).
TRANSCRIPT_FIELDS: tuple[str, ...] = tuple(Transcript.model_fields)


@dataclass(frozen=True)
class RawRecord:
    """One input record as read, before validation: a JSONL line's bytes or a table's row.

    `position` counts every record of the input from 0 (bad ones too): results come back in
    this order, and a resumed scan skips the positions already written. `problem` is set when
    the reader already knows the record is unusable (a line too long, not UTF-8)."""

    source: str
    position: int
    line: int | None
    data: bytes | dict[str, Any] | None
    problem: str | None = None
    #: names a record that has no line (Parquet, datasets): "row 12"
    row: str | None = None


@dataclass(frozen=True)
class ScanSetup:
    """Everything `check_records` needs besides the records; picklable, built once per scan.

    `field_map` renames fields before validation ({transcript field: field in the input});
    `risks` is the decision policy's risk per intent (for records without `risk`); `keep`
    asks for each answer as a stored result would hold it (a scored scan)."""

    policies: dict[str, PolicyBook]
    guardrails: tuple[str, ...] | None = None
    fail_on: tuple[Severity, ...] = DEFAULT_FAIL_ON
    field_map: dict[str, str] = field(default_factory=dict)
    risks: dict[str, Risk] = field(default_factory=dict)
    keep: bool = False

    @property
    def key(self) -> str:
        """What identifies the guardrails this setup builds (policy books and names)."""
        books = sorted((k, v.version, content_hash(v.text)) for k, v in self.policies.items())
        return content_hash(json.dumps([books, self.guardrails]))


@dataclass(frozen=True)
class Answer:
    """A checked answer of a scored scan, as the run store will hold it (its sample number is
    given in input order by the process that writes the run)."""

    target: str
    case_id: str
    intent: str
    case_json: str
    response_json: str
    findings_json: str
    passed: bool


@dataclass(frozen=True)
class Checked:
    """What `check_records` returns per input record, in input order: the findings line
    (None for a bad record), the issues that make it bad, and the answer when kept."""

    position: int
    id: str | None = None
    passed: bool | None = None
    error: str | None = None
    findings_json: str = "[]"
    codes: tuple[tuple[str, Severity], ...] = ()
    issues: tuple[InputIssue, ...] = ()
    answer: Answer | None = None

    @property
    def line(self) -> str:
        """The findings line (JSONL, no newline): id, verdict, findings and any error."""
        error = f', "error": {json.dumps(self.error, ensure_ascii=False)}' if self.error else ""
        return (
            f'{{"id": {json.dumps(self.id, ensure_ascii=False)}, '
            f'"passed": {"true" if self.passed else "false"}, '
            f'"findings": {self.findings_json}{error}}}'
        )


_BUILT: dict[str, GuardrailSet] = {}


def guardrails_for(setup: ScanSetup) -> GuardrailSet:
    """The setup's guardrails, built once per process (a pool worker builds them on its first
    batch; raises UnknownGuardrail for a name that is not registered)."""
    key = setup.key
    checks = _BUILT.get(key)
    if checks is None:
        checks = GuardrailSet.build(
            GuardrailContext(policies=setup.policies),
            list(setup.guardrails) if setup.guardrails is not None else None,
        )
        _BUILT.clear()  # one setup per process at a time: no growth over many scans
        _BUILT[key] = checks
    return checks


def _decoded(record: RawRecord) -> dict[str, Any] | InputIssue:
    if record.problem is not None or record.data is None:
        return InputIssue(
            record.source,
            record.problem or "empty record",
            line=record.line,
            record=record.row,
        )
    data = record.data
    if isinstance(data, bytes):
        try:
            loaded = bounded_json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return InputIssue(
                record.source, f"not UTF-8 text: {exc.reason} at byte {exc.start}", record.line
            )
        except bounded_json.BadJSON as exc:
            return InputIssue(record.source, exc.message, line=record.line, field=exc.field)
        if not isinstance(loaded, dict):
            return InputIssue(record.source, "a line must hold a JSON object", record.line)
        data = loaded
    return data


def mapped(data: dict[str, Any], field_map: Mapping[str, str]) -> dict[str, Any]:
    """The record with its fields renamed to the transcript's ({transcript field: input field});
    an input field that is absent leaves the transcript field unset."""
    if not field_map:
        return data
    out = {k: v for k, v in data.items() if k not in field_map.values()}
    for name, source in field_map.items():
        if source in data:
            out[name] = data[source]
    return out


def check_one(record: RawRecord, setup: ScanSetup, checks: GuardrailSet) -> Checked:
    """Validate and check one raw record (see `check_records`)."""
    from evals.case_files import _decode_row

    data = _decoded(record)
    if isinstance(data, InputIssue):
        return Checked(record.position, issues=(data,))
    try:
        row = _decode_row(mapped(data, setup.field_map))
    except bounded_json.BadJSON as exc:
        issue = InputIssue(record.source, exc.message, line=record.line, field=exc.field)
        return Checked(record.position, issues=(issue,))
    raw_id = row.get("id")
    record_id = str(raw_id) if raw_id is not None else None
    label = record_id if record.row is None else f"{record.row}, id {record_id or '?'}"
    try:
        transcript = Transcript.model_validate(row)
        case = transcript.as_case(setup.risks)
    except ValidationError as exc:
        issues = issues_from_validation(
            exc, file=record.source, record=label, model=Transcript, default_line=record.line
        )
        return Checked(record.position, id=record_id, issues=tuple(issues))
    if transcript.company not in setup.policies:
        issue = InputIssue(
            record.source,
            f"no policy book for company '{transcript.company}' "
            f"(books: {', '.join(sorted(setup.policies))})",
            line=record.line,
            record=label,
            field="company",
        )
        return Checked(record.position, id=record_id, issues=(issue,))
    judged = judge_answer(checks, case, Response(text=transcript.response), setup.fail_on)
    findings = [f.model_dump(mode="json") for f in judged.findings]
    findings_json = json.dumps(findings, ensure_ascii=False)
    answer = None
    if setup.keep:
        answer = Answer(
            target=transcript.answered_by,
            case_id=case.id,
            intent=case.intent,
            case_json=case.model_dump_json(),
            response_json=judged.response.model_dump_json(),
            findings_json=findings_json,
            passed=judged.passed,
        )
    return Checked(
        record.position,
        id=transcript.id,
        passed=judged.passed,
        error=judged.response.error,
        findings_json=findings_json,
        codes=tuple((f.code, f.severity) for f in judged.findings),
        answer=answer,
    )


def check_records(records: Sequence[RawRecord], setup: ScanSetup) -> list[Checked]:
    """THE per-batch check of a scan: records in, one `Checked` per record out, same order.

    Pure (no I/O, no global state but the per-process guardrail cache) and picklable in every
    argument and result, so any engine (this module's `scan`, the process pool of
    `evals.scan_workers`, a Ray task) can call it. A bad record becomes a `Checked` with
    issues naming its file, line (or record index) and field; nothing here raises for input."""
    checks = guardrails_for(setup)
    return [check_one(record, setup, checks) for record in records]


@dataclass
class ScanTotals:
    records: int = 0
    passed: int = 0
    failed: int = 0
    invalid: int = 0
    #: findings per code: [findings, severity]
    codes: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, checked: Checked) -> None:
        self.records += 1
        if checked.issues:
            self.invalid += 1
            return
        self.passed += int(bool(checked.passed))
        self.failed += int(not checked.passed)
        for code, severity in checked.codes:
            self.codes.setdefault(code, [0, severity])[0] += 1

    def summary(self) -> list[str]:
        """The findings by code, most first: what a scan without intents reports."""
        return [
            f"  {count:>9,}  {code} ({severity})"
            for code, (count, severity) in sorted(self.codes.items(), key=lambda kv: -kv[1][0])
        ]


def load_policies_arg(path: Any) -> dict[str, PolicyBook]:
    issues: list[InputIssue] = []
    books = load_policy_books([path], issues)
    if issues:
        raise InputError(issues)
    if not books:
        raise InputError.single(path, "no policy book found")
    return books


def scan(
    source: Any,
    policies: dict[str, PolicyBook],
    out: TextIO,
    *,
    fail_on: tuple[Severity, ...] = DEFAULT_FAIL_ON,
    guardrails: list[str] | None = None,
) -> tuple[ScanTotals, list[InputIssue]]:
    """Check every record of `source` in this process; write one JSON line per good record.

    Invalid records are reported as issues (file, line, record, field) and skipped; the
    others are still checked and written. (`evals scan` uses the same check on all cores.)"""
    from evals.scan_inputs import open_inputs

    setup = ScanSetup(
        policies=policies,
        guardrails=tuple(guardrails) if guardrails is not None else None,
        fail_on=fail_on,
    )
    totals = ScanTotals()
    issues: list[InputIssue] = []
    inputs = open_inputs([source])
    for batch in _batches(inputs.records(), 64):
        for checked in check_records(batch, setup):
            totals.add(checked)
            issues.extend(checked.issues)
            if not checked.issues:
                out.write(checked.line + "\n")
    issues.extend(inputs.issues)
    return totals, issues


def _batches(records: Iterable[RawRecord], size: int) -> Iterable[list[RawRecord]]:
    batch: list[RawRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
