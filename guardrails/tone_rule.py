"""What a `tone` rule is: a function of the case and of the answer analysed once (`Answer`:
its tokens, the lexicon phrases found in them, the situation the customer reports), returning
findings of the `tone` family; and how a rule reports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from guardrails.records import Case, Evidence, Finding, Severity, Span
from guardrails.situations import Need
from guardrails.tone_phrases import Scan

GUARDRAIL = "tone"


@dataclass(frozen=True)
class Answer:
    """One answer as every tone rule reads it, computed once per check."""

    scan: Scan
    #: A death the customer reports, when the case leaves `expect.apology` unset.
    bereaved: Need | None = None

    @property
    def text(self) -> str:
        return self.scan.tokens.text


#: A tone rule.
Rule = Callable[[Case, Answer], list[Finding]]


def finding(
    code: str,
    severity: Severity,
    message: str,
    span: Span | None,
    checked_against: str | None,
    note: str | None,
    source: str | None = None,
) -> Finding:
    return Finding(
        guardrail=GUARDRAIL,
        code=f"{GUARDRAIL}.{code}",
        severity=severity,
        message=message,
        evidence=Evidence(span=span, checked_against=checked_against, source=source, note=note),
    )


def quote(text: str, limit: int = 120) -> str:
    """`text` on one line, cut at `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unique(spans: list[Span]) -> list[Span]:
    """The spans with distinct texts (case-insensitive), in order."""
    seen: set[str] = set()
    out = []
    for s in spans:
        key = s.text.lower()
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out
