"""Assertions for users' own tests: check one chatbot response with the guardrails a suite run
uses, and fail like a pytest assertion that lists every finding with its evidence.

A suite answers prepared cases; a team's own tests often produce a response some other way (their
bot's code, a fixture, a recorded transcript). `assert_guardrails` lets those tests apply the same
checks without writing a suite::

    from pathlib import Path

    from evals.assertions import assert_guardrails


    def test_refund_reply_invents_nothing() -> None:
        reply = my_bot.reply("¿Dónde está mi reembolso?")
        assert_guardrails(
            reply,
            {"language": "es", "company": "acme", "messages": [{"role": "user", "content": "..."}]},
            Path("policies/acme.yaml"),
        )

The failure text is also what the pytest plugin shows for a failing case, so a finding reads the
same wherever it is raised. Response text is untrusted: it is quoted with control characters
escaped (a response cannot rewrite the terminal or fake a line of the report).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evals.errors import field_path
from evals.records import Case, Finding, PolicyBook, Response, Severity
from evals.verdict import answer_passed

#: Filled in when a case given as a dict leaves them out (the same defaults `evals scan` uses),
#: so a test only writes what matters for its response: language, company and messages.
CASE_DEFAULTS: dict[str, Any] = {
    "id": "inline",
    "intent": "unknown",
    "kind": "support",
    "channel": "chat",
    "risk": "medium",
}

#: Longest quoted response in a failure message; spans are always quoted in full.
RESPONSE_QUOTE_LIMIT = 400


def quote(text: str, limit: int | None = None) -> str:
    """Untrusted text as one double-quoted line: quotes, newlines and control characters
    (including terminal escape sequences) escaped, shortened to `limit` characters."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return json.dumps(text, ensure_ascii=False)


def describe_finding(finding: Finding, indent: str = "") -> list[str]:
    """One finding as lines: severity, code and message, then its evidence (the quoted span
    with its offsets, and what it was checked against or why nothing supports it)."""
    lines = [f"{indent}- {finding.severity} {finding.code}: {finding.message}"]
    evidence = finding.evidence
    inner = indent + "    "
    if evidence.span is not None:
        span = evidence.span
        lines.append(f"{inner}span [{span.start}:{span.end}]: {quote(span.text)}")
    source = f" ({evidence.source})" if evidence.source else ""
    if evidence.checked_against is not None:
        lines.append(f"{inner}checked against{source}: {quote(evidence.checked_against)}")
    elif evidence.source:
        lines.append(f"{inner}checked against: {evidence.source}")
    if evidence.note:
        lines.append(f"{inner}note: {evidence.note}")
    return lines


def describe_findings(findings: Iterable[Finding], indent: str = "") -> list[str]:
    return [line for finding in findings for line in describe_finding(finding, indent)]


def _problems(exc: ValidationError, whole: str = "(case)") -> str:
    """Every problem of a validation error as "field 'x': message" (`whole` names the record
    itself when the problem is not in one field)."""
    return "; ".join(
        f"field '{field_path(tuple(e['loc'])) or whole}': {e['msg']}"
        for e in exc.errors(include_url=False)
    )


def _as_case(case: Case | Mapping[str, Any], company: str | None) -> Case:
    if isinstance(case, Case):
        return case
    if not isinstance(case, Mapping):
        raise TypeError(f"case must be a Case or a mapping, not {type(case).__name__}")
    data = {**CASE_DEFAULTS, **({"company": company} if company else {}), **dict(case)}
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"assert_guardrails: the case is invalid: {_problems(exc)}") from None


def _load_book(path: Path, company: str | None) -> PolicyBook:
    from evals.case_files import load_policy_books
    from evals.errors import InputError

    issues: list[Any] = []
    books = load_policy_books([path], issues)
    if issues:
        raise ValueError(f"assert_guardrails: {InputError(issues)}")
    if company is not None and company in books:
        return books[company]
    if len(books) == 1:
        return next(iter(books.values()))
    raise ValueError(
        f"assert_guardrails: {path} holds policy books {sorted(books)}; none is for company "
        f"'{company}'"
    )


def _as_book(
    policy: PolicyBook | Mapping[str, Any] | str | os.PathLike[str], company: str | None
) -> PolicyBook:
    if isinstance(policy, PolicyBook):
        return policy
    if isinstance(policy, os.PathLike):
        return _load_book(Path(policy), company)
    if isinstance(policy, str):
        # A one-line string naming an existing file is that file; anything else is the text.
        if "\n" not in policy and len(policy) < 1024 and Path(policy).is_file():
            return _load_book(Path(policy), company)
        book_id = company or "inline"
        return PolicyBook(id=book_id, name=book_id, text=policy)
    if isinstance(policy, Mapping):
        book_id = policy.get("id") or company or "inline"
        data = {"id": book_id, "name": book_id, **dict(policy)}
        try:
            return PolicyBook.model_validate(data)
        except ValidationError as exc:
            raise ValueError(
                f"assert_guardrails: the policy is invalid: {_problems(exc, '')}"
            ) from None
    raise TypeError(
        "policy must be a PolicyBook, a mapping, the policy text, a path or None, "
        f"not {type(policy).__name__}"
    )


def assert_guardrails(
    response: str,
    case: Case | Mapping[str, Any],
    policy: PolicyBook | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    guardrails: list[str] | None = None,
    fail_on: Sequence[Severity] = ("critical", "major"),
) -> list[Finding]:
    """Check `response` to `case`; raise AssertionError listing every finding with its evidence
    if any has a severity in `fail_on`, else return all findings (minor ones included).

    `case` is a Case or a mapping of its fields (id, intent, kind, channel and risk may be left
    out). `policy` is the company's policy book: a PolicyBook, a mapping (`text`, optional `id`
    and `name`), the policy text itself, or a path to a policy-book file. Without a policy the
    `policy` guardrail cannot ground anything, so it must be left out of `guardrails`
    explicitly rather than passing silently.
    """
    __tracebackhide__ = True
    from guardrails import check, registered

    if not isinstance(response, str):
        raise TypeError(f"response must be text, not {type(response).__name__}")
    company = case.company if isinstance(case, Case) else case.get("company")
    book = _as_book(policy, company) if policy is not None else None
    the_case = _as_case(case, book.id if book is not None and company is None else None)
    chosen = guardrails if guardrails is not None else sorted(registered())
    if book is None and "policy" in chosen:
        raise ValueError(
            "assert_guardrails: no policy given, so the `policy` guardrail cannot check what "
            "the response promises; pass policy=... or guardrails=[...] without 'policy'"
        )
    if book is not None and book.id != the_case.company:
        raise ValueError(
            f"assert_guardrails: the policy book is '{book.id}' but the case is for company "
            f"'{the_case.company}'"
        )
    findings = check(response, the_case, book, guardrails=chosen)
    if not answer_passed(Response(text=response), findings, fail_on):
        failing = [f for f in findings if f.severity in fail_on]
        lines = [
            f"{len(failing)} guardrail finding(s) of severity {'/'.join(fail_on)} in the "
            f"response to case '{the_case.id}' (company {the_case.company}, "
            f"{the_case.language}):",
            f"  response: {quote(response, RESPONSE_QUOTE_LIMIT)}",
            *describe_findings(failing, "  "),
        ]
        raise AssertionError("\n".join(lines))
    return findings
