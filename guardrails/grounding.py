"""What an answer may state without support from the policy: the case's own facts and what the
customer said. Both the `policy` and the `facts` guardrails ground quantities here."""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from guardrails.fact_keys import key_unit, without_windows
from guardrails.lexicon import Lexicon, active, concept_spans, lexicon_for, using
from guardrails.records import Case, Evidence, FactValue, Finding, PolicyBook, Span
from guardrails.text import (
    Quantity,
    Sentence,
    bare_numbers,
    fold,
    per_object,
    per_text,
    quantities,
    sentences,
)
from guardrails.text import clear_caches as text_clear_caches

NEGATION = re.compile(
    r"(?<!\w)(no|not|never|nunca|jamas|nao|sin|sem|cannot|can't|cant|won't|don't|doesn't|"
    r"unable|impossible|imposible|impossivel|neither|nothing|nada|nenhuma|ninguna|nobody|"
    r"no one|nadie|ninguem|none|"
    r"isn't|aren't|may not|must not|nenhum\w*|ningun\w*|nor|ni|without|neither|tampoco|"
    r"tampouco)(?!\w)"
)
# Portuguese "no"/"na" mean "in the"; Spanish has no "não": per-language negations.
_NEGATION_PT = re.compile(
    r"(?<!\w)(nao|nunca|jamais|sem|nem|nada|nenhum\w*|nenhuma|ninguem|impossivel|tampouco)(?!\w)"
)


def negation_for(language: str | None) -> re.Pattern[str]:
    """The negation pattern for a BCP-47 language (all three languages when unknown)."""
    if language is not None and language.split("-")[0].lower() == "pt":
        return _NEGATION_PT
    return NEGATION


_PROHIBITION_HEADING = re.compile(r"never|nunca|must not|may not|prohib|forbidden|do not")

# Keys of facts whose plain numbers carry a unit in their name.
_KEY_UNITS = (
    (
        "business_day",
        ("business_days", "working_days", "dias_habiles", "dias_laborables", "dias_uteis"),
    ),
    ("day", ("days", "_day", "dias")),
    ("hour", ("hours", "hour", "horas")),
    ("minute", ("minutes", "minutos")),
    ("month", ("months", "meses")),
    ("year", ("years", "anos")),
    ("percent", ("percent", "pct", "porcentaje")),
    (
        "money",
        (
            "amount",
            "fee",
            "price",
            "total",
            "balance",
            "cost",
            "refund",
            "charge",
            "monto",
            "importe",
            "valor",
            "saldo",
        ),
    ),
)


