"""The `response` guardrail: an answer with nothing in it fails.

An empty answer, or one of only whitespace, punctuation, symbols or invisible characters, says
nothing to the customer; every other guardrail finds nothing wrong in it, so without this check
it would pass. It always runs, whichever guardrails a suite lists (see `GuardrailSet.build`).
"""

from __future__ import annotations

from guardrails.records import Case, Evidence, Finding, Span

GUARDRAIL = "response"


def check_empty(case: Case, text: str) -> list[Finding]:
    """A critical `response.empty` finding when `text` (as the guardrails read it, invisible
    characters removed) has no letter and no digit."""
    del case  # the same for every case
    if any(char.isalnum() for char in text):
        return []
    return [
        Finding(
            guardrail=GUARDRAIL,
            code="response.empty",
            severity="critical",
            message="The answer is empty: it has no letter or digit (only whitespace, "
            "punctuation, symbols or invisible characters), so it answers nothing.",
            evidence=Evidence(
                span=Span(start=0, end=len(text), text=text),
                note="an answer must say something to the customer",
            ),
        )
    ]
