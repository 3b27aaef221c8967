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
- a rule or position stated about the company ("Velmora only calls relatives when...", "we
  support candidates"), or a universal rule ("refunds are always made..."), affirming what every
  clause of the policy rules out:
  `policy.contradicted`; a political position the policy never mentions: `policy.unsupported`.

These findings belong to the `policy` family (codes and severity as its other findings). Marker
phrases live in guardrails.lexicon; negation comes from guardrails.grounding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from guardrails.grounding import (
    Clause,
    Mention,
    PolicyIndex,
    negated_before,
    negation_for,
    policy_finding,
)
from guardrails.lexicon import (
    ACTIONS,
    AUTOMATIC_MARKERS,
    BENEFITS,
    CAPABILITY_MARKERS,
    COMPANY_VOICE,
    GRANT_MARKERS,
    NO_NEED_MARKERS,
    NOT_MONEY_BACK,
    POSITION_MARKERS,
    REFUND_PROMISES,
    REQUIREMENT_MARKERS,
    RULE_MARKERS,
    UNIVERSAL_MARKERS,
    WEAK_TERMS,
)
from guardrails.records import Finding, Span
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


_WORDS = re.compile(r"[a-z]+")


#: Marks an anchor that is a literal text (see `_anchor`) among the anchor words.
_TEXT = "\x00"


def _anchor(raw: str) -> str | None:
    """What every match of a phrase needs: one plain word of it (its longest: the rarest),
    which a match has as a whole word; or else the literal text of one of its tokens (a
    prefix such as "automatic*" without its star), marked with `_TEXT`, which a match
    contains; None when the phrase has neither (only "_")."""
    tokens = fold(raw).split()
    plain = [t for t in tokens if t.isascii() and t.isalpha()]
    if plain:
        return max(plain, key=len)
    literal = [t[:-1] if t.endswith("*") else t for t in tokens if t != "_"]
    literal = [t for t in literal if t]
    return _TEXT + max(literal, key=len) if literal else None


def _anchors(phrases: Iterable[str]) -> frozenset[str] | None:
    """The anchors of a phrase list, None when a phrase has none."""
    out = set()
    for raw in phrases:
        found = _anchor(raw)
        if found is None:
            return None
        out.add(found)
    return frozenset(out)


_PHRASE_TABLES = {
    "automatic": AUTOMATIC_MARKERS,
    "grant": GRANT_MARKERS,
    "refund": REFUND_PROMISES,
    "rule": RULE_MARKERS,
    "position": POSITION_MARKERS,
    "voice": COMPANY_VOICE,
    "universal": UNIVERSAL_MARKERS,
}
#: Every literal-text anchor of the phrase lists that `Markers` are built from.
_TEXT_ANCHORS = tuple(
    sorted(
        {
            found[1:]
            for phrases in [
                *(p for table in _PHRASE_TABLES.values() for p in table.values()),
                *ACTIONS.values(),
            ]
            for raw in phrases
            if (found := _anchor(raw)) is not None and found.startswith(_TEXT)
        }
    )
)


def anchor_words(folded: str) -> frozenset[str]:
    """What a folded sentence offers the anchors: its `[a-z]+` words, and the literal-text
    anchors it contains (marked). Computed once per sentence for every phrase list."""
    words = set(_WORDS.findall(folded))
    words.update(_TEXT + t for t in _TEXT_ANCHORS if t in folded)
    return frozenset(words)


class Markers:
    """A compiled phrase list with its anchors (see `_anchor`): a text that offers none of
    them has no match, so a set test replaces scanning it with the pattern."""

    def __init__(self, phrases: Iterable[str]) -> None:
        listed = list(phrases)
        self.pattern = _compile(listed)
        self.anchors = _anchors(listed)
        assert self.anchors is None or all(
            a[1:] in _TEXT_ANCHORS for a in self.anchors if a.startswith(_TEXT)
        ), "a phrase list outside _PHRASE_TABLES and ACTIONS"

    def finditer(self, folded: str, words: frozenset[str]) -> Iterator[re.Match[str]]:
        """`pattern.finditer(folded)`; `words` are `anchor_words(folded)`."""
        if self.anchors is not None and self.anchors.isdisjoint(words):
            return iter(())
        return self.pattern.finditer(folded)

    def search(self, folded: str, words: frozenset[str]) -> re.Match[str] | None:
        return next(self.finditer(folded, words), None)


@lru_cache(maxsize=64)
def _markers(kind: str, language: str | None) -> re.Pattern[str]:
    return _marker_table(kind, language).pattern


@lru_cache(maxsize=64)
def _marker_table(kind: str, language: str | None) -> Markers:
    table = _PHRASE_TABLES[kind]
    return Markers(p for lang in _language(language) for p in table[lang])


_REQUIREMENT = _compile(REQUIREMENT_MARKERS)
_ACTIONS = {action: _compile(stems) for action, stems in ACTIONS.items()}
_ACTION_MARKERS = {action: Markers(stems) for action, stems in ACTIONS.items()}
_CAPABILITY = _compile(CAPABILITY_MARKERS)
_NO_NEED = _compile(NO_NEED_MARKERS)
#: Concepts naming who acts rather than what is acted on.
ACTORS = frozenset({"agent"})
#: Words between a modal ("podemos", "no need to") and the action verb it governs.
ACTION_GAP_WORDS = 3
_WEAK = _compile(WEAK_TERMS)
_NOT_MONEY = _compile(NOT_MONEY_BACK)


def _money_promises(
    folded: str, language: str | None, words: frozenset[str]
) -> Iterator[re.Match[str]]:
    """The company's promises to give money back in a folded sentence ("le reembolsaremos"),
    not negated, and not a call given back ("le devolveremos la llamada")."""
    for promise in _marker_table("refund", language).finditer(folded, words):
        if negated_before(folded, promise.start(), language, MARKER_NEGATION_WORDS):
            continue
        if not _NOT_MONEY.match(folded[promise.end() :].lstrip()):
            yield promise


def refund_promised(text: str, language: str | None) -> bool:
    """Whether a sentence commits the company to giving money back."""
    folded = fold(text)
    return next(_money_promises(folded, language, anchor_words(folded)), None) is not None


def _weak(mention: Mention, text: str) -> bool:
    return bool(_WEAK.fullmatch(fold(text[mention.start : mention.end])))


def _affirmed(found: Sequence[Mention], text: str) -> set[str]:
    return {m.concept for m in found if not m.negated and not _weak(m, text)}


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
    words = anchor_words(folded)
    topic = {m.concept for m in found}
    # The affirmed concepts and the small numbers are read only by the few sentences that
    # have a marker (most have none).
    lazy: dict[str, set[Any]] = {}

    def affirmed() -> set[str]:
        if "affirmed" not in lazy:
            lazy["affirmed"] = _affirmed(found, text)
        return lazy["affirmed"]

    def numbers() -> set[float]:
        if "numbers" not in lazy:
            lazy["numbers"] = {n.value for n in bare_numbers(text)}
        return lazy["numbers"]

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
        found_markers = _marker_table(kind, language).finditer(folded, words)
        marker = next((m for m in found_markers if live(m)), None)
        if marker is None:
            continue
        clause = _unmet_requirement(index, topic, numbers(), affirmed())
        if clause is not None:
            what = "happens by itself" if kind == "automatic" else "is granted by the assistant"
            out.append(
                policy_finding(
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
            _, top = _most_related(index, affirmed(), numbers())
            negating = [c for c in top if any(_says_not(c, x) for x in affirmed() - index.generic)]
            if negating and not any(map(_says_automatic, top)):
                out.append(
                    policy_finding(
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
            # Something happening by itself between two subjects the policy speaks of, but
            # never together: "your pending refund is released automatically before the
            # account is closed". (A subject the policy never names is a word the lexicon
            # reads in another sense: "cuota" is a monthly fee to a telecom.)
            subjects = affirmed() - index.generic - ACTORS - BENEFITS
            subjects = {s for s in subjects if any(s in c.concepts for c in index.clauses)}
            if len(subjects) >= 2 and not any(
                len(c.concepts & subjects) >= 2 for c in index.clauses
            ):
                named = " and ".join(sorted(s.replace("_", " ") for s in subjects))
                out.append(
                    policy_finding(
                        "policy.unsupported",
                        f"The answer says something happens by itself ('{span(marker).text}') "
                        f"about {named}, which no policy clause relates.",
                        span(marker),
                        index,
                        "no clause in the policy speaks of these together",
                    )
                )
                break

    # Money the company commits to give back.
    promise = next(_money_promises(folded, language, words), None)
    if promise is not None:
        finding = _refund_finding(index, topic, span(promise))
        if finding is not None:
            out.append(finding)

    out.extend(_action_findings(text, offset, folded, found, language, index, words))

    # A rule or a position stated about the company.
    about_company = _names_company(company, folded)
    position = any(live(m) for m in _marker_table("position", language).finditer(folded, words))
    voice = about_company or _marker_table("voice", language).search(folded, words) is not None
    # A side the company takes: "Velmora condemns...", "we donate to every party".
    position = position or (voice and bool(affirmed() & POSITION_CONCEPTS))
    rule = _marker_table("rule", language).search(folded, words) is not None
    universal = any(live(m) for m in _marker_table("universal", language).finditer(folded, words))
    if position or universal or (about_company and rule):
        out.extend(_stance_findings(index, found, text, offset, position))
    return out


@lru_cache(maxsize=64)
def _company_names(company: tuple[str, ...]) -> tuple[tuple[str, ...], re.Pattern[str]] | None:
    """The company's folded names, and the pattern of them as whole words, built once per
    company (None without names)."""
    names = tuple(fold(n) for n in company if n)
    if not names:
        return None
    return names, re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in names))


def _names_company(company: Sequence[str], folded: str) -> bool:
    """Whether a folded sentence names the company (as a whole word): a sentence without
    the name as a substring cannot, and most do not, so the pattern runs on few."""
    known = _company_names(tuple(company))
    if known is None:
        return False
    names, pattern = known
    return any(n in folded for n in names) and pattern.search(folded) is not None


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
        return policy_finding(
            "policy.contradicted",
            f"The answer commits to a refund ('{where.text}'), which the policy rules out here.",
            where,
            index,
            "the policy forbids or excludes this refund",
            clause,
        )
    return policy_finding(
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
        # A "never promise a guaranteed delivery date" list forbids promising, not naming: a
        # subject that only such a list mentions ("when delivery passes the promised date")
        # states no rule against it.
        listed_only = (
            all(concept in c.forbidden and not _says_not(c, concept) for c in about)
            and not position
        )
        if about and not affirming and not listed_only:
            out.append(
                policy_finding(
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
                policy_finding(
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


def _governed(folded: str, modal: re.Pattern[str], verb: re.Match[str]) -> re.Match[str] | None:
    """The modal that governs the action verb: right before it, a few words at most."""
    for m in modal.finditer(folded[: verb.start()]):
        between = folded[m.end() : verb.start()].split()
        if len(between) <= ACTION_GAP_WORDS:
            return m
    return None


#: The company saying it does or will do something: "we'll redirect it", "vamos a", "vou".
_COMMITMENT = re.compile(
    r"(?<![\w'])(?:we|i|we'll|i'll|we will|i will|we are going to|i'm going to|we're going to|"
    r"voy a|vamos a|vou|vamos|iremos)(?![\w'])"
)
#: A verb in the first person plural, or the Portuguese first person future ("redirigimos",
#: "redirigiremos", "redirecionarei"): its subject is the company or the assistant.
_FIRST_PERSON_VERB = re.compile(r"(?:amos|emos|imos|arei|erei|irei)$")
_WORD_AT = re.compile(r"[a-z]+")


def _committed(folded: str, verb: re.Match[str]) -> re.Match[str] | None:
    """The company committing to the action: the verb in the first person, or a first-person
    subject or future right before it ("lo redirigimos", "we'll redirect it")."""
    word = _WORD_AT.match(folded, verb.start())  # the whole verb, at its place in `folded`
    if word is not None and _FIRST_PERSON_VERB.search(word.group(0)):
        return word
    return _governed(folded, _COMMITMENT, verb)


def _clause_polarity(clause: Clause, action: str) -> str | None:
    """'forbids' when the clause's own words deny the action ("Agents cannot redirect them"),
    'requires' when it states it as what happens ("Identity is verified by login"), None when
    the clause does not name it or only lists it under a prohibition heading."""
    folded = fold(clause.text)
    uses = list(_ACTIONS[action].finditer(folded))
    if not uses:
        return None
    if all(negated_before(folded, m.start(), None, MARKER_NEGATION_WORDS) for m in uses):
        return "forbids"
    listed = bool(clause.concepts) and clause.forbidden == clause.concepts
    if listed or _CAPABILITY.search(folded):
        return None  # a "never promise" list, or a mere option
    return "requires"


_SENTENCE_END = re.compile(r"[.!?;](?:\s|$)")
# An object pronoun of a verb: after it ("redirect them"), a clitic before it ("no los podemos
# redirigir") or attached to it ("redirigirlo", "redirecioná-los").
_PRONOUN_AFTER = re.compile(r"^\s+(?:it|them|this|these|those)(?!\w)")
_CLITIC_BEFORE = re.compile(r"(?<!\w)(?:lo|la|los|las|les)\s+(?:\w+\s+){0,2}$")
_ENCLITIC = re.compile(r"(?:r|ndo)(?:lo|la|los|las)$|-(?:lo|la|los|las|o|a|os|as)$")
_WORD_AT_USE = re.compile(r"[\w-]+")


def _pronoun_object(folded: str, use: re.Match[str]) -> bool:
    """Whether the verb at `use` takes a pronoun as its object."""
    word = _WORD_AT_USE.match(folded, use.start())
    end = word.end() if word is not None else use.end()
    return bool(
        _PRONOUN_AFTER.match(folded[end : end + 20])
        or _CLITIC_BEFORE.search(folded[max(0, use.start() - 30) : use.start()])
        or (word is not None and _ENCLITIC.search(word.group(0)))
    )


@lru_cache(maxsize=4096)
def _action_concepts(clause: Clause, action: str) -> frozenset[str]:
    """The concepts of the sentences of a clause that name the action: what the clause says the
    action is done to. A list item of several sentences speaks of other things in the others
    ("If the insurer refuses, the patient pays the price. We cannot promise what it covers":
    the price is not what is covered)."""
    folded = fold(clause.text)
    ends = [0, *(m.end() for m in _SENTENCE_END.finditer(folded))]

    def within(left: int, right: int) -> set[str]:
        return {m.concept for m in clause.mentions if left <= m.start and m.end <= right}

    out: set[str] = set()
    for use in _ACTIONS[action].finditer(folded):
        at = max(i for i, e in enumerate(ends) if e <= use.start())
        right = ends[at + 1] if at + 1 < len(ends) else len(folded)
        own = within(ends[at], right)
        if not own - ACTORS and at > 0 and _pronoun_object(folded, use):
            # "Refunds go to the card. Agents cannot redirect them": a pronoun's noun is in
            # the sentence before.
            own |= within(ends[at - 1], ends[at])
        out |= own
    return frozenset(out)


def _action_findings(
    text: str,
    offset: int,
    folded: str,
    found: Sequence[Mention],
    language: str | None,
    index: PolicyIndex,
    words: frozenset[str] | None = None,
) -> list[Finding]:
    """A permission the policy denies ("podemos redirigirlo" against "Agents cannot redirect
    them"), or a step the policy states as what happens said to be unnecessary or not to happen
    ("no necesitamos verificar su identidad" against "Identity is verified by login"; "marketplace
    orders are not covered" against "these rules also cover orders from marketplace sellers").
    The clause must state the opposite explicitly and be about the same object: a specific
    concept of the answer's sentence, not a person acting, that the clause names."""
    out: list[Finding] = []
    # People act; they are not what an action is done to ("Agents cannot redirect them").
    objects = {m.concept for m in found} - index.generic - BENEFITS - ACTORS
    if words is None:
        words = anchor_words(folded)
    for action, markers in _ACTION_MARKERS.items():
        for verb in markers.finditer(folded, words):
            no_need = _governed(folded, _NO_NEED, verb)
            can = None
            denied = negated_before(folded, verb.start(), language, MARKER_NEGATION_WORDS)
            if no_need is None and denied and _governed(folded, _CAPABILITY, verb) is None:
                # "orders from marketplace sellers are not covered" against "these rules also
                # cover orders from marketplace sellers": the clause states it as what happens.
                no_need = next(
                    negation_for(language).finditer(
                        folded, max(0, verb.start() - 24), verb.start()
                    ),
                    None,
                )
            if no_need is None and not denied:
                can = _governed(folded, _CAPABILITY, verb) or _committed(folded, verb)
                if can is not None and negated_before(
                    folded, can.start(), language, MARKER_NEGATION_WORDS
                ):
                    can = None  # "no podemos redirigirlo"
            wanted = "forbids" if can is not None else "requires" if no_need is not None else None
            if wanted is None:
                continue
            clause = next(
                (
                    c
                    for c in index.clauses
                    if (c.concepts & objects)
                    and (_action_concepts(c, action) & objects)
                    and _clause_polarity(c, action) == wanted
                ),
                None,
            )
            if clause is None:
                continue
            marker = can if can is not None else no_need
            assert marker is not None
            where = Span(
                start=offset + marker.start(),
                end=offset + verb.end(),
                text=text[marker.start() : verb.end()],
            )
            message = (
                f"The answer says this can be done ('{where.text}'), but the policy rules it out."
                if wanted == "forbids"
                else f"The answer denies or waives ('{where.text}') what the policy states happens."
            )
            out.append(
                policy_finding(
                    "policy.contradicted",
                    message,
                    where,
                    index,
                    "the policy clause on the same subject states the opposite",
                    clause,
                )
            )
            break
    return out