# Where a negation stops applying: strong punctuation, contrastive and consecutive words.
_SEGMENT_BREAK = re.compile(
    r"[;:()]|[.!?](?=\s)|(?<!\w)(but|pero|mas|however|sin embargo|though|although|aunque|"
    r"embora|porem|so|asi que|por eso|entonces|then|therefore|por isso|entao|instead|"
    r"en cambio)(?!\w)"
    # a coordinated clause with its own first-person subject has its own polarity: "no
    # existe ninguna investigación, y garantizamos..."
    r"|,\s*(?:and|y|e)\s+(?=(?:we|i|nosotros|nos|eu|\w+(?:amos|emos|imos))(?!\w))"
)
# A negation this many words before a mention still applies to it.
NEGATION_WINDOW_WORDS = 12
# Negation after the mention: "retroactive adjustments fall outside our policy".
_POSTNEGATION = re.compile(
    r"(?<!\w)(is not|are not|isn't|aren't|not (?:possible|available|allowed|offered|something|"
    r"an option|part of)|outside (?:of )?(?:our|the|this|what)|fuera de|no (?:es|son|esta|estan) "
    r"(?:posible|disponible|permitid)|nao (?:e|sao|esta|estao) (?:possivel|disponivel|permitid)|"
    r"fora d[aeo]|does not apply|no aplica|nao se aplica|not apply|"
    # conditional, not offered: "an exception could only come as a written offer"
    r"could only|can only|only if|only with|solo si|solo con|solo pued\w*|solo podr\w*|"
    r"so pode\w*|so se|apenas se|requires?|requiere\w*|requer\w*|subject to|sujeto a|"
    r"sujeito a|would need|depends on|depende de|"
    # a negation right after: "cupones o compensaciones no los puedo dar"
    r"(?:no|nao) (?:\w+ )?(?:puedo|podemos|puede|se puede|es posible|posso|podemos|pode|"
    r"ofrecemos|oferecemos|damos|existe|existen|hay|aplica)|"
    # a reference to what the policy provides: "la compensación que prevé nuestra política"
    r"que preve|previst[oa]|que establece|que contempla|provided (?:for )?by|"
    r"set out in|under (?:our|the) policy|segun (?:nuestra|la) politica|conforme a)(?!\w)"
)
# Taking no side, right after the mention: "politically neutral".
_NEUTRAL_AFTER = re.compile(r"^\s+(?:neutral\w*|neutr[ao]s?)(?!\w)")
# A negative word right after the mention is its object: "supports no party", "apoya a
# ningún partido", "não apoia nenhum".
_OBJECT_NEGATION = re.compile(
    r"^\s+(?:(?:a|to)\s+)?(?:no|none|nothing|ningun\w*|ninguna|nada|nadie)(?!\w)"
)
# Portuguese "no" is "in the": only its negative words.
_OBJECT_NEGATION_PT = re.compile(r"^\s+(?:a\s+)?(?:nenhum\w*|nenhuma|nada|ninguem)(?!\w)")
# A result stated under a condition is not promised: "if the decision is in your favour, ...",
# "si se resuelve a tu favor", "se a decisão for a seu favor".
# Spanish "se" is reflexive ("se resolverá a tu favor" promises it), Portuguese "se" is "if".
_CONDITION_BEFORE = re.compile(r"(?<!\w)(?:if|whether|unless|si|caso|cuando|quando)(?!\w)")
_CONDITION_BEFORE_PT = re.compile(r"(?<!\w)(?:se|caso|quando)(?!\w)")
#: Concepts that a condition before them keeps from being stated.
CONDITIONAL_CONCEPTS = frozenset({"favourable_outcome"})
# Taking no side, before the mention: "es neutral políticamente".
_NEUTRAL_BEFORE = re.compile(r"(?<!\w)(?:neutral\w*|neutr[ao]s?)\s+$")
# A mention that only names the topic: "About the coupon: ...", "Sobre el cupón".
_TOPIC_FRAME = re.compile(
    r"^\W*(about|regarding|as for|as to|on|sobre|acerca de|respecto a|en cuanto a|quanto a|"
    r"em relacao a)(?:\s+\w+){0,2}\s*$"
)


@dataclass(frozen=True)
class Mention:
    concept: str
    start: int
    end: int
    negated: bool


#: Characters around a quantity whose concepts say what the quantity is about.
LOCAL_RADIUS = 60


def near_mentions(
    found: Sequence[Mention], start: int, end: int, radius: int = LOCAL_RADIUS
) -> list[Mention]:
    """The mentions within `radius` characters of [start, end)."""
    return [m for m in found if m.end >= start - radius and m.start <= end + radius]


def near(found: Sequence[Mention], start: int, end: int, radius: int = LOCAL_RADIUS) -> set[str]:
    """The concepts mentioned within `radius` characters of [start, end)."""
    return {m.concept for m in near_mentions(found, start, end, radius)}


# Bounds: a value stated as a minimum or a maximum.
_LOWER_BOUND = re.compile(
    r"(?<!\w)(?:at least|al menos|por lo menos|como minimo|pelo menos|no minimo|minimum of|"
    r"more than|mas de|mais de)\s+$"
)
_UPPER_BOUND = re.compile(
    r"(?<!\w)(?:at most|up to|no more than|hasta|ate|no maximo|como maximo|maximo de|"
    r"a maximum of|un maximo de|um maximo de|less than|menos de)\s+$"
)


_NOT_MORE = re.compile(
    r"(?:(?<!\w)(?:not|no|nao|never|nunca)|n't)\s+(?:\w+\s+){0,2}(?:more than|over|mas de|mais de|"
    r"longer than)\s+$"
)


