"""What fits the channel: a greeting, hashtags and emoji addressed to one customer.

- `tone.unnatural_greeting` [major / minor]: a mass greeting ("Dear esteemed patrons",
  "Estimados clientes", "Olá a todos") opening a sentence on a personal channel (chat, email,
  voice, or a social reply to one person; a social case tagged
  `broadcast`/`announcement`/`public_statement`/`mass` is not personal) is major; a generic
  form-letter greeting to one person ("Dear customer", "Estimado cliente") is minor.
- `tone.hashtags` [major]: a hashtag (#Word; not "#12345") when `expect.hashtags` is false, or
  unset and the answer goes to one customer.
- `tone.emoji` [major]: an emoji or text emoticon (":)") when `expect.emoji` is false, or unset
  and the case is a crisis or the channel is email.
"""

from __future__ import annotations

import re

from guardrails.records import Case, Finding, Span
from guardrails.tone_rule import Answer, finding

_BROADCAST_TAGS = frozenset({"broadcast", "announcement", "public_statement", "mass"})


def greeting(case: Case, answer: Answer) -> list[Finding]:
    """The rule: a mass or form-letter greeting to one customer."""
    scan = answer.scan
    if case.channel == "social" and _BROADCAST_TAGS.intersection(case.tags):
        return []
    out = []
    for category, severity, what in (
        ("greet_mass", "major", "a mass greeting"),
        ("greet_generic", "minor", "a generic form-letter greeting"),
    ):
        for hit in scan.hits.get(category, []):
            span = scan.span(hit)
            if any(c in span.text for c in "[{<"):
                continue  # "Dear [Customer Name]": an unfilled slot, the template check's job
            out.append(
                finding(
                    "unnatural_greeting",
                    "major" if severity == "major" else "minor",
                    f'The answer opens with {what}, "{span.text}", in a one-to-one '
                    f"{case.channel} conversation.",
                    span,
                    f"channel: {case.channel} (one customer)",
                    "addresses a crowd instead of the person who wrote"
                    if severity == "major"
                    else "impersonal greeting to a single customer",
                    source="case.channel",
                )
            )
    return out


_HASHTAG = re.compile(r"(?<![\w#&/])#[^\W\d_][\w]*")
_EMOJI_CHAR = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u3030\u303d\u3297\u3299"
_EMOJI = re.compile(rf"[{_EMOJI_CHAR}](?:[\u200d\ufe0f\U0001f3fb-\U0001f3ff]|[{_EMOJI_CHAR}])*")
_EMOTICON = re.compile(r"(?<![\w:;])[:;]-?[)(DP](?![\w)(])|(?<!\w)<3(?!\d)")
_EMOTICON_HINT = re.compile(r"[:;]-?[()DP]|<3")


def _forbidden(allowed: bool | None, case: Case) -> tuple[bool, str]:
    if allowed is not None:
        return (not allowed, "expect says they are not allowed")
    if case.kind == "crisis":
        return (True, "unset, and the case is a crisis (a formal statement)")
    if case.channel == "email":
        return (True, "unset, and the channel is email (a formal statement)")
    return (False, "")


def _hashtags_forbidden(case: Case) -> tuple[bool, str]:
    """Hashtags address a public feed: unless the case allows them, or it is a broadcast on
    social media, a reply to one customer has none."""
    no, why = _forbidden(case.expect.hashtags, case)
    if no or case.expect.hashtags is not None:
        return no, why
    if case.channel == "social" and _BROADCAST_TAGS.intersection(case.tags):
        return (False, "")
    return (True, f"unset, and the {case.channel} conversation is with one customer")


def hashtags_emoji(case: Case, answer: Answer) -> list[Finding]:
    """The rule: hashtags and emoji where the case does not allow them."""
    text = answer.text
    out = []
    no_hashtags, why_h = _hashtags_forbidden(case)
    if no_hashtags and "#" in text:
        for m in _HASHTAG.finditer(text):
            out.append(
                finding(
                    "hashtags",
                    "major",
                    f'The answer contains the hashtag "{m.group(0)}", which this case does '
                    "not allow.",
                    Span(start=m.start(), end=m.end(), text=m.group(0)),
                    f"expect.hashtags: {case.expect.hashtags} ({case.kind}, {case.channel})",
                    f"hashtags {why_h}",
                    source="expect.hashtags",
                )
            )
    no_emoji, why_e = _forbidden(case.expect.emoji, case)
    if no_emoji:
        found = [] if text.isascii() else list(_EMOJI.finditer(text))
        if _EMOTICON_HINT.search(text):
            found += _EMOTICON.finditer(text)
        for m in found:
            out.append(
                finding(
                    "emoji",
                    "major",
                    f'The answer contains the emoji "{m.group(0)}", which this case does not '
                    "allow.",
                    Span(start=m.start(), end=m.end(), text=m.group(0)),
                    f"expect.emoji: {case.expect.emoji} ({case.kind}, {case.channel})",
                    f"emoji {why_e}",
                    source="expect.emoji",
                )
            )
    return out
