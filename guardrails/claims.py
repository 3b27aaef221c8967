"""Policy statements that carry no number, grounded by polarity against the policy's clauses.

An answer states policy without any figure when it says that something happens by itself, that
the assistant has granted something, that the company will give money back, or what the
company does or stands for. Each such statement is compared with the clauses about the same
subject (shared lexicon concepts, and shared small numbers such as "3 locks in 24 hours"):

- something happening by itself, or granted by the assistant, where the most related clause
  makes it depend on a condition ("only a human agent can approve it", "stays locked until
  identity is verified") that the answer does not meet: `policy.contradicted`;
- something happening by itself that the most related clause says does not happen ("unused
  data does not carry over"): `policy.contradicted`;
- a refund the company commits to: it needs a clause granting refunds on that subject; a clause
  ruling refunds out makes it `policy.contradicted`, no clause `policy.unsupported`;
- a rule or position stated about the company ("CuotaYa only calls relatives when...", "we
  support candidates"), or a universal rule ("refunds are always made..."), affirming what every
  clause of the policy rules out:
  `policy.contradicted`; a political position the policy never mentions: `policy.unsupported`.

These findings belong to the `policy` family (codes and severity as its other findings). Marker
phrases live in guardrails.lexicon; negation comes from guardrails.grounding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from evals.records import Evidence, Finding, Span
from guardrails.grounding import Clause, Mention, PolicyIndex, negated_before
from guardrails.lexicon import (
    AUTOMATIC_MARKERS,
    BENEFITS,
    COMPANY_VOICE,
    GRANT_MARKERS,
    NOT_MONEY_BACK,
    POSITION_MARKERS,
    REFUND_PROMISES,
    REQUIREMENT_MARKERS,
    RULE_MARKERS,
    UNIVERSAL_MARKERS,
    WEAK_TERMS,
)
from guardrails.text import bare_numbers, fold

GUARDRAIL = "policy"

#: Words right before a marker that can negate it ("no te la aplico", "I haven't unlocked").
MARKER_NEGATION_WORDS = 3
#: Concepts whose stance the company takes publicly; stating one the policy never mentions
#: is a fabricated position.
POSITION_CONCEPTS = frozenset({"politics"})


def _phrase(raw: str) -> str:
    parts = []
    for token in fold(raw).split():
        if token == "_":
            parts.append(r"\w+")
        elif token.endswith("*"):
            parts.append(re.escape(token[:-1]) + r"\w*")
        else:
            parts.append(re.escape(token))
    return r"\s+".join(parts)


def _compile(phrases: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted(set(phrases), key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(_phrase(p) for p in ordered) + r")(?![\w'])")


def _language(language: str | None) -> list[str]:
    lang = (language or "").split("-")[0].lower()
    return [lang] if lang in ("en", "es", "pt") else ["en", "es", "pt"]


@lru_cache(maxsize=64)
def _markers(kind: str, language: str | None) -> re.Pattern[str]:
    table = {
        "automatic": AUTOMATIC_MARKERS,
        "grant": GRANT_MARKERS,
        "refund": REFUND_PROMISES,
        "rule": RULE_MARKERS,
        "position": POSITION_MARKERS,
        "voice": COMPANY_VOICE,
        "universal": UNIVERSAL_MARKERS,
    }[kind]
    return _compile(p for lang in _language(language) for p in table[lang])


_REQUIREMENT = _compile(REQUIREMENT_MARKERS)
_WEAK = _compile(WEAK_TERMS)
_NOT_MONEY = _compile(NOT_MONEY_BACK)


def _weak(mention: Mention, text: str) -> bool:
    return bool(_WEAK.fullmatch(fold(text[mention.start : mention.end])))


def _affirmed(found: Sequence[Mention], text: str) -> set[str]:
    return {m.concept for m in found if not m.negated and not _weak(m, text)}


def _finding(
    code: str, message: str, span: Span, index: PolicyIndex, note: str, clause: Clause | None
) -> Finding:
    return Finding(
        guardrail=GUARDRAIL,
        code=code,
        severity="critical",
        message=message,
        evidence=Evidence(
            span=span,
            checked_against=clause.text if clause is not None else None,
            source=f"policy:{index.book.id}@{index.book.version}",
            note=note,
        ),
    )


def _related(index: PolicyIndex, clause: Clause, topic: set[str], numbers: set[float]) -> int:
    """How much a clause is about a statement: shared specific concepts, and shared small
    numbers counted double ("after 3 locks within 24 hours" is the rule on 3 locks)."""
    shared = (clause.concepts & topic) - index.generic
    if not shared:
        return 0
    return len(shared) + 2 * len({n.value for n in clause.numbers} & numbers)


def _most_related(
    index: PolicyIndex, topic: set[str], numbers: set[float]
) -> tuple[int, list[Clause]]:
    scored = [(_related(index, c, topic, numbers), c) for c in index.clauses]
    best = max((s for s, _ in scored), default=0)
    return best, [c for s, c in scored if s == best and best > 0]


def _requirement(index: PolicyIndex, clause: Clause) -> set[str]:
    """The concepts a clause makes its rule depend on: those named after 'only', 'until',
    'requires'... ("only a human agent can approve it" -> agent)."""
    found = _REQUIREMENT.search(fold(clause.text))
    if found is None:
        return set()
    return {m.concept for m in clause.mentions if m.start >= found.end()} - index.generic


def _says_not(clause: Clause, concept: str) -> bool:
    """Whether the clause's own words deny the concept ("unused data does not carry over"), as
    opposed to listing it under a 'never promise' heading."""
    own = [m for m in clause.mentions if m.concept == concept]
    return bool(own) and all(m.negated for m in own)


def _says_automatic(clause: Clause) -> bool:
    return bool(_markers("automatic", None).search(fold(clause.text)))


def _unmet_requirement(
    index: PolicyIndex, topic: set[str], numbers: set[float], affirmed: set[str]
) -> Clause | None:
    """The clause on this subject whose condition the statement skips, when every clause most
    related to it has such a condition."""
    _, top = _most_related(index, topic, numbers)
    if not top or any(map(_says_automatic, top)):
        return None
    for clause in top:
        required = _requirement(index, clause)
        if not required or required & affirmed:
            return None
    return top[0]


def claim_findings(
    text: str,
    offset: int,
    found: Sequence[Mention],
    language: str | None,
    index: PolicyIndex,
    company: Sequence[str],
) -> list[Finding]:
    """Findings for the policy statements without a number in one sentence `text` (at
    `offset` in the answer), whose concept mentions are `found`."""
    folded = fold(text)
    topic = {m.concept for m in found}
    affirmed = _affirmed(found, text)
    numbers = {n.value for n in bare_numbers(text)}
    out: list[Finding] = []

    def span(match: re.Match[str]) -> Span:
        return Span(
            start=offset + match.start(),
            end=offset + match.end(),
            text=text[match.start() : match.end()],
        )

    def live(match: re.Match[str]) -> bool:
        return not negated_before(folded, match.start(), language, MARKER_NEGATION_WORDS)

    # Something happening by itself, or granted by the assistant.
    for kind in ("automatic", "grant"):
        marker = next((m for m in _markers(kind, language).finditer(folded) if live(m)), None)
        if marker is None:
            continue
        clause = _unmet_requirement(index, topic, numbers, affirmed)
        if clause is not None:
            what = "happens by itself" if kind == "automatic" else "is granted by the assistant"
            out.append(
                _finding(
                    "policy.contradicted",
                    f"The answer says something {what} ('{span(marker).text}'), but the "
                    "policy makes it depend on a condition the answer skips.",
                    span(marker),
                    index,
                    "the policy clause on this subject requires a person or a condition",
                    clause,
                )
            )
            break
        if kind == "automatic":
            _, top = _most_related(index, affirmed, numbers)
            negating = [c for c in top if any(_says_not(c, x) for x in affirmed - index.generic)]
            if negating and not any(map(_says_automatic, top)):
                out.append(
                    _finding(
                        "policy.contradicted",
                        f"The answer says something happens by itself ('{span(marker).text}'), "
                        "but the policy says it does not happen.",
                        span(marker),
                        index,
                        "the policy clause on this subject rules it out",
                        negating[0],
                    )
                )
                break

    # Money the company commits to give back.
    for promise in _markers("refund", language).finditer(folded):
        if not live(promise) or _NOT_MONEY.match(folded[promise.end() :].lstrip()):
            continue
        finding = _refund_finding(index, topic, span(promise))
        if finding is not None:
            out.append(finding)
        break

    # A rule or a position stated about the company.
    names = [fold(n) for n in company if n]
    about_company = any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", folded) for n in names)
    position = any(live(m) for m in _markers("position", language).finditer(folded))
    voice = about_company or bool(_markers("voice", language).search(folded))
    # A side the company takes: "Telvia condemns...", "we donate to every party".
    position = position or (voice and bool(affirmed & POSITION_CONCEPTS))
    rule = bool(_markers("rule", language).search(folded))
    universal = any(live(m) for m in _markers("universal", language).finditer(folded))
    if position or universal or (about_company and rule):
        out.extend(_stance_findings(index, found, text, offset, position))
    return out


def _refund_finding(index: PolicyIndex, topic: set[str], where: Span) -> Finding | None:
    subjects = (topic - index.generic) - BENEFITS - {"refund", "return"}
    granting = [c for c in index.clauses if "refund" in c.granted]
    forbidding = [c for c in index.clauses if "refund" in c.forbidden]

    def relevance(clause: Clause) -> int:
        return len(clause.concepts & subjects)

    if granting and (
        max(map(relevance, granting)) > 0 or not forbidding or max(map(relevance, forbidding)) == 0
    ):
        return None
    if forbidding:
        clause = max(forbidding, key=relevance)
        return _finding(
            "policy.contradicted",
            f"The answer commits to a refund ('{where.text}'), which the policy rules out here.",
            where,
            index,
            "the policy forbids or excludes this refund",
            clause,
        )
    return _finding(
        "policy.unsupported",
        f"The answer commits to a refund ('{where.text}'), which no policy clause grants.",
        where,
        index,
        "no clause in the policy grants this",
        None,
    )


def _stance_findings(
    index: PolicyIndex, found: Sequence[Mention], text: str, offset: int, position: bool
) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    for mention in found:
        concept = mention.concept
        if (
            mention.negated
            or _weak(mention, text)
            or concept in seen
            or concept in BENEFITS  # offers are the benefit rule's
            or concept in index.generic
        ):
            continue
        seen.add(concept)
        about = [c for c in index.clauses if concept in c.concepts]
        affirming = [
            c
            for c in about
            if any(
                m.concept == concept and not m.negated and not _weak(m, c.text) for m in c.mentions
            )
            and concept not in c.forbidden - c.granted
        ]
        where = Span(
            start=offset + mention.start,
            end=offset + mention.end,
            text=text[mention.start : mention.end],
        )
        label = concept.replace("_", " ")
        if about and not affirming:
            out.append(
                _finding(
                    "policy.contradicted",
                    f"The answer states the company does {label} ('{where.text}'), which the "
                    "policy rules out.",
                    where,
                    index,
                    "every policy clause on this subject rules it out",
                    next((c for c in about if concept in c.forbidden), about[0]),
                )
            )
        elif not about and position and concept in POSITION_CONCEPTS:
            out.append(
                _finding(
                    "policy.unsupported",
                    f"The answer states a company position on {label} ('{where.text}'), which no "
                    "policy clause supports.",
                    where,
                    index,
                    "no clause in the policy supports it",
                    None,
                )
            )
    return out