# A lead time: the value counts back from an event ("72 hours before the visit", "con 3 días de
# antelación", "2 dias de antecedência", "in advance").
_LEAD_AFTER = re.compile(
    r"^\s*(?:before|beforehand|in advance|prior|ahead|antes|de antelacion|con antelacion|"
    r"de anticipacion|con anticipacion|de antecedencia|com antecedencia|previos?|previas?)(?!\w)"
)
# A time something takes is a duration, whatever follows: "the bank can take up to 10 days
# before it shows", "puede tardar hasta 10 días antes de verse".
_TAKES_BEFORE = re.compile(
    r"(?<!\w)(?:take|takes|taking|took|tarda\w*|demora\w*|leva|levam|levar|lleva|llevan|"
    r"llevar)(?!\w)"
)


def bound_of(text: str, start: int, end: int | None = None) -> str | None:
    """Whether the value at `start` is a minimum ("at least 5 days") or a maximum ("up to 10
    days", "no máximo 7 dias").

    With `end`, a lead time counted back from an event is "lead", a threshold of notice whatever
    word bounds it: "free cancellation up to 72 hours before the visit", "cancel more than 72
    hours before" and "as you cancel less than 72 hours before, the first session is charged"
    all state the same 72-hour rule, from one side or the other."""
    before = fold(text[max(0, start - 40) : start])
    if (
        end is not None
        and _LEAD_AFTER.match(fold(text[end : end + 30]))
        and not _TAKES_BEFORE.search(before)
    ):
        return "lead"
    if _NOT_MORE.search(before):  # "can't be more than 10 days" is a maximum
        return "max"
    if _LOWER_BOUND.search(before):
        return "min"
    if _UPPER_BOUND.search(before):
        return "max"
    return None


def negated_before(
    folded: str, start: int, language: str | None = None, words: int | None = None
) -> bool:
    """Whether a negation precedes position `start` of a folded sentence, within its segment
    and a few words ("no se expusieron los números de tarjeta")."""
    negation = negation_for(language)
    breaks = [
        e for _, e in ((m.start(), m.end()) for m in _SEGMENT_BREAK.finditer(folded)) if e <= start
    ]
    before = _REASSURANCE.sub(" ", folded[max(breaks, default=0) : start])
    window = words if words is not None else NEGATION_WINDOW_WORDS
    return bool(negation.search(" ".join(before.split()[-window:])))


# A causal or conditional clause before the main one: its negation stays inside it ("como el
# producto nunca llegó, haremos una excepción" offers the exception).
_SUBORDINATOR = re.compile(
    r"(?<!\w)(?:como|ya que|puesto que|dado que|porque|since|because|as|given that|ja que|"
    r"visto que|pois|if|si|se)(?!\w)"
)
# A negation right inside a relative clause describes its noun, not what the sentence states:
# "the GB that you didn't use carry over", "os GB que não gastou passam para o pacote novo"
# ("what we cannot do is..." is no relative clause).
_NEGATED_RELATIVE = re.compile(
    r"(?<!\w)(?<!lo )(?<!o )(?:que|that|which|who)(?:\s+(?:you|he|she|they|we|i|it|usted|voce|"
    r"tu|ele|ela))?\s+$"
)
# The main clause's verb after the subordinate one: first person, present or future ("haremos",
# "we will", "vamos", "faremos").
_MAIN_VERB = re.compile(
    r"(?<!\w)(?:we will|we'll|i will|i'll|we can|vamos|\w+(?:remos|aremos|eremos|iremos|amos|"
    r"emos|imos|rei|re))(?!\w)"
)


# Reassurances built on a negative word negate nothing: "no problem, I've applied the credit",
# "no se preocupe: le abonaremos la diferencia", "sem problema".
_REASSURANCE = re.compile(
    r"(?<!\w)(?:no problem|no worries|not a problem|sin problema|no hay problema|ningun problema|"
    r"no te preocupes|no se preocupe|no se preocupen|nao se preocupe|nao te preocupes|"
    r"nao tem problema|sem problema|nenhum problema|"
    # and other set phrases of service language built on a negative word that negate nothing:
    # "antes de nada revisamos..." (first of all), "sin duda" (certainly), "no dude en" /
    # "don't hesitate to" (an invitation)
    r"antes de nada|antes que nada|antes de mais nada|sin duda|sem duvida|no doubt|"
    r"without a doubt|no dude en|no dudes en|no duden en|nao hesite em|nao hesites em|"
    r"don't hesitate to|do not hesitate to)(?!\w)"
)


