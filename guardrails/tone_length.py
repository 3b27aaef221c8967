"""`tone.length`: the answer has more words than `expect.max_words`.

Words are counted as a person would: every whitespace-separated item that contains a letter or
a digit, a number written in groups ("+34 600 000 000") counting once. More than 10% over the
budget is major; up to 10% over is minor (reported, not failed: a budget is a guide, and a
reader does not notice a handful of words). The span is the part over the budget.
"""

from __future__ import annotations

import re

from guardrails.records import Case, Finding, Severity, Span
from guardrails.tone_rule import Answer, finding, quote

_COUNTED = re.compile(r"\S*[^\W_]\S*")
# A group of a number written in groups: "+34", "600", "000", "(11)", "2020," (a group may end
# in punctuation, which then ends the number).
_DIGIT_GROUP = re.compile(r"\+?\(?\d+\)?([.,;:)]*)")


def count_words(text: str) -> list[tuple[int, int]]:
    """The words of `text` as a person counts them, as (start, end) offsets: whitespace-separated
    items with a letter or digit in them; a number written in groups separated by single spaces
    (a phone number, "1 250") is one word."""
    spans: list[tuple[int, int]] = []
    open_group = False  # the previous item is a digit group that the next one may continue
    for m in _COUNTED.finditer(text):
        start, end = m.span()
        word = m.group(0)
        # (a digit group starts with "+", "(" or a digit: most words are not tried)
        group = _DIGIT_GROUP.fullmatch(word) if word[0] in "+(" or word[0].isdigit() else None
        if group and open_group and text[spans[-1][1] : start] in (" ", "\u00a0"):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        open_group = group is not None and not group.group(1)
    return spans


def length(case: Case, answer: Answer) -> list[Finding]:
    """The rule: more words than `expect.max_words`."""
    text, toks = answer.text, answer.scan.tokens.toks
    budget = case.expect.max_words
    # Tokens, then whitespace-separated items, are upper bounds of the words a person counts.
    if budget is None or len(toks) <= budget or len(text.split()) <= budget:
        return []
    spans = count_words(text)
    n = len(spans)
    if n <= budget:
        return []
    severity: Severity = "major" if n > budget * 1.1 else "minor"
    start = spans[budget][0]
    end = spans[-1][1]
    over = text[start:end]
    return [
        finding(
            "length",
            severity,
            f"The answer has {n} words, {n - budget} over its budget of {budget}; "
            f'the part over budget starts at "{quote(over, 60)}".',
            Span(start=start, end=end, text=over),
            f"expect.max_words: {budget}",
            "words counted as a person would (a phone number counts once); "
            + ("more than 10% over budget" if severity == "major" else "up to 10% over budget"),
            source="expect.max_words",
        )
    ]
