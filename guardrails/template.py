"""`template`: unfilled template slots left in an answer.

Catches `[Company Name]`, `[insert date]`, `[transportista]`, `{first_name}`, `{{ order_id }}`,
`<NOMBRE>`, `<customer name>`, `%NAME%` and placeholder numbers such as `XX days`, `XX días`,
`$XX`.
Works on the shape of the slot, so it is language-independent.
"""

from __future__ import annotations

import re

from guardrails.records import Case, Evidence, Finding, Span
from guardrails.registry import Check, GuardrailContext, register

# A bracketed slot: words in brackets, braces or angle brackets that read like a field name.
_SLOT = re.compile(
    r"""
    \{\{\s*[A-Za-z_][\w .-]{0,40}\s*\}\}            # {{ order_id }}
    | \{\s*[A-Za-z_][\w.-]{0,40}\s*\}               # {first_name}
    | \[\s*[^\W\d_][\w'’ ./-]{1,40}\](?!\()         # [Company Name], [transportista]
    | <\s*(?:[A-ZÁÉÍÓÚÑ_]{2,}(?:[\s_][A-ZÁÉÍÓÚÑ_]+)*|[a-z]+(?:[ _][a-z]+){0,3})\s*>  # <NOMBRE>
    | %[A-Z_]{2,}%                                  # %NAME%
    """,
    re.VERBOSE,
)
# Placeholder numbers: XX days, X días, $XX, XX% (not roman numerals: "the XX century").
_NUMBER = re.compile(
    r"(?<![\w])(?:[$€£]\s?X{1,4}(?:[.,]X{2})?|X{1,4}(?:[.,]X{2})?\s?(?:%|€|\$|"
    r"days?|d[ií]as?|dias?|hours?|horas?|business\sdays?|d[ií]as\sh[aá]biles|dias\s[uú]teis|"
    r"weeks?|semanas?|months?|meses|minutes?|minutos?|USD|EUR|MXN|BRL))(?![\w])"
)
# Markup that looks like a slot but is not one. A bracketed word followed by `(` is a markdown
# link, excluded by the pattern; `[sic]` and a ticked box `[x]` are not slots either.
_HTML_TAGS = {"br", "p", "b", "i", "em", "strong", "ul", "li", "ol", "div", "span", "a"}
_NOT_SLOTS = {"sic", "x", "...", "…"}


def find_slots(text: str) -> list[Span]:
    spans = []
    for match in _SLOT.finditer(text):
        inner = match.group(0).strip("<>{}[] %").lower()
        if match.group(0).startswith("<") and inner in _HTML_TAGS:
            continue
        if match.group(0).startswith("[") and inner in _NOT_SLOTS:
            continue
        spans.append(Span(start=match.start(), end=match.end(), text=match.group(0)))
    # Every placeholder number has an "X": without one the pattern (tried at every character)
    # cannot match, and most answers have none.
    for match in _NUMBER.finditer(text) if "X" in text else ():
        spans.append(Span(start=match.start(), end=match.end(), text=match.group(0)))
    return sorted(spans, key=lambda s: s.start)


@register("template")
def template_guardrail(context: GuardrailContext) -> Check:
    def check(case: Case, text: str) -> list[Finding]:
        return [
            Finding(
                guardrail="template",
                code="template.placeholder",
                severity="major",
                message=f"The answer contains an unfilled template slot: {span.text}",
                evidence=Evidence(
                    span=span, note="a placeholder the customer would see instead of real data"
                ),
            )
            for span in find_slots(text)
        ]

    return check