# "that" after a verb or adjective of saying or knowing opens what is said, not a relative
# clause: "I must be clear that I cannot credit it", "lamento decirle que no podemos".
_COMPLEMENT_THAT = re.compile(
    r"(?<!\w)(?:clear|sure|afraid|sorry|confirm|say|said|note|understand|know|mean|tell you|"
    r"inform you|explain|claro|clara|seguro|segura|decir|decirle|decirte|confirmar|confirmarle|"
    r"confirmarte|informar|informarle|informarte|lamento|siento|temo|aclarar|aclararle|certo|"
    r"certa|dizer|dizer-lhe|informa-lo|lamentamos|sentimos|recordarle|lembrar)\s+(?:que|that)"
    r"(?:\s+\w+)?\s+$"
)


def _relative_before(window: str) -> bool:
    """Whether a negation right after `window` sits inside a relative clause."""
    return bool(_NEGATED_RELATIVE.search(window)) and not _COMPLEMENT_THAT.search(window)


def _negates(negation: re.Pattern[str], window: str, mention: str = "") -> bool:
    """Whether a negation in `window` (the words before a mention) reaches the mention. One
    inside a preceding causal or conditional clause does not when the main clause's own verb
    comes between them ("como el producto nunca llegó haremos una excepción"); a reassurance
    ("no problem", "no se preocupe") is no negation."""
    window = _REASSURANCE.sub(" ", window)
    found = [m for m in negation.finditer(window) if not _relative_before(window[: m.start()])]
    if not found:
        return False
    last = found[-1]
    opener = list(_SUBORDINATOR.finditer(window[: last.start()]))
    # The negation must be inside the subordinate clause (no comma closed it before)...
    if not opener or "," in window[opener[-1].end() : last.start()]:
        return True
    # ...which a comma closes before the mention: the main clause has its own polarity
    # ("since you don't recognise it, the dispute will be resolved in your favour")...
    if "," in window[last.end() :]:
        return False
    # ...and the main clause's verb must follow the negated one.
    # (a mention may begin with it: "haremos una excepción").
    words = f"{window[last.end() :]} {mention}".replace(",", " ").split()
    return not _MAIN_VERB.search(" ".join(words[1:]))


def mentions(
    text: str, language: str | None = None, lexicon: Lexicon | None = None
) -> list[Mention]:
    """Concept mentions with their polarity (of the active lexicon's concepts unless given
    one); see `_mentions`."""
    return list(_mentions(text, language, lexicon or active()))


