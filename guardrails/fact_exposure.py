"""What the facts say an incident touched (`leaked_fields: [phone, email]`, `not_exposed:
[...]`, `payment_card_exposed: false`, `brazil_affected: false`), against what an answer says was
exposed, leaked or affected: an item listed as not exposed stated as exposed or the other way
round, a yes/no fact asserted when false or denied when true, and a thing stated as exposed
that the list of what was exposed does not hold. Part of the `facts` guardrail."""

from __future__ import annotations

import re
from collections.abc import Callable

from guardrails.analysis import analyse
from guardrails.fact_data_kinds import same_kind
from guardrails.fact_items import is_listed, stated_things
from guardrails.fact_keys import key_words, same_word
from guardrails.grounding import negated_before, negation_for
from guardrails.records import Case, Evidence, FactValue, Finding, Span
from guardrails.text import fold

GUARDRAIL = "facts"
_WORD = re.compile(r"\w+")

# Keys whose list names what was NOT affected: stating one of them as affected contradicts.
_NOT_KEY = re.compile(r"(^|_)(not|no|non|sin|nao)_|_not$|unaffected|not_exposed|safe")
# Where the list an item belongs to ends: "names were exposed; passwords were not", "names
# were exposed, but passwords were not".
_LIST_BREAK = re.compile(r"[;:.!?]|(?<!\w)(but|pero|mas|however|though|aunque|embora|porem)(?!\w)")
# Keys holding lists (or yes/no flags) of what an incident did or did not touch.
_LIST_OF_AFFECTED = re.compile(r"expos|affect|leak|breach|compromis|involv|stolen|accessed")
_AFFECTED = re.compile(
    r"(?<!\w)(expos\w*|expus\w*|expuest\w*|expost\w*|leak\w*|filtr\w*|vaza\w*|"
    r"compromet\w*|affect\w*|afect\w*|afet\w*|accessed|acced\w*|acessad\w*|robad\w*|"
    r"stolen|roubad\w*|involved|involucrad\w*|envolvid\w*|incluid\w*|included|breached)(?!\w)"
)


def _close(a: str, b: str) -> bool:
    """At most one substitution apart (brazil / brasil)."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1


def contradiction(
    text: str, start: int, end: int, key: str, value: FactValue, message: str
) -> Finding:
    """A critical finding: text[start:end] contradicts the case fact `key`."""
    return Finding(
        guardrail=GUARDRAIL,
        code="facts.contradiction",
        severity="critical",
        message=message,
        evidence=Evidence(
            span=Span(start=start, end=end, text=text[start:end]),
            checked_against=f"{key}: {value}",
            source=f"facts.{key}",
        ),
    )


def _said_not(folded: str, start: int, end: int, language: str, exposed: bool) -> bool:
    """Whether a sentence says the item at folded[start:end] was NOT exposed/affected:
    "no se expusieron las contraseñas", "las claves no resultaron afectadas", and, for an
    item listed in the subject of a denial, "phone numbers, card numbers and passwords were not
    exposed". A negation after an item that is itself stated as exposed ("names were exposed;
    passwords were not") opens the list of what was not touched, so it does not count."""
    negation = negation_for(language)
    if negated_before(folded, start, language, 4 if exposed else None):
        return True
    after = folded[end:]
    if not exposed:
        # (within its own list: in "names and passwords were exposed; cards were not" the
        # denial is the cards')
        stop = _LIST_BREAK.search(after, 0, 40)
        return bool(negation.search(after[: stop.start() if stop else 40]))
    opening = max((m.end() for m in _LIST_BREAK.finditer(folded) if m.end() <= start), default=0)
    if _AFFECTED.search(folded[opening:start]):
        return False  # "ficaram expostos nomes, e-mails e telefones, e não houve ..."
    stop = _LIST_BREAK.search(after)
    after = after[: stop.start()] if stop else after
    denial = negation.search(after)
    if denial is None or denial.start() > 60 or _AFFECTED.search(after[: denial.start()]):
        return False
    return bool(_AFFECTED.search(" ".join(after[denial.end() :].split()[:3])))


def exposure_findings(case: Case, text: str) -> list[Finding]:
    """What the facts list as (not) exposed/affected, stated the other way round."""
    findings: list[Finding] = []
    affected: list[tuple[str, FactValue]] | None = None  # read at the first exposure verb
    known: list[str] = []
    named: list[bool] = []

    def names() -> bool:
        """Whether the answer names a listed item anywhere (read once, when first asked)."""
        if not named:
            named.append(any(is_listed(w, known) for w in _WORD.findall(fold(text))))
        return named[0]

    for sent in analyse(text, case.language).sentences:
        folded = sent.folded
        if not _AFFECTED.search(folded):
            continue
        if affected is None:
            affected = [(k, v) for k, v in case.facts.items() if affected_key(k)]
            # every item the case's exposure lists name, affected or not, read once
            known = [str(item) for _, v in affected if isinstance(v, list) for item in v]
        for key, value in affected:
            if isinstance(value, bool):
                findings.extend(_flag_findings(case, text, sent.start, folded, key, value))
                continue
            if not isinstance(value, list):
                continue
            listed_as_not = bool(_NOT_KEY.search(key))
            for item in value:
                item_folded = fold(str(item)).strip()
                if not item_folded:
                    continue
                for m in re.finditer(r"(?<!\w)" + re.escape(item_folded) + r"(?!\w)", folded):
                    said_not = _said_not(
                        folded, m.start(), m.end(), case.language, not listed_as_not
                    )
                    if said_not == listed_as_not:
                        continue  # stated as the facts say
                    start, end = sent.start + m.start(), sent.start + m.end()
                    stated = "not affected" if said_not else "affected"
                    findings.append(_exposure_finding(text, start, end, key, value, stated))
            if not listed_as_not:
                findings.extend(
                    _new_item_findings(case, text, sent.start, folded, key, value, known, names)
                )
    return findings


