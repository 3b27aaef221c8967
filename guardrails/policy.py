"""`policy`: the answer states a policy the company does not have.

Unsupported is fabricated. Every policy statement in an answer is grounded against the policy
book's clauses:

- a quantity (a window, a fee, a percentage, a number of installments, opening hours) that is not
  one of the case's own facts or something the customer said must appear in the policy with the
  same unit (days are not business days; 2 weeks are 14 days). A value the policy states
  differently for the same topic is `policy.contradicted`; one the policy never states is
  `policy.unsupported`.
- a benefit or commitment (a waiver, a coupon, a discount, compensation, a credit, something
  free, an exception, a guarantee, priority, an extension...) offered affirmatively needs a
  policy clause that grants it: a clause that forbids it makes it `policy.contradicted`, no
  clause makes it `policy.unsupported`.

- a value the case itself states is the facts guardrail's, unless the answer presents it as the
  rule ("as our policy requires: within 48 hours", "at least 2 days' notice"); a value the policy
  gives another country ("10 days in Chile") to this customer's country, a rate ("4 messages a
  week" against "no more than twice a week"), a list price, and a tier the case's own duration does
  not reach ("25% for 24 hours or more" for a 7-hour outage) are `policy.contradicted`. A
  maximum is never supported by a minimum of the same value.

- a benefit's value that only the customer claims ("confirm the 15% you offered me") is not
  the case's own: it must come from the policy like any other. A case's fee figure covers the
  fees its name speaks of, not an administrative charge invented next to it.

Statements the other modules of the family read, with the same two codes:
`guardrails.claims` (rule statements without numbers), `guardrails.schedule` (opening days),
`guardrails.outcomes` (a decision's outcome stated as settled), `guardrails.faster` (money back
faster than the policy's quickest refund), `guardrails.deadlines` (calendar dates), and paying
back what someone else charged (compensation, below).

The policy text may be in another language than the answer: topics and benefits are matched
through a cross-lingual lexicon (guardrails.lexicon), quantities by value and unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property, partial

from guardrails.analysis import analyse
from guardrails.claim_frames import no_immediacy, requested_benefit, stated_age
from guardrails.claims import claim_findings, refund_promised
from guardrails.deadlines import date_findings
from guardrails.fact_keys import convertible, stated_of
from guardrails.faster import faster_findings
from guardrails.grounding import (
    CaseGround,
    Clause,
    Mention,
    PolicyIndex,
    bound_of,
    case_ground,
    clause_bounds,
    equivalent,
    index_policy,
    near,
    near_mentions,
    negated_before,
    outside_quantities,
    policy_finding,
    subject,
)
from guardrails.lexicon import BENEFITS, concepts
from guardrails.outcomes import outcome_findings
from guardrails.policy_tables import (
    EQUAL_ENOUGH,
    HOURS_PER_UNIT,
    MINIMUM_BEFORE,
    RELATED,
    SUBJECT_RELATED,
    Stated,
    book_tables,
    comparable_units,
    rates,
    relation_score,
)
from guardrails.prohibitions import prohibition_findings
from guardrails.records import Case, Finding, PolicyBook, Span
from guardrails.registry import Check, GuardrailContext, register
from guardrails.schedule import schedule_findings
from guardrails.stems import book_stems, text_stems, translated_stems
from guardrails.subject_values import subject_value_finding
from guardrails.text import (
    Quantity,
    fold,
    per_object,
)

GUARDRAIL = "policy"


def _best_clause(candidates: list[Clause], topic: set[str]) -> Clause | None:
    if not candidates:
        return None
    return max(candidates, key=lambda c: len(c.concepts & topic))  # first of the best


def _opposite(a: str | None, b: str | None) -> bool:
    """Whether two bounds (`bound_of`) point opposite ways. A lead time is a minimum of notice
    that either side of its threshold restates ("more than 48 hours before", "less than 48
    hours before"): only a maximum that counts no lead ("at most 5 days after") opposes it."""
    if a is None or b is None or a == b:
        return False
    if "lead" in (a, b):
        return {a, b} == {"lead", "max"}
    return True


def _contradicted(q: Quantity, span: Span, index: PolicyIndex, clause: Clause) -> Finding:
    return policy_finding(
        "policy.contradicted",
        f"The answer states {q.text}, but the policy states a different value.",
        span,
        index,
        "the policy clause on the same subject states another value "
        "(units compared: days are not business days)",
        clause,
    )


#: Specific words a clause must share with the answer's sentence to be read as its subject
#: when the lexicon has no concept for it.
WORDED_ALIKE = 2


@dataclass(frozen=True)
class Words:
    """An answer sentence and its language; its stems (`guardrails.stems`) are computed when a
    check first reads them."""

    text: str
    language: str | None

    @cached_property
    def stems(self) -> frozenset[str]:
        return text_stems(self.text, self.language)


def _worded_alike(q: Quantity, kept: list[Stated], index: PolicyIndex, words: Words) -> bool:
    """Whether a clause stating this very value speaks of the sentence's subject in its words
    more than any clause stating another value ("the meter check costs EUR 45.00" against
    "Meter check: ... otherwise EUR 45.00", when no concept names meters). The converse (a
    clause in the same words stating another value contradicts) was measured and left out:
    shared words such as "business days" or "refund" tie a value to the wrong clause too often
    (policy false positives on the development set 3 -> 19)."""
    table = book_stems(index)
    # A book in another language than the answer is read in the answer's language too
    # (`guardrails.translation`): each translated clause counts for its original clause.
    translated = translated_stems(index, words.language)
    # A translated clause states its units in the answer's words ("días", "horas"): the
    # value's own words tie it to every clause with a value in that unit, so they do not count.
    own = words.stems - text_stems(q.text, words.language) if translated is not None else None

    def shared(s: Stated) -> int:
        n = table.shared(s.clause, words.stems, words.language)
        if translated is not None and own is not None:
            n = max(n, translated.shared(s.clause, s.quantity.value, own))
        return n

    same = [equivalent(q, s.quantity) for s in kept]
    # The clauses stating this very value first (a few of them): unless one shares enough
    # words, the clauses stating other values need not be read at all.
    equal = max((shared(s) for s, e in zip(kept, same, strict=True) if e), default=0)
    if equal < WORDED_ALIKE:
        return False
    return all(shared(s) < equal for s, e in zip(kept, same, strict=True) if not e)


#: Specific words a translated clause must share with the answer's sentence, and how many more
#: than any clause stating the answer's value, to contradict it (3 and 1 more were measured:
#: policy false positives on the development set 3 -> 15).
TRANSLATED_ALIKE = 5
TRANSLATED_MARGIN = 3


def _translated_other(
    q: Quantity, kept: list[Stated], index: PolicyIndex, words: Words
) -> Clause | None:
    """The clause of a book in another language that, translated into the answer's, speaks of
    the sentence's subject in its words far more than any clause stating the answer's value,
    and states another value: the answer contradicts it ("the deposit is EUR 80, refunded
    within 5 days" against "the deposit of EUR 50 is refunded within 5 days of the return")."""
    translated = translated_stems(index, words.language)
    if translated is None:
        return None
    own = words.stems - text_stems(q.text, words.language)
    best: Clause | None = None
    top = equal = 0
    for s in kept:
        n = translated.shared(s.clause, s.quantity.value, own)
        if equivalent(q, s.quantity):
            equal = max(equal, n)
        elif n > top:
            top, best = n, s.clause
    return best if top >= TRANSLATED_ALIKE and top >= equal + TRANSLATED_MARGIN else None


#: What a figure the sentence shares with a clause counts for, against a shared word.
FIGURE_WEIGHT = 2
# A figure of two digits or more (a single digit ties nothing: "1", "2" are everywhere).
_FIGURE = re.compile(r"(?<![\d.,:])\d{2,}(?:[.,]\d+)?(?![\d:])")


def _figures(text: str) -> frozenset[float]:
    """The figures of two digits or more in a text, as numbers."""
    return frozenset(float(m.group(0).replace(",", ".")) for m in _FIGURE.finditer(text))


# A colon or semicolon ends a statement (not the colon of a time, "8:00").
_STATEMENT_BREAK = re.compile(r";|:(?!\d)")

#: Specific words a value's own statement needs to name its subject without the rest of the
#: sentence.
OWN_CLAUSE_WORDS = 3


def _stated_for_subject(
    q: Quantity,
    kept: list[Stated],
    wanted: frozenset[str],
    index: PolicyIndex,
    words: Words,
    country: str | None = None,
) -> bool:
    """Whether the book states this very value (same unit, no opposite bound) for a subject the
    sentence plausibly speaks of, at least as closely as any clause stating another value: then
    the value is the policy's, not a contradiction of it ("le contestaremos en un máximo de 15
    días" against "disputes within 30 days; the team answers within 15 days").

    Closeness is the concepts a stated value's clause shares with the sentence's subject plus
    the specific words it shares with the value's clause in the answer, in the book's language
    or translated into the answer's. A clause on the subject that states another value and is
    closer still decides ("the fraud team reviews locks within 3 business days" against "a
    supervisor review takes 5 business days", for "our fraud team reviews it within 5 business
    days")."""
    if q.upper is not None and any(
        s.quantity.upper is not None and _same(q, s.quantity) for s in kept
    ):
        return True  # the very range the book states ("5 to 10 business days"): no accident
    table = book_stems(index)
    translated = translated_stems(index, words.language)
    unit = text_stems(q.text, words.language)
    # The value's own statement (after the last colon or semicolon before it, to the end of its
    # clause) says what it is of ("puede impugnarlo: el equipo le contestará en 15 días" is the
    # team's answer, not the dispute); a statement of a few words says too little, and the
    # sentence speaks for it.
    _, right = clause_bounds(words.text, q.start, q.end)
    left = max((m.end() for m in _STATEMENT_BREAK.finditer(words.text, 0, q.start)), default=0)
    own = text_stems(words.text[left:right], words.language) - unit
    if len(own) < OWN_CLAUSE_WORDS:
        own = words.stems - unit
    # The sentence's other figures ("pagas 10 meses y usas 12"): a clause stating them too
    # ("10 months' price for 12 months") speaks of the same thing, a figure more surely than a
    # word.
    figures = _figures(words.text[: q.start] + " " + words.text[q.end :]) - {q.value}
    equal = other = 0
    for s in kept:
        n = len(((s.subject or frozenset()) | s.concepts) & wanted)
        n += FIGURE_WEIGHT * len(figures & _figures(s.clause.text))
        shared = table.shared(s.clause, own, words.language)
        if translated is not None:
            shared = max(shared, translated.shared(s.clause, s.quantity.value, own))
        n += shared
        if not equivalent(q, s.quantity):
            other = max(other, n)
        elif country is None or not s.countries or country in s.countries:
            # (a value the clause gives another country is not this customer's)
            equal = max(equal, n)
    return equal >= WORDED_ALIKE and equal >= other


def _quantity_finding(
    q: Quantity,
    local: set[str],
    topic: set[str],
    index: PolicyIndex,
    about_case: bool,
    subject: frozenset[str] = frozenset(),
    bound: str | None = None,
    words: Words | None = None,
    country: str | None = None,
) -> Finding | None:
    if about_case:
        # Amounts and durations of this conversation (a balance, days overdue, how long the
        # outage lasted) are the facts guardrail's to check, not the policy's.
        return None
    # A maximum is not a minimum: "at most 5 days after" is not supported by "at least 5 days
    # before", so a policy value bounded the other way is left out.
    kept = [s for s in book_tables(index).comparable(q) if not _opposite(bound, s.bound)]
    if words is not None and _worded_alike(q, kept, index, words):
        return None
    if words is not None and _stated_for_subject(
        q, kept, subject - index.generic, index, words, country
    ):
        return None
    # (the converse across languages: a translated clause in the sentence's words, far more
    # than any clause with this value, stating another value)
    other = _translated_other(q, kept, index, words) if words is not None else None
    if other is not None:
        return _contradicted(q, Span(start=q.start, end=q.end, text=q.text), index, other)
    scores = [relation_score(s, local, topic) for s in kept]
    candidates = [(n, s.clause, s.quantity) for n, s in zip(scores, kept, strict=True)]
    # The answer's subject (the concepts of the quantity's own clause) against each policy
    # quantity's subject: the rule on the same subject decides, whatever the policy states
    # for other subjects ("grace period of 5 days" is not "5 days before the due date").
    wanted = subject - index.generic
    same_subject = [
        (len(wanted & s.subject), s.clause, s.quantity, n)
        for n, s in zip(scores, kept, strict=True)
        if s.subject is not None and wanted & s.subject
    ]
    # The clauses sharing most of the subject decide: "the security team reviews fraud locks
    # within 3 business days" outweighs "a supervisor review ... within 5 business days" for
    # "our security team reviews such cases within 5 business days".
    closest = max((n for n, _, _, _ in same_subject), default=0)
    if any(equivalent(q, p) for n, _, p, _ in same_subject if n == closest):
        return None
    best = max((s for s, _, _ in candidates), default=-1)
    equal = [(s, c) for s, c, p in candidates if equivalent(q, p)]
    span = Span(start=q.start, end=q.end, text=q.text)
    equal_best = max((s for s, _ in equal), default=-1)
    contra = [
        (score, c)
        for _, c, _, score in same_subject
        if score > max(equal_best, SUBJECT_RELATED - 1)
    ]
    if contra and q.kind != "time":
        top = max(s for s, _ in contra)
        clause = next(c for s, c in contra if s == top)
        return _contradicted(q, span, index, clause)
    if equal and max(s for s, _ in equal) >= min(best, EQUAL_ENOUGH):
        # The policy says the same in a clause about the same subject (or the lexicon cannot
        # tell the subjects apart): supported.
        return None
    if best >= RELATED and q.kind != "time":
        clause = next(c for s, c, _ in candidates if s == best)
        return _contradicted(q, span, index, clause)
    if equal:
        return None  # stated by the policy, if about a subject the lexicon cannot tell
    if (
        q.kind == "count"
        and not candidates
        and any(abs(n - q.value) < 1e-9 for n in book_tables(index).numbers)
    ):
        return None  # "locked 3 times" against "after 3 locks"
    return policy_finding(
        "policy.unsupported",
        f"The answer states {q.text} as policy, but no policy clause supports it.",
        span,
        index,
        "no clause in the policy states this value",
    )


def _benefit_finding(
    concept: str, span: Span, sentence_topic: set[str], index: PolicyIndex
) -> Finding | None:
    granting = [c for c in index.clauses if concept in c.granted]
    subjects = (sentence_topic - index.generic) - BENEFITS

    def relevance(clause: Clause) -> int:
        return len(clause.concepts & subjects)

    forbidding = [c for c in index.clauses if concept in c.forbidden]
    # "free" for plan changes does not make shipping free when the policy rules out free
    # shipping: a grant about another subject yields to a prohibition about this one.
    if (
        granting
        and forbidding
        and max(map(relevance, granting)) == 0
        and max(map(relevance, forbidding)) > 0
    ):
        granting = []
    if concept == "free":
        # "no date-change fees" grants "changing the date is free": a clause that rules out
        # fees, whatever they are charged for, and no benefit ("no discounts or waivers")
        granting += [
            c
            for c in index.clauses
            if "fee" in c.forbidden and not (c.forbidden - {"fee"}) & BENEFITS
        ]
    if granting:
        return None
    label = concept.replace("_", " ")
    if forbidding:
        clause = _best_clause(forbidding, sentence_topic)
        assert clause is not None
        return policy_finding(
            "policy.contradicted",
            f"The answer offers {label} ('{span.text}'), which the policy rules out.",
            span,
            index,
            "the policy forbids or excludes this",
            clause,
        )
    return policy_finding(
        "policy.unsupported",
        f"The answer offers {label} ('{span.text}'), which no policy clause grants.",
        span,
        index,
        "no clause in the policy grants this",
    )


# Words that make a quantity about this conversation rather than a rule: "7 days ago",
# "6 days left", "lasted 5 hours", "130 days overdue".
_CASE_CUE = re.compile(
    r"(?<!\w)(ago|hace|ha|left|remaining|remain|quedan|queda|restan|resta|faltan|falta|faltam|"
    r"restam|lasted|lasting|duro|durou|dura|lleva|llevamos|leva|levamos|overdue|vencid\w*|"
    r"atrasad\w*|since|desde|already|ya|ja|has been|have been|hasta ahora|so far|ate agora|"
    r"past|pasados|passados|was|were|fue|foi|fueron|foram|pasado|pasaron|"
    r"passado|passaram|transcurri\w*|elapsed)(?!\w)"
)
# Spanish preterite (dejó, duró, afectó) and Portuguese preterite (deixou, durou, caiu): the
# inflection carries the past, which no separate word marks. English marks it with was/were.
_PAST_TENSE = re.compile(r"(?<!\w)(?:\w{2,}ó|\w{3,}(?:ou|iu))(?!\w)", re.IGNORECASE)
# English marks a regular simple past with -ed right after its subject (a pronoun or a
# determiner and its noun), anywhere in the value's statement: "we informed customers by email
# and in the app within 24 hours", "your parcel arrived 2 days late" (a participle after "is"
# or "are" stays a rule: "refunds are processed in 5 days").
_PAST_EN = re.compile(
    r"(?<![\w'])(?:we|i|they|it|he|she|(?:your|the|this|that|his|her|our|their)\s+\w+)\s+"
    r"(?:\w+ly\s+)?\w{3,}ed(?!\w)",
    re.IGNORECASE,
)
# The perfect tenses tell of an event too: "que haya tenido que contactarnos tres veces", "you
# have called 3 times", "já tem ligado 2 vezes".
_PERFECT = re.compile(
    r"(?<!\w)(?:ha|has|han|haya|hayas|hayan|hemos|he|habia|habian|have|has|had|'ve|tem|temos|"
    r"tinha|tenho)\s+(?:\w+\s+)?\w+(?:ado|ido|ed|ada|ida|to|cho)(?!\w)"
)
# Present-tense words with the same endings: "estou", "vou", "sou", "dou".
_PAST_EXCEPTIONS = re.compile(r"(?<!\w)(?:estou|vou|sou|dou)(?!\w)")
# Right after a quantity, "since"/"desde" anchors the window it states ("30 days from delivery").
_ANCHOR = re.compile(r"^\s*(?:since|desde)(?!\w)", re.IGNORECASE)


# Words that present the value right after them as a rule, not as this conversation's figure:
# a reference to the policy, or a minimum the customer must meet.
_RULE_FRAME = re.compile(
    r"(?<!\w)(?:(?:our|the) (?:policy|rules?) (?:requires?|says|states|is)|as (?:our|the) "
    r"(?:policy|rules?) (?:requires?|says|states)|(?:nuestra|la) (?:politica|norma|regla) "
    r"(?:exige|establece|dice|indica|requiere)|(?:nossa|a) (?:politica|regra|norma) "
    r"(?:exige|estabelece|diz|indica|requer)|at least|al menos|como minimo|por lo menos|"
    r"pelo menos|no minimo|"
    # a permission bounded by the value: "se puede pedir hasta 48 horas antes", "can be
    # requested up to 2 days before", "pode ser pedido até 2 dias antes"
    r"(?:se puede|se pueden|can be|pode ser|podem ser)\s+(?:\w+\s+){0,2}(?:hasta|up to|ate))"
    r"(?!\w)[^.;]{0,30}$"
)


def _minimum_finding(
    q: Quantity, frame: str, topic: set[str], index: PolicyIndex
) -> Finding | None:
    """A minimum stated as a rule ("at least 2 days' notice") against the policy's minimums
    on the same subject: a different value contradicts them."""
    if MINIMUM_BEFORE.search(frame) is None:
        return None
    minimums = [
        (s.clause, s.quantity)
        for s in book_tables(index).comparable(q)
        if s.minimum and s.concepts & topic
    ]
    if not minimums or any(equivalent(q, p) for _, p in minimums):
        return None
    return policy_finding(
        "policy.contradicted",
        f"The answer states a minimum of {q.text}, but the policy states another minimum.",
        Span(start=q.start, end=q.end, text=q.text),
        index,
        "the policy clause on the same subject states another minimum",
        minimums[0][0],
    )


# What an account owes, right before an amount: "the overdue balance is", "a total of",
# "totalling", "el saldo pendiente es de", "deve", "dívida de".
_ACCOUNT_OWES = re.compile(
    r"(?<!\w)(?:balance|owed?|owes|outstanding|debt|total|totalling|totaling|saldo|deuda|"
    r"debe|debes|adeuda|adeudo|divida|deve|em aberto)(?!\w)(?:\s+[\w,]+){0,3}\s+$"
)
#: Characters before an amount within which what the account owes is named.
ACCOUNT_RADIUS = 40


def _account_figure(text: str, q: Quantity, found: list[Mention]) -> bool:
    """Whether an amount is what an account owes ("his overdue balance is EUR 84.00"), with no
    fee or price named between the word and the amount ("the total fee is EUR 30" is a fee)."""
    before = fold(text[max(0, q.start - ACCOUNT_RADIUS) : q.start])
    owes = _ACCOUNT_OWES.search(before)
    if owes is None:
        return False
    start = q.start - len(before) + owes.start()
    return not any(m.concept in ("fee", "price") and start <= m.start < q.start for m in found)


# A semicolon or colon separates statements: a case cue beyond it is about another one.
_STRONG_BREAK = re.compile(r"[;:]")


# The assistant speaking of its own action, not of a rule.
_FIRST_PERSON = re.compile(
    r"(?<!\w)(i|i'll|i'm|i am|i will|i can|let me|voy a|yo|puedo|presento|envio|transfiero|"
    r"derivo|escalo|abro|registro|le paso|te paso|traslado|reviso|gestiono|tramito|solicito|"
    r"elevo|remito|comunico|confirmo|vou|posso|eu|encaminho|transfiro|repasso|verifico|"
    r"queremos|quiero|we want to|we'd like to|we would like to|queremos|gostariamos de)(?!\w)"
)
_FEE_KEY = re.compile(r"fee|charge|penalt|cargo|comision|multa|taxa")


def _rate_findings(
    text: str,
    offset: int,
    topic: set[str],
    index: PolicyIndex,
    said: frozenset[tuple[float, str]] | set[tuple[float, str]],
) -> list[Finding]:
    """A rate the policy states differently for the same subject: `policy.contradicted`. A rate
    the policy never states per that period is left alone (nothing to compare it with)."""
    out = []
    for rate in rates(text):
        if (rate.count, rate.period) in said:
            continue  # the customer's own count ("they call me 4 times a day")
        related = [
            (c, r)
            for c, stated in book_tables(index).rates
            if index.related(c, topic)
            for r in stated
            if r.period == rate.period
        ]
        if not related or any(r.count == rate.count for _, r in related):
            continue
        span = Span(
            start=offset + rate.start, end=offset + rate.end, text=text[rate.start : rate.end]
        )
        out.append(
            policy_finding(
                "policy.contradicted",
                f"The answer states '{span.text}', but the policy states another rate.",
                span,
                index,
                f"the policy clause on the same subject states another number per {rate.period}",
                related[0][0],
            )
        )
    return out


def _country(language: str | None) -> str | None:
    """The customer's country from the case's BCP-47 tag (es-MX -> MX), if it names one (only
    a country the policy book's packs name can match a clause)."""
    parts = (language or "").split("-")
    region = parts[1].upper() if len(parts) > 1 else None
    return region if region is not None and len(region) == 2 and region.isalpha() else None


def _same(q: Quantity, p: Quantity) -> bool:
    """The same value; a range only as the same range ("4 to 9 days" is not "4 to 12 days",
    though it lies inside it)."""
    if q.upper is not None and p.upper is not None:
        return p.same_unit(q) and q.value == p.value and q.upper == p.upper
    return equivalent(q, p)


def _stated_for_country(q: Quantity, country: str, topic: set[str], index: PolicyIndex) -> bool:
    """Whether a clause on this topic states this very value for the customer's country."""
    # (`_same` implies comparable: only those of the policy's quantities can be the same.)
    return any(
        country in s.countries and s.concepts & topic and _same(q, s.quantity)
        for s in book_tables(index).comparable(q)
    )


def _regional_finding(
    q: Quantity, country: str, topic: set[str], index: PolicyIndex
) -> Finding | None:
    """A value the policy states for another country, in a clause that states a different value
    for the customer's country ("10 days in Chile"): `policy.contradicted`."""
    if q.kind == "time":
        return None
    for clause, assigned in book_tables(index).countries:
        if not index.related(clause, topic):
            continue
        comparable = [
            (p, c)
            for p, c in zip(clause.quantities, assigned, strict=True)
            if comparable_units(q, p)
        ]
        own = [p for p, c in comparable if country in c]
        if not own or any(_same(q, p) for p in own):
            continue
        # A range from a per-country table of ranges must be the customer's country's range.
        table_of_ranges = q.upper is not None and all(p.upper is not None for p, _ in comparable)
        if table_of_ranges or any(equivalent(q, p) for p, c in comparable if country not in c):
            return policy_finding(
                "policy.contradicted",
                f"The answer states {q.text}, but the policy states "
                f"{own[0].text} for this customer's country.",
                Span(start=q.start, end=q.end, text=q.text),
                index,
                "the value belongs to another country in the policy clause",
                clause,
            )
    return None


def _tier_finding(
    q: Quantity,
    duration: float | None,
    topic: set[str],
    index: PolicyIndex,
    stated_hours: frozenset[float] | set[float] = frozenset(),
) -> Finding | None:
    """A tier value the case does not reach ("25% for 24 hours or more" for a 7-hour outage):
    the case's own duration (its only duration fact) selects the tier the policy grants. A
    sentence that names the tier's own threshold restates the rule ("if it reaches 72 hours,
    the credit becomes 50%")."""
    if duration is None or q.unit != "percent":
        return None
    for clause, stated in book_tables(index).tiers:
        if len(stated) < 2 and not any(t.value == q.value for t in stated):
            continue
        if not any(t.value == q.value for t in stated):
            continue
        if topic and not index.related(clause, topic):
            continue
        reached = [t for t in stated if t.threshold <= duration]
        earned = max(reached, key=lambda t: t.threshold) if reached else None
        if earned is not None and earned.value == q.value:
            return None
        if any(t.value == q.value and t.threshold in stated_hours for t in stated):
            return None
        return policy_finding(
            "policy.contradicted",
            f"The answer states {q.text}, but the policy grants "
            + (f"{earned.value:g}%" if earned else "nothing")
            + " for this case's duration.",
            Span(start=q.start, end=q.end, text=q.text),
            index,
            "the policy's tier for this case's duration is another value",
            clause,
        )
    return None


def _case_duration(facts: tuple[tuple[str, Quantity], ...]) -> float | None:
    """The case's duration in hours, when its facts state exactly one."""
    values = {f.value * HOURS_PER_UNIT[f.unit] for _, f in facts if f.unit in HOURS_PER_UNIT}
    return values.pop() if len(values) == 1 else None


def _clock_range_stated(q: Quantity, index: PolicyIndex) -> bool:
    """Whether a range of hours ("de lunes a sábado 9-18 h") is a span of the clock that the
    policy states with times ("9:00 to 18:00"): both ends are times of the policy."""
    if q.unit != "hour" or q.upper is None or not 0 <= q.value < q.upper <= 24:
        return False
    times = {s.quantity.value for s in book_tables(index).by_unit.get("time", ())}
    return q.value in times and q.upper in times


# "available 24 hours", "disponible 24 horas", "24 horas al día", "open all day and night": a
# service open round the clock, not a time limit of 24 hours.
_AVAILABLE_BEFORE = re.compile(
    r"(?<!\w)(?:available|open|staffed|disponible|disponibles|abierto|abierta|atiende|atendemos|"
    r"disponivel|disponiveis|aberto|aberta|atende|atendemos)\s+(?:(?:las|as|the)\s+)?$"
)
_A_DAY_AFTER = re.compile(r"^\s*(?:a day|per day|al dia|por dia|ao dia|diarias|por dia)(?!\w)")


# A policy's label with its hours: "Claims line, 24 hours: ...".
_LABEL_BEFORE = re.compile(r"(?:\w[,:]|\()\s*$")
# A service's hours in brackets after its name or number, or set off by commas after its
# number: "call 900 100 200 (24 hours)", "ligue para 0800 591 2000, 24 horas, que...".
_BRACKETED = re.compile(r"\w\s*\(\s*$")
_BRACKET_CLOSE = re.compile(r"^\s*\)")
_AFTER_NUMBER = re.compile(r"\d\s*,\s*$")
_ASIDE_CLOSE = re.compile(r"^\s*[,;.)]")


def _round_the_clock(text: str, q: Quantity, labels: bool = False) -> bool:
    """Whether 24 hours at `q` says that a service is open round the clock (with `labels`, as a
    label's attribute too: "Claims line, 24 hours")."""
    if q.unit != "hour" or q.value != 24 or q.upper is not None:
        return False
    before = fold(text[max(0, q.start - 30) : q.start])
    return bool(
        _AVAILABLE_BEFORE.search(before)
        or _A_DAY_AFTER.match(fold(text[q.end :]))
        or (labels and _LABEL_BEFORE.search(before))
        or (_BRACKETED.search(before) and _BRACKET_CLOSE.match(text[q.end :]))
        or (_AFTER_NUMBER.search(before) and _ASIDE_CLOSE.match(text[q.end :]))
    )


# A preposition with the article of a clock time: "a las 14 h", "hasta las 16 horas", "desde
# la 1 h", "até às 14h" ("las 24 horas del día", "en las 12 horas siguientes" and "dentro das
# 12 horas" are spans of time, not the clock). Matched unfolded: "às" is not "as".
_CLOCK_ARTICLE = re.compile(
    r"(?<!\w)(?:(?:a|hasta|desde|antes de|despu[eé]s de|pasadas)\s+las?|às|até as|até à|"
    r"após as|antes das|depois das)\s+$",
    re.IGNORECASE,
)


def _clock_time(text: str, q: Quantity) -> Quantity:
    """A number of hours written as a time of day ("hasta las 14 h" is 14:00, not a 14-hour
    window): the article before it marks the hour of the clock, compared with the policy's
    times."""
    if q.unit != "hour" or q.upper is not None or not 0 <= q.value < 24:
        return q
    if not _CLOCK_ARTICLE.search(text[max(0, q.start - 14) : q.start]):
        return q
    return replace(q, unit="time")


def _all_day(index: PolicyIndex) -> list[Clause]:
    """The policy's clauses that keep a service open round the clock (24 hours, 24/7)."""
    tables = book_tables(index)
    return [s.clause for s in tables.by_unit.get("allday", ())] + [
        s.clause for s in tables.durations if _round_the_clock(s.clause.text, s.quantity, True)
    ]


_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def _phones(text: str) -> set[str]:
    """The digits of each phone number in a text."""
    return {re.sub(r"\D", "", m.group(0)) for m in _PHONE.finditer(text)}


#: Characters before "24 hours" within which the answer names the service that is open.
SERVICE_NAME_RADIUS = 40


def _schedule_finding(
    q: Quantity, topic: set[str], index: PolicyIndex, text: str = "", words: Words | None = None
) -> Finding | None:
    """A service said to be open round the clock where the policy's clause on it states clock
    hours ("chat with an agent, 9:00 to 21:00") and no clause on it says 24 hours."""
    timed = book_tables(index).by_unit.get("time", ())
    about = [s.clause for s in timed if index.related(s.clause, topic)]
    if not about:
        return None
    table = book_stems(index)
    translated = None if words is None else translated_stems(index, words.language)
    # the words right before the value name the service ("la recepción, abierta 24 horas,
    # le llama un taxi" names "Front desk: 24 hours"), in the book's words or translated
    named = text[max(0, q.start - SERVICE_NAME_RADIUS) : q.start]
    own = None if words is None else Words(named, words.language).stems

    def score(clause: Clause) -> tuple[int, int]:
        # the service's name first, then the concepts of the whole sentence
        shared = 0
        if own is not None and words is not None:
            shared = table.shared(clause, own, words.language)
            if translated is not None:
                shared = max(shared, translated.shared(clause, 24, own))
        return shared, len((clause.concepts & topic) - index.generic)

    clause = max(about, key=score)  # the first of the closest
    # A service the policy keeps open all day that is as close to the sentence, or whose
    # number the sentence gives, decides for it.
    phones = _phones(text)
    if any(score(c) >= score(clause) or phones & _phones(c.text) for c in _all_day(index)):
        return None
    return _contradicted(q, Span(start=q.start, end=q.end, text=q.text), index, clause)


def _states_round_the_clock(index: PolicyIndex) -> bool:
    """Whether the policy keeps any service open round the clock."""
    return bool(_all_day(index))


def _compound_tail(text: str, start: int, end: int) -> bool:
    """Whether a phrase of several words begins with the tail of a hyphenated compound: in
    "4 interest-free monthly payments" the words "free monthly" are no "free month", "free"
    belongs to "interest" and the compound to "payments"."""
    return start > 0 and text[start - 1] == "-" and " " in text[start:end].strip()


# Information as the object right after a word: "la información", "more details", "os
# detalhes".
_INFORMATION_AFTER = re.compile(
    r"^\s+(?:(?:la|el|los|las|a|o|os|as|the|more|mas|mais|any|further|these|this)\s+)?"
    r"(?:informacion|information|info|detalles|details|detalhes|informacao|informacoes|"
    r"explicacion|explanation|explicacao)(?!\w)"
)
#: Characters after a word within which its object is read.
INFORMATION_RADIUS = 30


def _is_heading(text: str) -> bool:
    stripped = text.strip().lstrip("#*").strip()
    return len(stripped.split()) <= 4 and not stripped.endswith((".", "!", "?", ":", ";"))


def _window(text: str, q: Quantity, radius: int = 40) -> str:
    return text[max(0, q.start - radius) : q.end + radius]


@per_object()
def _said_rates(case: Case, ground: CaseGround) -> frozenset[tuple[float, str]]:
    """The rates the customer or the case facts state ("they call me 4 times a day"), once per
    case."""
    return frozenset(
        (r.count, r.period)
        for part in [*(m.content for m in case.messages), *map(str, case.facts.values())]
        for r in rates(part)
    )


def check_policy(case: Case, text: str, book: PolicyBook) -> list[Finding]:
    index = index_policy(book)
    ground = case_ground(case)
    fact_units = {f.unit for _, f in ground.facts}
    # A fee of this conversation (an early-termination total) is the case's own amount.
    fee_facts = [key for key, f in ground.facts if f.unit == "money" and _FEE_KEY.search(key)]
    findings: list[Finding] = []
    company = (book.name, book.id)
    country = _country(case.language)
    duration = _case_duration(ground.facts)
    said_rates = _said_rates(case, ground)
    fact_amounts = [f for _, f in ground.facts if f.unit == "money"]
    for sent in analyse(text, case.language).sentences:
        bases = fact_amounts + [m for m in sent.quantities if m.unit == "money"]
        words = Words(sent.text, case.language)
        found = outside_quantities(list(sent.mentions), sent.quantities)
        if _is_heading(sent.text):
            # "Fee waiver" over a paragraph names a subject; it offers nothing.
            found = [m for m in found if m.concept not in BENEFITS]
        topic = {m.concept for m in found}
        for q in map(partial(_clock_time, sent.text), sent.quantities):
            # A benefit's value the customer only claims ("you offered me 15%") is not the
            # case's: granting it is a policy statement like any other.
            claimed_benefit = (
                q.unit in ("percent", "money")
                and not ground.established(q)
                and any(
                    m.concept in BENEFITS and not m.negated
                    for m in near_mentions(found, q.start, q.end, 30)
                )
            )
            if ground.grounds(q) and not claimed_benefit:
                # The case's own value, unless the answer states it as the rule ("as our
                # policy requires: within 48 hours", "at least 2 days' notice"): then the
                # policy's value on that subject must be the same.
                frame = _RULE_FRAME.search(fold(sent.text[max(0, q.start - 60) : q.start]))
                if frame is not None:
                    local = near(found, q.start, q.end)
                    subj = subject(sent.text, found, q.start, q.end)
                    finding = _quantity_finding(q, local, topic, index, False, subj)
                    if finding is None or finding.code != "policy.contradicted":
                        finding = _minimum_finding(q, frame.group(0), topic, index)
                    if finding is not None and finding.code == "policy.contradicted":
                        findings.append(_shift(finding, sent.start))
                continue
            if q.unit in ("immediate", "allday") and (
                no_immediacy(sent.folded, q, case.language)
                or _FIRST_PERSON.search(fold(sent.text[max(0, q.start - 80) : q.end + 20]))
                or (
                    q.unit == "immediate"
                    and {"agent", "calls"} & near(found, q.start, q.end)
                    and "callback" not in topic
                )
            ):
                # "le paso hoy mismo su solicitud", "to reach a person right away, call...":
                # the assistant's own action or a way to reach someone, not a rule.
                continue
            local = near(found, q.start, q.end)
            if q.unit == "money":
                # Amounts of this conversation belong to the facts guardrail; a fee or price
                # stated next to the amount must come from the policy unless the case has its
                # own fee figures.
                # A fee figure of the case covers the fees its name speaks of: the router
                # fact ("router_fee_if_not_returned") does not make "un cargo administrativo
                # de ARS 15000.00" this conversation's.
                case_fees = _fee_fact_about(fee_facts, sent.text, q)
                about_case = "money" in fact_units and (
                    case_fees or not (near(found, q.start, q.end, 25) & {"fee", "price"})
                )
                # "his overdue balance is EUR 84.00", "a total of MXN 1,240.00": what an
                # account owes is a figure of the account, fact or not, never a rule
                about_case = about_case or _account_figure(sent.text, q, found)
            else:
                # "Waivers are once every 6 months, since your last one was 4 months ago":
                # a cue of this conversation marks only the quantities of its own clause.
                # The cue must be in the quantity's own clause: in "delivered 42 days ago and
                # our return window is 45 days" the 45 days are a rule, not this order's age;
                # in "waivers are once every 6 months, and since your last one was 4 months
                # ago" the 6 months are. "45 days since delivery" anchors a window: "since"
                # right after the value marks nothing.
                left, right = clause_bounds(sent.text, q.start, q.end)
                before = sent.text[max(left, q.start - 40) : q.start]
                after = _ANCHOR.sub(" ", sent.text[q.end : min(right, q.end + 40)], count=1)
                clause = f"{before} {after}"
                # A verb in the past tense before it tells of an event ("la avería dejó sin
                # fibra la zona durante 3 horas").
                own = sent.text[left : q.start]
                past = bool(_PAST_TENSE.search(own)) and not _PAST_EXCEPTIONS.search(fold(own))
                statement = max(
                    (m.end() for m in _STATEMENT_BREAK.finditer(sent.text, 0, q.start)),
                    default=0,
                )
                past = past or bool(_PAST_EN.search(sent.text[statement : q.start]))
                # (a fact in minutes is stated in hours as well: "the outage lasted 1 hour")
                about_case = any(convertible(u, q.unit) for u in fact_units) and (
                    bool(_CASE_CUE.search(fold(clause))) or past
                )
                # "2 overdue installments", "3 payments left": how many of something this
                # customer has, marked by a cue of the case, is the account's, fact or not
                about_case = about_case or (
                    q.unit.startswith("count:") and bool(_CASE_CUE.search(fold(clause + q.text)))
                )
                # "tu compra tiene solo 20 días", "the 1-hour outage": a value stated of a
                # thing a fact of the case names (dias_desde_compra, outage_minutes)
                named = stated_of(ground.facts, sent.text, q, case.company)
                about_case = about_case or named is not None
                # How many times something happened in this conversation is no rule, fact or
                # not: "lamento que haya tenido que contactarnos tres veces".
                if q.unit.startswith("count:") and _PERFECT.search(fold(own)):
                    about_case = True
            subj = subject(sent.text, found, q.start, q.end)
            if stated_age(q, index):
                continue  # "18 years" where the book says "guests must be 18 or older"
            if country is not None and _stated_for_country(q, country, topic, index):
                continue  # "10 days in Chile" to a Chilean customer
            if _clock_range_stated(q, index):
                continue  # "9-18 h" for opening hours of "9:00 to 18:00"
            if q.unit == "money" and _share_of(q, _stated_percents(sent.quantities, index), bases):
                # "50% of your EUR 24.80 subtotal, EUR 12.40": the percentage the policy
                # states, applied to an amount of the case (checked on its own), not a value
                # of its own
                continue
            if _round_the_clock(sent.text, q):
                # "a line available 24 hours" is no 24-hour window: the schedule of what the
                # sentence speaks of decides, else any service the policy keeps open all day
                schedule = _schedule_finding(q, topic, index, sent.text, words)
                if schedule is not None:
                    findings.append(_shift(schedule, sent.start))
                    continue
                if _states_round_the_clock(index):
                    continue
            bound = bound_of(sent.text, q.start, q.end)
            finding = None
            if (not about_case or claimed_benefit) and q.unit in ("percent", "money"):
                # "le confirmo el descuento del 15%" where the policy grants discounts of 3, 5
                # or 8%: the value of a benefit must be one the policy grants it with
                finding = _benefit_value_finding(q, found, index)
            if finding is None:
                finding = _quantity_finding(
                    q, local, topic, index, about_case, subj, bound, words, country
                )
            if finding is None and not about_case:
                # a value the book gives another subject (`guardrails.subject_values`)
                finding = subject_value_finding(q, sent.text, index, case.language)
            # (a price list's price, not a fee this case computes: "the penalty is BRL 200.00")
            priced = near(found, q.start, q.end, 25) & {"price"}
            if finding is None and q.unit == "money" and about_case and case_fees and priced:
                # A price the case has its own figure for, stated differently: the price list
                # in the policy decides as well ("Mobile 20 GB costs EUR 15.00").
                finding = _quantity_finding(q, local, topic, index, False, subj, bound)
                if finding is not None and finding.code != "policy.contradicted":
                    finding = None
            if finding is None and not about_case:
                hours = {
                    d.value * HOURS_PER_UNIT[d.unit]
                    for d in sent.quantities
                    if d.unit in HOURS_PER_UNIT
                }
                finding = _tier_finding(q, duration, topic, index, hours)
            if finding is None and not about_case and country is not None:
                finding = _regional_finding(q, country, topic, index)
            if finding is not None:
                findings.append(_shift(finding, sent.start))
        seen: set[str] = set()
        for mention in found:
            concept, start, end = mention.concept, mention.start, mention.end
            # "we cannot offer compensation" offers nothing
            if concept not in BENEFITS or concept in seen or mention.negated:
                continue
            if (
                _compound_tail(sent.text, start, end)
                or _INFORMATION_AFTER.match(fold(sent.text[end : end + INFORMATION_RADIUS]))
                or requested_benefit(sent.folded, start, case.language)
            ):
                # (a benefit's word whose object is information gives none: "puede ampliarle
                # la información", "extend the details"), nor one that a request asks for
                # ("claims for compensation are reviewed by our insurer")
                continue
            seen.add(concept)
            span = Span(
                start=sent.start + start,
                end=sent.start + end,
                text=text[sent.start + start : sent.start + end],
            )
            finding = _benefit_finding(concept, span, topic, index)
            if finding is not None:
                findings.append(finding)
        cost = _OTHERS_COST.search(sent.folded)
        if (
            cost is not None
            and "compensation" not in seen
            and refund_promised(sent.text, case.language)
        ):
            # "le reembolsaremos los EUR 15.00 de descubierto que le cobró su banco": paying
            # back what someone else charged is compensation, whatever the verb says
            span = Span(
                start=sent.start + cost.start(),
                end=sent.start + cost.end(),
                text=text[sent.start + cost.start() : sent.start + cost.end()],
            )
            finding = _benefit_finding("compensation", span, topic, index)
            if finding is not None:
                findings.append(finding)
        removal = _removed_charge(sent.folded, found, case.language)
        if removal is not None and "waiver" not in seen:
            # "I've removed the GBP 4.50 charge", "le he quitado el cargo": taking a charge off
            # the customer's account waives it, whatever the verb says
            span = Span(
                start=sent.start + removal[0],
                end=sent.start + removal[1],
                text=text[sent.start + removal[0] : sent.start + removal[1]],
            )
            finding = _benefit_finding("waiver", span, topic, index)
            if finding is not None:
                findings.append(finding)
        findings.extend(_rate_findings(sent.text, sent.start, topic, index, said_rates))
        findings.extend(schedule_findings(sent.text, sent.start, case.language, index))
        findings.extend(outcome_findings(sent.text, sent.start, found, case.language, index))
        findings.extend(date_findings(sent.text, sent.start, found, case.language, index, case))
        findings.extend(faster_findings(sent.text, sent.start, found, case.language, index, ground))
        # Statements without a number: automatic behaviour, grants, refunds, company rules.
        findings.extend(claim_findings(sent.text, sent.start, found, case.language, index, company))
        # An action the book forbids, committed to (`guardrails.prohibitions`).
        findings.extend(
            _shift(f, sent.start) for f in prohibition_findings(sent, index, case.language)
        )
    return findings


# The assistant having taken a charge off (a done deed, in the first person): "I've removed",
# "we have written off", "le he quitado", "hemos anulado", "retirei", "removemos". Cancelling or
# reversing a charge is left out: a duplicate charge is cancelled or reversed by rule.
_REMOVED = re.compile(
    r"(?<![\w'])(?:(?:i've|we've|i have|we have)\s+(?:\w+\s+)?(?:removed|deleted|dropped|"
    r"written off|taken off|wiped)|(?:(?:le|te|les|se lo|se la)\s+)?(?:he|hemos)\s+"
    r"(?:quitado|eliminado|anulado|retirado|borrado)|(?:retirei|removi|eliminei|anulei|tirei|"
    r"retiramos|removemos|eliminamos|anulamos|tiramos))(?![\w'])"
)
#: Characters after the verb within which the charge it removes is named.
REMOVED_OBJECT_RADIUS = 40


def _removed_charge(
    folded: str, found: list[Mention], language: str | None
) -> tuple[int, int] | None:
    """Where the assistant says it took a charge off ("I've removed the GBP 4.50 charge"): the
    verb's span, when a fee is named right after it and nothing negates it."""
    for verb in _REMOVED.finditer(folded):
        if negated_before(folded, verb.start(), language, 3):
            continue
        if any(
            m.concept == "fee"
            and not m.negated
            and verb.end() <= m.start
            and m.start - verb.end() <= REMOVED_OBJECT_RADIUS
            for m in found
        ):
            return verb.start(), verb.end()
    return None


# A cost someone else charged the customer: their bank's overdraft or fee.
_OTHERS_COST = re.compile(
    r"(?<!\w)(?:overdraft\w*|descubierto|sobregiro|cheque especial|bank(?:'s)? (?:fee|charge)s?|"
    r"(?:comision|comisiones|cargo|cargos|intereses) (?:de|del) (?:su|tu) banco|"
    r"(?:le|te) cobro (?:su|tu|el) banco|"
    r"(?:taxa|taxas|tarifa|tarifas|juros) (?:do|de) (?:seu )?banco|"
    r"(?:o )?(?:seu )?banco (?:lhe |te )?cobrou|your bank charged|charged by your bank)(?!\w)"
)


#: Words of a fact's name that say nothing of which fee it is.
_FEE_NAME_NOISE = frozenset(
    {"amount", "total", "charge", "charged", "current", "applies", "monthly", "value"}
)


def _fee_fact_about(keys: list[str], text: str, q: Quantity) -> bool:
    """Whether a fee fact of the case may be what the amount at `q` is: one whose name has no
    telling word (late_fee), one whose telling words or concepts (router, termination) are
    near it, or any when nothing near it names another subject."""
    if not keys:
        return False
    around = text[max(0, q.start - 80) : q.end + 80]
    window = fold(around)
    said: set[str] | None = None
    for key in keys:
        words = fold(key).split("_")
        telling = [w for w in words if len(w) >= 5 and w not in _FEE_NAME_NOISE]
        if not telling or any(w[:5] in window for w in telling):
            return True
        # across languages, by concept: "early_termination_fee" and "baja anticipada"; and a
        # fee named by nothing the fact is not about ("la penalización es de EUR 50.00")
        named = concepts(" ".join(words)) - {"fee", "price"}
        if said is None:
            said = concepts(around) - {"fee", "price"}
        if named & said or not said - named:
            return True
    return False


def _share_of(q: Quantity, percents: list[Quantity], bases: list[Quantity]) -> bool:
    """Whether an amount is one of the policy's percentages of an amount of the case or the
    sentence ("50% of your EUR 24.80 subtotal, EUR 12.40"): computed from the rule, not a value
    of its own."""
    return any(
        b.value > 0 and abs(p.value / 100 * b.value - q.value) < MONEY_ROUNDING and b.same_unit(q)
        for p in percents
        for b in bases
    )


def _stated_percents(found: tuple[Quantity, ...], index: PolicyIndex) -> list[Quantity]:
    """The percentages of a sentence that the policy states."""
    stated = book_tables(index).by_unit.get("percent", ())
    return [
        q for q in found if q.unit == "percent" and any(equivalent(q, s.quantity) for s in stated)
    ]


#: How far a computed amount may be from its exact share (rounding to the cent).
MONEY_ROUNDING = 0.011


def _benefit_value_finding(q: Quantity, found: list[Mention], index: PolicyIndex) -> Finding | None:
    """A percentage or amount right next to an affirmed benefit (a discount, a credit) that no
    clause granting that benefit states, when such clauses state values of that unit."""
    for mention in near_mentions(found, q.start, q.end, 20):
        if mention.concept not in BENEFITS or mention.negated:
            continue
        granting = [
            c
            for c in index.clauses
            if mention.concept in c.granted and any(p.same_unit(q) for p in c.quantities)
        ]
        if not granting:
            continue
        if any(equivalent(q, p) for c in granting for p in c.quantities):
            return None
        return policy_finding(
            "policy.contradicted",
            f"The answer gives {mention.concept.replace('_', ' ')} of {q.text}, but the "
            "policy grants it only with other values.",
            Span(start=q.start, end=q.end, text=q.text),
            index,
            "the policy clause that grants this benefit states its values",
            granting[0],
        )
    return None


def _shift(finding: Finding, offset: int) -> Finding:
    span = finding.evidence.span
    if span is None or offset == 0:
        return finding
    moved = Span(start=span.start + offset, end=span.end + offset, text=span.text)
    return finding.model_copy(
        update={"evidence": finding.evidence.model_copy(update={"span": moved})}
    )


@register(GUARDRAIL)
def policy_guardrail(context: GuardrailContext) -> Check:
    def check(case: Case, text: str) -> list[Finding]:
        book = context.policies.get(case.company)
        if book is None:
            # Without the policy nothing can be grounded; never let that look like a pass.
            raise LookupError(f"no policy book for company '{case.company}'")
        return check_policy(case, text, book)

    return check