@lru_cache(maxsize=4096)
def _mentions(text: str, language: str | None, lexicon: Lexicon) -> tuple[Mention, ...]:
    """Concept mentions with their polarity: negated when a negation precedes the mention
    within the same segment of its sentence ("no podemos ofrecer un cupón")."""
    negation = negation_for(language)
    condition = _CONDITION_BEFORE_PT if negation is _NEGATION_PT else _CONDITION_BEFORE
    folded = fold(text)
    spans = concept_spans(text, lexicon)
    if not spans:
        return ()
    # Breaks are matched left to right without overlap (and never empty): their starts and
    # their ends are both ascending, so the segment around a mention is two bisections.
    breaks = [(m.start(), m.end()) for m in _SEGMENT_BREAK.finditer(folded)]
    starts = [s for s, _ in breaks]
    ends = [e for _, e in breaks]
    # Patterns that match nowhere in the sentence match in no part of it, so most sentences
    # skip them for every mention: a window is a run of the sentence's words joined by single
    # spaces (and taking reassurances out of it adds no negation), what follows a mention is
    # a slice of the sentence that starts at a word's end, and "neutr" is in every neutrality.
    negations = negation.search(" ".join(folded.split())) is not None
    postnegations = _POSTNEGATION.search(folded) is not None
    neutral = "neutr" in folded
    out = []
    for concept, start, end in spans:
        before_at = bisect_right(ends, start)
        seg_start = ends[before_at - 1] if before_at else 0
        after_at = bisect_left(starts, end)
        seg_end = starts[after_at] if after_at < len(starts) else len(folded)
        before = folded[seg_start:start]
        after = folded[end:seg_end]
        negated = (
            (
                negations
                and _negates(
                    negation,
                    " ".join(before.split()[-NEGATION_WINDOW_WORDS:]),
                    folded[start:end],
                )
            )
            or (postnegations and bool(_POSTNEGATION.search(after)))
            or bool(_TOPIC_FRAME.search(before))
            or (neutral and bool(_NEUTRAL_BEFORE.search(before)))
            or (neutral and bool(_NEUTRAL_AFTER.match(after)))
            # a negative object after a mention that is itself negative is concord, not a
            # second negation: "no le cobraremos ninguna penalización" waives it
            or (bool(_OBJECT_NEGATION_PT.match(after)) and not negation.search(folded[start:end]))
            or (
                negation is not _NEGATION_PT
                and bool(_OBJECT_NEGATION.match(after))
                and not negation.search(folded[start:end])
            )
            or (concept in CONDITIONAL_CONCEPTS and bool(condition.search(before)))
        )
        out.append(Mention(concept, start, end, negated))
    return tuple(out)


def outside_quantities(
    found: list[Mention], stated: tuple[Quantity, ...] | list[Quantity]
) -> list[Mention]:
    """Mentions that are not a quantity's own unit: the "hours" of "48 hours" names no opening
    hours, and would tie every duration in hours to every other."""
    return [m for m in found if not any(q.start <= m.start and m.end <= q.end for q in stated)]


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    text: str
    quantities: tuple[Quantity, ...]
    numbers: tuple[Quantity, ...]
    concepts: frozenset[str]
    granted: frozenset[str]
    forbidden: frozenset[str]
    mentions: tuple[Mention, ...]
    #: What each of `quantities` is about (see `subject`), aligned with it.
    subjects: tuple[frozenset[str], ...] = ()

    def near(self, start: int, end: int, radius: int = LOCAL_RADIUS) -> set[str]:
        return near(self.mentions, start, end, radius)


@dataclass(frozen=True)
class PolicyIndex:
    book: PolicyBook
    clauses: tuple[Clause, ...]
    generic: frozenset[str]

    def related(self, clause: Clause, topic: set[str]) -> bool:
        """Whether a clause is about the topic: they share a concept that is specific to
        part of the policy (not one that, like 'within', appears everywhere)."""
        return bool((clause.concepts & topic) - self.generic)


# Where a clause of a sentence ends: what a quantity is about is said inside its clause
# ("the grace period is 5 days, and a date change needs 5 days' notice"). Conjunctions are
# matched on the lowercased, unfolded text: Portuguese "é" (is) must not read as "e" (and).
_CLAUSE_BREAK = re.compile(
    r"[,;:]|[.!?](?=\s)|(?<!\w)(and|y|e|but|pero|mas|mais|while|mientras|enquanto|so|"
    r"because|porque|since|if|si|when|cuando|quando|unless|salvo|until|hasta que|"
    r"ate que)(?!\w)"
)
# Words right after a value that tie it to the moment it counts from ("15 days after the
# due date"); "of"/"from" are left out: "60 days from the date of the charge" is no due date.
_TIED = re.compile(
    r"^\s*(?:(?:business |working )?(?:days?|hours?|months?|weeks?)\s+)?"
    r"(?:after|before|despues de|después de|despues del|después del|antes de|antes del|"
    r"antes do|antes da|depois de|depois do|depois da|tras)(?!\w)"
)
_RELATIVE = re.compile(
    r"^\s*(?:which|who|that|que|quien|quienes|quem|o qual|a qual|el cual|la cual)(?!\w)"
)
_ASIDE = re.compile(r"\([^()]*\)")
# "Grace period: 3 days after the due date": a short head before a colon names the subject of
# everything after it.
_HEAD = re.compile(r"^[\s\-*•\d.)]*([^:.;]{2,48}):")


