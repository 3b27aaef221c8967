"""`evals scan`: check responses that already exist (production transcripts), no LLM call.

Input is JSONL (streamed line by line, so memory stays flat on any size) or anything `datasets`
loads; one record per response. Output is JSONL, one line per input record, written as it goes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import Field, ValidationError

from evals.case_files import TABLE_SUFFIXES, iter_table_rows, load_policy_books
from evals.errors import InputError, InputIssue, issues_from_validation
from evals.input_paths import file_problem
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
)
from evals.verdict import judge_answer
from guardrails.registry import GuardrailContext, GuardrailSet


class Transcript(Record):
    """One existing response to check (the `evals scan` input contract)."""

    id: str = Field(min_length=1)
    company: Identifier
    language: LanguageTag
    messages: list[Message] = Field(min_length=1)
    response: str
    facts: dict[str, FactValue] = Field(default_factory=dict)
    intent: Identifier = "unknown"
    expect: Expect = Field(default_factory=Expect)
    kind: Kind = "support"
    channel: Channel = "chat"
    risk: Risk = "medium"

    def as_case(self) -> Case:
        safe_id = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in self.id) or "t"
        return Case(
            id=safe_id if safe_id[0].isalnum() else "t" + safe_id,
            intent=self.intent,
            kind=self.kind,
            language=self.language,
            channel=self.channel,
            risk=self.risk,
            company=self.company,
            messages=self.messages,
            facts=self.facts,
            expect=self.expect,
        )


@dataclass
class ScanTotals:
    records: int = 0
    passed: int = 0
    failed: int = 0
    invalid: int = 0


def load_policies_arg(path: Path) -> dict[str, PolicyBook]:
    issues: list[InputIssue] = []
    books = load_policy_books([path], issues)
    if issues:
        raise InputError(issues)
    if not books:
        raise InputError.single(path, "no policy book found")
    return books


def _rows(source: Path, issues: list[InputIssue]) -> Iterator[tuple[int | None, dict[str, Any]]]:
    problem = file_problem(source)
    if source.suffix in TABLE_SUFFIXES and problem is None and not source.exists():
        problem = "no such file"
    if problem is not None and problem != "is a folder, not a file":
        issues.append(InputIssue(str(source), problem))
    elif source.is_file():
        yield from iter_table_rows(str(source), issues)
    else:  # a folder `datasets` loads, or a hub dataset's name
        yield from iter_table_rows(str(source), issues, is_file=False)


def scan(
    source: Path,
    policies: dict[str, PolicyBook],
    out: TextIO,
    *,
    fail_on: tuple[Severity, ...] = DEFAULT_FAIL_ON,
    guardrails: list[str] | None = None,
) -> tuple[ScanTotals, list[InputIssue]]:
    """Check every record of `source`; write one JSON line per record to `out`.

    Invalid records are reported as issues (file, line, record, field) and skipped; the
    others are still checked and written.
    """
    checks = GuardrailSet.build(GuardrailContext(policies=policies), guardrails)
    totals = ScanTotals()
    issues: list[InputIssue] = []
    for line, row in _rows(source, issues):
        totals.records += 1
        record_id = str(row.get("id")) if row.get("id") is not None else None
        try:
            transcript = Transcript.model_validate(row)
            case = transcript.as_case()
        except ValidationError as exc:
            totals.invalid += 1
            issues.extend(
                issues_from_validation(exc, file=source, record=record_id, default_line=line)
            )
            continue
        if transcript.company not in policies:
            totals.invalid += 1
            issues.append(
                InputIssue(
                    str(source),
                    f"no policy book for company '{transcript.company}'",
                    line=line,
                    record=transcript.id,
                    field="company",
                )
            )
            continue
        judged = judge_answer(checks, case, Response(text=transcript.response), fail_on)
        passed = judged.passed
        totals.passed += int(passed)
        totals.failed += int(not passed)
        out.write(
            json.dumps(
                {
                    "id": transcript.id,
                    "passed": passed,
                    "findings": [f.model_dump(mode="json") for f in judged.findings],
                }
                | ({"error": judged.response.error} if judged.response.error else {}),
                ensure_ascii=False,
            )
            + "\n"
        )
    return totals, issues
