"""`policy.contradicted`: the answer commits to an action the policy book forbids.

A book forbids an action with a negated ability, permission or passive ("old invoices cannot be
reissued", "gift vouchers are never exchanged for cash", "no se pueden transferir", "não é
reembolsável"). An answer that commits the company to that very action ("we will reissue the
invoice", "we can exchange your voucher", "podemos transferirlos") or permits it to the customer
("you can transfer them") on the same subject contradicts the clause.

Both sides are read with the grammar words of `guardrails/lexicons/prohibitions.yaml` (negation,
commitment, conditions in en/es/pt), and compared by Snowball stems (`guardrails.stems`): the
action's stem and at least one specific word of what the clause is about must be in the answer's
sentence. A book in another language than the answer is read in its Apertium translation
(`guardrails.translation`) too, and the concept lexicon ties an action across languages where
the translation leaves a word untranslated.

Not a commitment: a negated one ("we cannot reissue it"), one under a condition or restriction
("if the invoice is wrong, we can reissue it", "only the billing team can..."), a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from guardrails.analysis import SentenceAnalysis
from guardrails.fact_keys import stems
from guardrails.grammar import LANGUAGES, alternation, grammar_language, grammar_table, lexicon
from guardrails.grounding import Clause, PolicyIndex, negation_for, policy_finding
from guardrails.lexicon import concepts
from guardrails.records import Finding, Span
from guardrails.stems import MIN_WORD, book_language, book_stems, text_stems, translated_stems
from guardrails.text import fold, per_policy
from guardrails.translation import translate

#: Words after a commitment within which the committed action is named ("we can offer you a
#: one-off refund").
ACTION_REACH = 5
#: Actions a single prohibition lists at most ("cannot be transferred, resold or exchanged").
LISTED_ACTIONS = 4


def _grammar() -> dict[str, Any]:
    loaded: dict[str, Any] = lexicon("prohibitions")
    return loaded


def _words(kind: str, language: str) -> list[str]:
    found: list[str] = _grammar().get(kind, {}).get(language, [])
    return found


@grammar_table
def _cue(language: str) -> re.Pattern[str]:
    """A prohibition cue; a negated prefix is matched glued to its word ("non-refundable")."""
    cues = alternation(_words("prohibition", language))
    prefixes = _words("negated_prefix", language)
    glued = f"|(?<!\\w)(?:{alternation(prefixes)})(?=[a-z])" if prefixes else ""
    return re.compile(f"(?<!\\w)(?:{cues})(?!\\w){glued}")


@grammar_table
def _commitment(language: str) -> re.Pattern[str]:
    return re.compile(f"(?<![\\w'])(?:{alternation(_words('commitment', language))})(?![\\w'])")


@grammar_table
def _committing_verb(language: str) -> re.Pattern[str] | None:
    suffixes = _words("commitment_suffix", language)
    if not suffixes:
        return None
    return re.compile(f"(?<!\\w)[a-z]{{2,}}(?:{alternation(suffixes)})(?!\\w)")


@grammar_table
def _set(kind: str, language: str) -> frozenset[str]:
    return frozenset(_words(kind, language))


@grammar_table
def _words_pattern(kind: str, language: str) -> re.Pattern[str]:
    """Any whole word or phrase of the grammar table `kind` ("condition", "book_condition")."""
    return re.compile(f"(?<!\\w)(?:{alternation(_words(kind, language))})(?!\\w)")


@grammar_table
def _break_pattern(kind: str, language: str) -> re.Pattern[str]:
    """Punctuation or a word of the grammar table `kind` ("segment_break", "clause_break")."""
    return re.compile(f"[,;:()]|(?<!\\w)(?:{alternation(_words(kind, language))})(?!\\w)")


_TOKEN = re.compile(r"[a-z]+")
#: Words that join the actions of a list ("transferred, resold or exchanged").
_JOINS = frozenset({"or", "and", "nor", "o", "y", "ni", "ou", "e", "nem", "u"})
#: Punctuation that ends the list of forbidden actions.
_STOP = re.compile(r"[;.:()]")
#: Words after an action within which the next action of its list is named.
LIST_REACH = 4
_PART = re.compile(r";|(?<=[.!?])\s+")


def _stem(word: str, language: str) -> str:
    return stems(word)[LANGUAGES.index(language)]


@dataclass(frozen=True)
class Prohibition:
    """A clause's forbidden actions and what they are about, in one language."""

    clause: Clause
    #: Stems of the forbidden actions ("restor", "refund").
    actions: frozenset[str]
    #: Lexicon concepts of the forbidden actions (language-independent).
    action_concepts: frozenset[str]
    #: Specific stems of what the prohibition is about ("invoic", "voucher").
    objects: frozenset[str]
    #: Lexicon concepts of what it is about.
    object_concepts: frozenset[str]