@per_text()
def _clause_breaks(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The starts and the ends of the clause breaks of `text` (both ascending: the breaks are
    never empty and never overlap), computed once per text."""
    lowered = text.lower()
    # A parenthesis is an aside: its commas do not end the clause around it.
    asides = [(m.start(), m.end()) for m in _ASIDE.finditer(lowered)]
    kept = [
        (m.start(), m.end())
        for m in _CLAUSE_BREAK.finditer(lowered)
        if not any(a < m.start() < b for a, b in asides)
    ]
    return tuple(s for s, _ in kept), tuple(e for _, e in kept)


def clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause of `text` around [start, end): between the nearest clause breaks (the end
    of the last one before it, the start of the first one after it)."""
    starts, ends = _clause_breaks(text)
    before_at = bisect_right(ends, start)
    after_at = bisect_left(starts, end)
    left = ends[before_at - 1] if before_at else 0
    right = starts[after_at] if after_at < len(starts) else len(text)
    return left, right


# A coordinating conjunction ending the text before a clause ("..., and", "... y", "... ou").
_ELLIPTIC = re.compile(r"(?<!\w)(?:and|or|y|o|e|ou)\s*$")
#: Concepts that relate a value to its subject without naming one ("up to", "within").
RELATION_CONCEPTS = frozenset({"window"})


def _subjectless(text: str, found: Sequence[Mention], left: int, start: int) -> bool:
    """Whether the clause from `left` has nothing before the value at `start` but relation
    words ("and up to 5 days", "y hasta 48 horas"; not "and you have 5 days")."""
    rest = list(text[left:start])
    for m in found:
        if left <= m.start and m.end <= start:
            if m.concept not in RELATION_CONCEPTS:
                return False
            rest[m.start - left : m.end - left] = " " * (m.end - m.start)
    return not "".join(rest).strip(" ,")


def subject(
    text: str, found: tuple[Mention, ...] | list[Mention], start: int, end: int
) -> frozenset[str]:
    """What the quantity at [start, end) is about: the concepts its clause names before it (the
    subject a value is predicated of comes first in English, Spanish and Portuguese: "the grace
    period is 5 days", "el periodo de gracia es de 5 días"), plus the head a colon puts before
    it. Coarser sentence topics mix the subjects of several rules ("5 days" of a date-change
    notice is not the grace period)."""
    left, right = clause_bounds(text, start, end)
    # A relative clause is about its antecedent: "a supervisor review, which is answered within
    # 5 business days", "la revisión de un responsable, que le contestará en 48 horas".
    while left > 0 and _RELATIVE.match(text[left:start].lower()):
        left = clause_bounds(text, max(0, left - 2), max(0, left - 1))[0]
    # A coordinated clause with no subject of its own shares the one before it: in "changes
    # are free up to 2 days before a visit, and up to 5 days before a surgery" the 5 days are
    # about free changes too.
    while left > 0 and _subjectless(text, found, left, start):
        conjunction = _ELLIPTIC.search(text[:left].lower())
        if conjunction is None:
            break
        before = len(text[: conjunction.start()].rstrip(" ,"))
        if before == 0:
            break
        left = clause_bounds(text, before - 1, before)[0]
    out = {m.concept for m in found if m.start >= left and m.end <= start}
    # What a relation word ties the value to is its subject too: "up to 15 days after the
    # original date", "más de 60 días de retraso".
    tied = _TIED.match(text[end:right].lower())
    if tied is not None:
        out |= {m.concept for m in found if end <= m.start and m.end <= right}
    head = _HEAD.match(text)
    # The head names the subject of the item's first clause only: in "Known outages: the
    # status page, updated every 2 hours" the 2 hours are about the updates.
    if head is not None and head.end() <= start and left == head.end():
        out |= {m.concept for m in found if m.end <= head.end(1)}
    return frozenset(out)


_BLOCK_START = re.compile(r"^[ \t]*(?:[-*•]|\d+[.)]|#)", re.MULTILINE)


def policy_blocks(text: str) -> list[Sentence]:
    """A policy's clauses: each list item (with its wrapped lines and all its sentences) and
    each heading is one block; a paragraph of prose is split into sentences."""
    out: list[Sentence] = []
    starts = sorted({m.start() for m in _BLOCK_START.finditer(text)} | {0})
    bounds = [*starts, len(text)]
    for start, end in itertools.pairwise(bounds):
        chunk = text[start:end]
        if _BLOCK_START.match(chunk):
            if chunk.lstrip().startswith("#"):
                line_end = chunk.find("\n")
                head_end = start + (line_end if line_end != -1 else len(chunk))
                out.append(_trimmed(text, start, head_end))
                out.extend(
                    s
                    for s in sentences(text[head_end:end])
                    for s in [Sentence(s.start + head_end, s.end + head_end, s.text)]
                )
            else:
                paragraph_break = chunk.find("\n\n")
                item_end = start + paragraph_break if paragraph_break != -1 else end
                out.append(_trimmed(text, start, item_end))
                if item_end < end:
                    out.extend(
                        Sentence(s.start + item_end, s.end + item_end, s.text)
                        for s in sentences(text[item_end:end])
                    )
        else:
            out.extend(Sentence(s.start + start, s.end + start, s.text) for s in sentences(chunk))
    return [s for s in out if s.text]


def _trimmed(text: str, start: int, end: int) -> Sentence:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Sentence(start, end, text[start:end])


@lru_cache(maxsize=64)
def index_policy(book: PolicyBook) -> PolicyIndex:
    """Clauses of a policy book (lines and sentences), each with its quantities, concepts, and
    the concepts it grants or forbids: everything under a 'Never promise' heading is forbidden,
    and so is a concept a clause negates ("no discounts ... exist"). Its concepts are those of
    the book's lexicon: its packs and its own terms."""
    with using(lexicon_for(book)):
        return _index_policy(book)


# An e-mail or web address: its words name a mailbox or a page, not what the clause is about
# ("claims: claims@example.com" speaks of claims once, not twice).
_ADDRESS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:https?://)?(?:[\w-]+\.)+[a-z]{2,}(?:/[\w./?=&%-]*)?",
    re.IGNORECASE,
)