def affected_key(key: str) -> bool:
    """A fact on what an incident touched, named in any of the three languages
    (`leaked_fields`, `datos_filtrados`, `cartao_vazado`)."""
    folded = fold(key)
    return bool(_LIST_OF_AFFECTED.search(folded)) or any(
        _AFFECTED.fullmatch(w) for w in re.findall(r"[a-z]+", folded)
    )


def _new_item_findings(
    case: Case,
    text: str,
    offset: int,
    folded: str,
    key: str,
    value: FactValue,
    known: list[str],
    names_listed: Callable[[], bool],
) -> list[Finding]:
    """A thing the answer states as exposed that the list of what was exposed does not hold:
    "your phone, email and passport number were leaked" against `leaked_fields: [phone,
    email]`. Only when the answer names the case's items in its own words (one of them is in
    the same list, or elsewhere in the answer: `names_listed`), so a list written in another
    language than the answer invents nothing. `known`: every item the case's exposure lists
    name, affected or not."""
    findings: list[Finding] = []
    for verb in _AFFECTED.finditer(folded):
        things = stated_things(folded, verb.span(), case.language)
        if not things:
            continue
        # Another thing in the same list as a listed one, or, said with the fact's own verb
        # ("leaked" for leaked_fields), a thing when the answer names the listed ones too.
        if not any(is_listed(t.text, known) for t in things) and not (
            any(same_word(verb.group(), w) for w in key_words(key)) and names_listed()
        ):
            continue
        for thing in things:
            if is_listed(thing.text, known):
                continue
            start, end = offset + thing.start, offset + thing.end
            findings.append(_exposure_finding(text, start, end, key, value, "affected"))
    return findings


def _subject_hit(word: str, folded: str) -> re.Match[str] | None:
    """Where a folded sentence names a word of a fact's subject: in any of its forms in en/es/pt
    (card, cards; Brazil, Brasil, brasileños)."""
    for m in _WORD.finditer(folded):
        w = m.group()
        if (len(w) >= len(word) and _close(w[: len(word)], word)) or same_kind(word, w):
            return m
    return None


def _in_exposed_subject(folded: str, at: int, language: str) -> bool:
    """Whether position `at` is inside a thing an exposure verb of the sentence states as
    exposed (or denies was)."""
    for verb in _AFFECTED.finditer(folded):
        things = stated_things(folded, verb.span(), language, denied=True) or []
        if any(t.start <= at < t.end for t in things):
            return True
    return False


def _exposure_finding(
    text: str, start: int, end: int, key: str, value: FactValue, stated: str
) -> Finding:
    message = (
        f"The answer says {text[start:end]} were {stated}, but the case facts say otherwise "
        f"({key})."
    )
    return contradiction(text, start, end, key, value, message)


def _flag_findings(
    case: Case, text: str, offset: int, folded: str, key: str, value: bool
) -> list[Finding]:
    """A yes/no fact on what an incident touched ("brazil_affected: false"): the answer names
    its subject in any of the three languages (Brazil, Brasil, brasileños) as affected when it
    was not, or as not affected when it was."""
    subject = [
        w for w in key_words(key) if not _LIST_OF_AFFECTED.search(w) and not _AFFECTED.fullmatch(w)
    ]
    hits = [_subject_hit(w, folded) for w in subject]
    named = [h for h in hits if h is not None]
    # Every word of its subject, or, for a subject of several words, half of them in the same
    # stretch as the verb ("your card details were exposed": payment_card_exposed).
    if not named or (len(named) < len(subject) and 2 * len(named) < len(subject)):
        return []
    hit = named[0]
    if len(named) < len(subject):
        # then the word must be in what an exposure verb's subject names ("your card details
        # were exposed"), not anywhere ("the customers who were affected" is no customer data)
        named = [h for h in named if _in_exposed_subject(folded, h.start(), case.language)]
        if not named:
            return []
        hit = named[0]
    said_not = negated_before(folded, hit.start(), case.language) or bool(
        negation_for(case.language).search(folded[hit.end() : hit.end() + 40])
    )
    if said_not != value:
        return []  # stated as the facts say
    start, end = offset + hit.start(), offset + hit.end()
    stated = "not affected" if said_not else "affected"
    return [_exposure_finding(text, start, end, key, value, stated)]