@grammar_table
def _forms(language: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    table: dict[str, list[str]] = _grammar().get("list_forms", {}).get(language, {})
    return tuple((name, re.compile(f"(?:{alternation(ends)})$")) for name, ends in table.items())


def _form(word: str, language: str) -> str | None:
    """The form (participle, infinitive) a word's ending gives it, if any."""
    if len(word) < MIN_WORD:
        return None
    return next((name for name, ends in _forms(language) if ends.search(word)), None)


def _actions(folded: str, language: str) -> list[tuple[int, int, int, list[str]]]:
    """Each prohibition cue of a folded text: its span and the words of the actions it forbids
    (the first word after it that is no auxiliary, and the words listed with it within a few
    words: "cannot be transferred, resold or exchanged", "never swapped for cash or moved")."""
    out = []
    skip = _set("auxiliary", language)
    for cue in _cue(language).finditer(folded):
        actions: list[str] = []
        last = cue.end()
        seen = 0
        joined = False
        form: str | None = None
        reached = cue.end()
        for token in _TOKEN.finditer(folded, cue.end()):
            gap = folded[last : token.start()]
            last = token.end()
            word = token.group(0)
            if _STOP.search(gap):
                break
            if not actions:
                if word in skip:
                    continue
                if len(word) < MIN_WORD:
                    break
                actions.append(word)
                reached = token.end()
                form = _form(word, language)
                if form is None:
                    break  # an active verb lists no further actions
                continue
            seen += 1
            if seen > LIST_REACH:
                break
            joined = joined or "," in gap
            if word in _JOINS:
                joined = True
                continue
            if joined and _form(word, language) == form and word not in skip:
                actions.append(word)
                reached = token.end()
                seen = 0
                if len(actions) >= LISTED_ACTIONS:
                    break
            joined = False
        if actions:
            out.append((cue.start(), cue.end(), reached, actions))
    return out


def _segment_stems(
    part: str, start: int, end: int, reached: int, words: list[str], language: str
) -> tuple[set[str], str]:
    """The stems of the stretch of a clause a prohibition speaks of: from the clause break
    before its cue to the one after its actions, without the actions and the cue; the whole
    part when that stretch names nothing."""
    breaks = _break_pattern("segment_break", language)
    left = max((m.end() for m in breaks.finditer(part, 0, start)), default=0)
    after = breaks.search(part, reached)
    right = after.start() if after is not None else len(part)
    stretch = part[left:start] + " " + part[end:right]
    found = set(text_stems(stretch, language)) - {_stem(w, language) for w in words}
    if not found:
        stretch = part[:start] + " " + part[end:]
        found = set(text_stems(stretch, language)) - {_stem(w, language) for w in words}
    return found, stretch


def _pronoun_parts(text: str, language: str) -> list[bool]:
    """For each part of a clause, in its own words, whether it begins with a pronoun ("They
    are never refunded")."""
    out = []
    for part in _PART.split(fold(text)):
        first = _TOKEN.search(part)
        out.append(first is not None and first.group(0) in _set("pronoun", language))
    return out


def _extract(
    clause: Clause,
    text: str,
    previous: str,
    language: str,
    generic: frozenset[str],
    own: tuple[str, str],
) -> Prohibition | None:
    """The prohibitions of one clause's text in `language` (the clause's own text or its
    translation), with `previous` the clause before it for a subject named by a pronoun
    (`own`: the clause's original text and language, where the pronoun is read)."""
    folded = fold(text.replace("*", "").replace("#", ""))
    actions: set[str] = set()
    action_words: set[str] = set()
    objects: set[str] = set()
    spoken_of: list[str] = []
    pronouns = _pronoun_parts(own[0], own[1]) if own[1] in LANGUAGES else []
    parts = _PART.split(folded)
    for k, part in enumerate(parts):
        found = _actions(part, language)
        segment_stems: set[str] = set()
        stretches: list[str] = []
        for start, end, reached, words in found:
            if _words_pattern("book_condition", language).search(part[:start]):
                continue  # "after 60 days it cannot be opened": forbidden only then
            if words[0] in _set("asking", language):
                continue  # what may be asked for is the privacy guardrail's
            action_words.update(words)
            actions.update(_stem(w, language) for w in words)
            found_stems, stretch = _segment_stems(part, start, end, reached, words, language)
            segment_stems |= found_stems
            stretches.append(stretch)
        if not segment_stems:
            continue
        objects |= segment_stems
        spoken_of.extend(stretches)
        if k < len(pronouns) and pronouns[k] and len(pronouns) == len(parts):
            # "They are never refunded": what the part before it spoke of
            objects |= text_stems(parts[k - 1] if k else previous, language)
    if not actions:
        return None
    return Prohibition(
        clause=clause,
        actions=frozenset(actions),
        action_concepts=frozenset(concepts(" ".join(action_words))),
        objects=frozenset(objects - actions - generic),
        object_concepts=frozenset(concepts(" ".join(spoken_of))),
    )


def book_prohibitions(index: PolicyIndex, language: str) -> tuple[Prohibition, ...]:
    """The book's prohibitions read in `language` (one of `LANGUAGES`)."""
    return _book_prohibitions(index, LANGUAGES[LANGUAGES.index(language)])


@per_policy()
def _book_prohibitions(index: PolicyIndex, language: str) -> tuple[Prohibition, ...]:
    source = book_language(index) or language
    clauses = index.clauses
    texts: tuple[str, ...] = tuple(c.text for c in clauses)
    read_in = language
    generic = book_stems(index).generic[LANGUAGES.index(language)]
    if source != language:
        translated = translate(texts, source, language)
        table = translated_stems(index, language)
        if translated is not None and table is not None:
            texts, generic = translated, table.generic
        elif source in LANGUAGES:
            # no translation: the book is read in its own language (the lexicon's concepts
            # still tie its actions to the answer's)
            read_in, generic = source, book_stems(index).generic[LANGUAGES.index(source)]
        else:
            return ()
    out = []
    for i, clause in enumerate(clauses):
        found = _extract(
            clause, texts[i], texts[i - 1] if i else "", read_in, generic, (clause.text, source)
        )
        if found is None:
            continue
        # what it is about, by concept: read in the clause's own words
        original = (
            _extract(clause, clause.text, "", source, frozenset(), (clause.text, source))
            if source in LANGUAGES
            else None
        )
        own = original.object_concepts if original is not None else frozenset()
        out.append(
            Prohibition(
                clause=found.clause,
                actions=found.actions,
                action_concepts=found.action_concepts,
                objects=found.objects,
                object_concepts=frozenset(own - found.action_concepts - index.generic),
            )
        )
    return tuple(out)


def _committed_windows(folded: str, language: str) -> list[tuple[int, int]]:
    """Where the answer's sentence commits to an action: the span of the words right after
    each affirmative, unconditional commitment (the committing verb itself for a verb that
    commits by its inflection), within its clause."""
    clause_breaks = _break_pattern("clause_break", language).finditer(folded)
    breaks = [0, *(m.end() for m in clause_breaks), len(folded)]
    negation = negation_for(language)
    condition = _words_pattern("condition", language)
    out = []
    marks = [(m.start(), m.end(), m.end()) for m in _commitment(language).finditer(folded)]
    verb = _committing_verb(language)
    if verb is not None:
        marks += [(m.start(), m.end(), m.start()) for m in verb.finditer(folded)]
    for start, end, reach_from in marks:
        left = max(b for b in breaks if b <= start)
        right = min((b for b in breaks if b > end), default=len(folded))
        before = folded[left:start]
        if condition.search(before) or negation.search(before):
            continue
        words = list(_TOKEN.finditer(folded, reach_from, right))[: ACTION_REACH + 1]
        if not words:
            continue
        stop = words[-1].end()
        if negation.search(folded[end:stop]) or condition.search(folded[end:stop]):
            continue  # "we cannot refund it", "we can only refund it as credit"
        out.append((words[0].start(), stop))
    return out


def prohibition_findings(
    sent: SentenceAnalysis, index: PolicyIndex, language: str | None
) -> list[Finding]:
    """The answer's sentence committing to an action a clause of the book forbids, on the same
    subject: `policy.contradicted` with that clause (offsets index the sentence)."""
    lang = grammar_language(language)
    if lang is None or sent.text.rstrip().endswith("?"):
        return []
    prohibitions = book_prohibitions(index, lang)
    if not prohibitions:
        return []
    folded = sent.folded
    windows = _committed_windows(folded, lang)
    if not windows:
        return []
    said = text_stems(sent.text, lang)
    said_concepts = {m.concept for m in sent.mentions if not m.negated}
    for start, end in windows:
        window = folded[start:end]
        committed = {_stem(w, lang) for w in _TOKEN.findall(window) if len(w) >= MIN_WORD}
        window_concepts = concepts(window)
        for p in prohibitions:
            action = committed & p.actions or window_concepts & p.action_concepts
            if not action:
                continue
            about = (said - (committed & p.actions)) & p.objects or (
                (said_concepts - p.action_concepts) & p.object_concepts
            )
            if not about:
                continue
            return [
                policy_finding(
                    "policy.contradicted",
                    f"The answer commits to '{sent.text[start:end].strip()}', which the policy "
                    "forbids.",
                    Span(start=start, end=end, text=sent.text[start:end]),
                    index,
                    "the policy clause on the same subject forbids this action",
                    p.clause,
                )
            ]
    return []