def _inside_address(text: str, start: int, end: int) -> bool:
    return any(a.start() <= start and end <= a.end() for a in _ADDRESS.finditer(text))


def _index_policy(book: PolicyBook) -> PolicyIndex:
    clauses = []
    under_prohibition = False
    section = frozenset[str]()
    for sent in policy_blocks(book.text):
        folded = fold(sent.text)
        if sent.text.lstrip().startswith("#"):
            under_prohibition = bool(_PROHIBITION_HEADING.search(folded))
            # A section heading ("## Refunds") names the subject of every rule under it.
            section = frozenset(m.concept for m in mentions(sent.text))
            continue
        stated = tuple(quantities(sent.text))
        found = [
            m
            for m in outside_quantities(mentions(sent.text), stated)
            if not _inside_address(sent.text, m.start, m.end)
        ]
        everything = frozenset(m.concept for m in found)
        if under_prohibition:
            granted, forbidden = frozenset[str](), everything
        else:
            granted = frozenset(m.concept for m in found if not m.negated)
            forbidden = frozenset(m.concept for m in found if m.negated)
        clauses.append(
            Clause(
                start=sent.start,
                end=sent.end,
                text=sent.text,
                quantities=stated,
                numbers=tuple(bare_numbers(sent.text)),
                concepts=everything,
                granted=granted,
                forbidden=forbidden,
                mentions=tuple(found),
                subjects=tuple(subject(sent.text, found, q.start, q.end) | section for q in stated),
            )
        )
    counts: dict[str, int] = {}
    for clause in clauses:
        for concept in clause.concepts:
            counts[concept] = counts.get(concept, 0) + 1
    generic = {c for c, n in counts.items() if n > max(3, len(clauses) // 4)} | {"window"}
    return PolicyIndex(book, tuple(clauses), frozenset(generic))


def fact_quantities(key: str, value: FactValue) -> list[Quantity]:
    """Quantities a fact states: parsed from its text, or a plain number with the unit its key
    names (days_since_purchase: 45 -> 45 days)."""
    values = value if isinstance(value, list) else [value]
    out: list[Quantity] = []
    for item in values:
        if isinstance(item, bool):
            continue
        if isinstance(item, int | float):
            lowered = without_windows(key)  # "requests_30_days" counts requests, not days
            for unit, hints in _KEY_UNITS:
                if any(h in lowered for h in hints):
                    out.append(Quantity(float(item), unit, 0, 0, str(item)))
                    break
            else:
                # any other unit its name's words give: installments_paid, refund_eur, *_pct
                unit_of = key_unit(key)
                unit, currency = unit_of if unit_of is not None else ("number", None)
                out.append(Quantity(float(item), unit, 0, 0, str(item), currency))
        else:
            out.extend(quantities(str(item)))
    return out


# Fact keys that record a claim or a request rather than what is true of the case.
_CLAIM_KEY = re.compile(r"request|claim|asked|demand|competitor|offered|promised|quoted|wanted")


@dataclass(frozen=True)
class CaseGround:
    """Quantities the answer may repeat because the case itself states them."""

    facts: tuple[tuple[str, Quantity], ...]
    conversation: tuple[Quantity, ...]

    def grounds(self, q: Quantity) -> bool:
        return self.in_facts(q) or any(q.matches(c) or _equivalent(q, c) for c in self.conversation)

    def in_facts(self, q: Quantity) -> bool:
        return any(q.matches(f) or _equivalent(q, f) for _, f in self.facts)

    def established(self, q: Quantity) -> bool:
        """Stated by a fact that is true of the case, not by one recording what the customer
        asks for or was told elsewhere (`requested_discount`, `competitor_offer`)."""
        return any(
            (q.matches(f) or _equivalent(q, f)) and not _CLAIM_KEY.search(k) for k, f in self.facts
        )


@per_object()
def case_ground(case: Case) -> CaseGround:
    """The case's own quantities, computed once per case object."""
    return _case_ground(case)


def _case_ground(case: Case) -> CaseGround:
    facts = tuple((k, q) for k, v in case.facts.items() for q in fact_quantities(k, v))
    said = tuple(q for m in case.messages for q in quantities(m.content))
    return CaseGround(facts, said)


_EXACT_DAYS = {"day": 1.0, "week": 7.0, "hour": 1 / 24, "minute": 1 / 1440}


def _equivalent(a: Quantity, b: Quantity) -> bool:
    """2 weeks == 14 days, 72 hours == 3 days, 1 month == 30 days, 12 months == 1 year.
    Business days convert to nothing: 10 business days is not 14 days."""
    if a.unit == b.unit or "business_day" in (a.unit, b.unit):
        return False
    if a.upper is not None or b.upper is not None:
        return False
    scale = {**_EXACT_DAYS, "month": 30.0, "year": 365.0}
    if a.unit in scale and b.unit in scale:
        da, db = a.value * scale[a.unit], b.value * scale[b.unit]
        if {a.unit, b.unit} == {"month", "year"}:
            return (
                abs(
                    a.value * (12 if a.unit == "year" else 1)
                    - b.value * (12 if b.unit == "year" else 1)
                )
                < 1e-6
            )
        tolerance = 1.0 if "month" in (a.unit, b.unit) else 1e-6
        return abs(da - db) <= tolerance
    return False


def equivalent(a: Quantity, b: Quantity) -> bool:
    return a.matches(b) or _equivalent(a, b)


def clear_caches() -> None:
    """Forget analysed texts and cases (for benchmarks)."""
    _mentions.cache_clear()
    text_clear_caches()


def policy_finding(
    code: str,
    message: str,
    span: Span,
    index: PolicyIndex,
    note: str,
    clause: Clause | None = None,
) -> Finding:
    """A critical `policy` finding: the span, the policy (id and version) it was checked
    against, and the clause it contradicts when there is one."""
    return Finding(
        guardrail="policy",
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
