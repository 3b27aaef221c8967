"""Whether a value of an answer is this conversation's rather than a rule: what an account owes,
a fee the case has its own figure for, a value told in the past tense or with a cue of the case
("7 days ago", "lasted 7 hours"), how many times something happened. Such values are the facts
guardrail's; words that frame a value as the rule ("at least", "our policy requires") make it
the policy's again."""

from __future__ import annotations

import re

from guardrails.fact_keys import convertible, stated_of
from guardrails.grounding import Mention, clause_bounds
from guardrails.lexicon import concepts
from guardrails.policy_wording import STATEMENT_BREAK
from guardrails.text import Quantity, fold

# Words that make a quantity about this conversation rather than a rule: "7 days ago",
# "9 days left", "lasted 7 hours", "75 days overdue".
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
# The perfect tenses tell of an event too: "que haya tenido que escribirnos cuatro veces", "you
# have called 3 times", "já tem ligado 2 vezes".
_PERFECT = re.compile(
    r"(?<!\w)(?:ha|has|han|haya|hayas|hayan|hemos|he|habia|habian|have|has|had|'ve|tem|temos|"
    r"tinha|tenho)\s+(?:\w+\s+)?\w+(?:ado|ido|ed|ada|ida|to|cho)(?!\w)"
)
# Present-tense words with the same endings: "estou", "vou", "sou", "dou".
_PAST_EXCEPTIONS = re.compile(r"(?<!\w)(?:estou|vou|sou|dou)(?!\w)")
# Right after a quantity, "since"/"desde" anchors the window it states ("21 days from pickup").
_ANCHOR = re.compile(r"^\s*(?:since|desde)(?!\w)", re.IGNORECASE)


# Words that present the value right after them as a rule, not as this conversation's figure:
# a reference to the policy, or a minimum the customer must meet.
RULE_FRAME = re.compile(
    r"(?<!\w)(?:(?:our|the) (?:policy|rules?) (?:requires?|says|states|is)|as (?:our|the) "
    r"(?:policy|rules?) (?:requires?|says|states)|(?:nuestra|la) (?:politica|norma|regla) "
    r"(?:exige|establece|dice|indica|requiere)|(?:nossa|a) (?:politica|regra|norma) "
    r"(?:exige|estabelece|diz|indica|requer)|at least|al menos|como minimo|por lo menos|"
    r"pelo menos|no minimo|"
    # a permission bounded by the value: "se puede pedir hasta 72 horas antes", "can be
    # requested up to 2 days before", "pode ser pedido até 2 dias antes"
    r"(?:se puede|se pueden|can be|pode ser|podem ser)\s+(?:\w+\s+){0,2}(?:hasta|up to|ate))"
    r"(?!\w)[^.;]{0,30}$"
)


# What an account owes, right before an amount: "the overdue balance is", "a total of",
# "totalling", "el saldo pendiente es de", "deve", "dívida de".
_ACCOUNT_OWES = re.compile(
    r"(?<!\w)(?:balance|owed?|owes|outstanding|debt|total|totalling|totaling|saldo|deuda|"
    r"debe|debes|adeuda|adeudo|divida|deve|em aberto)(?!\w)(?:\s+[\w,]+){0,3}\s+$"
)
#: Characters before an amount within which what the account owes is named.
ACCOUNT_RADIUS = 40


def account_figure(text: str, q: Quantity, found: list[Mention]) -> bool:
    """Whether an amount is what an account owes ("his overdue balance is EUR 84.00"), with no
    fee or price named between the word and the amount ("the total fee is EUR 30" is a fee)."""
    before = fold(text[max(0, q.start - ACCOUNT_RADIUS) : q.start])
    owes = _ACCOUNT_OWES.search(before)
    if owes is None:
        return False
    start = q.start - len(before) + owes.start()
    return not any(m.concept in ("fee", "price") and start <= m.start < q.start for m in found)


# The assistant speaking of its own action, not of a rule.
FIRST_PERSON = re.compile(
    r"(?<!\w)(i|i'll|i'm|i am|i will|i can|let me|voy a|yo|puedo|presento|envio|transfiero|"
    r"derivo|escalo|abro|registro|le paso|te paso|traslado|reviso|gestiono|tramito|solicito|"
    r"elevo|remito|comunico|confirmo|vou|posso|eu|encaminho|transfiro|repasso|verifico|"
    r"queremos|quiero|we want to|we'd like to|we would like to|queremos|gostariamos de)(?!\w)"
)
FEE_KEY = re.compile(r"fee|charge|penalt|cargo|comision|multa|taxa")


#: Words of a fact's name that say nothing of which fee it is.
_FEE_NAME_NOISE = frozenset(
    {"amount", "total", "charge", "charged", "current", "applies", "monthly", "value"}
)


def fee_fact_about(keys: list[str], text: str, q: Quantity) -> bool:
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
        # fee named by nothing the fact is not about ("la penalización es de EUR 35.00")
        named = concepts(" ".join(words)) - {"fee", "price"}
        if said is None:
            said = concepts(around) - {"fee", "price"}
        if named & said or not said - named:
            return True
    return False


def told_of_case(
    text: str,
    q: Quantity,
    fact_units: set[str],
    facts: tuple[tuple[str, Quantity], ...],
    company: str,
) -> bool:
    """Whether a value other than an amount (`q`, in the sentence `text`) is told of this
    conversation rather than stated as a rule."""
    # "Waivers are once every 6 months, since your last one was 4 months ago":
    # a cue of this conversation marks only the quantities of its own clause.
    # The cue must be in the quantity's own clause: in "delivered 42 days ago and
    # our return window is 45 days" the 45 days are a rule, not this order's age;
    # in "waivers are once every 6 months, and since your last one was 4 months
    # ago" the 6 months are. "45 days since delivery" anchors a window: "since"
    # right after the value marks nothing.
    left, right = clause_bounds(text, q.start, q.end)
    before = text[max(left, q.start - 40) : q.start]
    after = _ANCHOR.sub(" ", text[q.end : min(right, q.end + 40)], count=1)
    clause = f"{before} {after}"
    # A verb in the past tense before it tells of an event ("la avería dejó sin
    # fibra la zona durante 3 horas").
    own = text[left : q.start]
    past = bool(_PAST_TENSE.search(own)) and not _PAST_EXCEPTIONS.search(fold(own))
    statement = max(
        (m.end() for m in STATEMENT_BREAK.finditer(text, 0, q.start)),
        default=0,
    )
    past = past or bool(_PAST_EN.search(text[statement : q.start]))
    # (a fact in minutes is stated in hours as well: "the outage lasted 1 hour")
    about_case = any(convertible(u, q.unit) for u in fact_units) and (
        bool(_CASE_CUE.search(fold(clause))) or past
    )
    # "3 unpaid invoices", "3 payments left": how many of something this
    # customer has, marked by a cue of the case, is the account's, fact or not
    about_case = about_case or (
        q.unit.startswith("count:") and bool(_CASE_CUE.search(fold(clause + q.text)))
    )
    # "tu compra tiene solo 20 días", "the 1-hour outage": a value stated of a
    # thing a fact of the case names (dias_desde_compra, outage_minutes)
    named = stated_of(facts, text, q, company)
    about_case = about_case or named is not None
    # How many times something happened in this conversation is no rule, fact or
    # not: "lamento que haya tenido que escribirnos cuatro veces".
    if q.unit.startswith("count:") and _PERFECT.search(fold(own)):
        about_case = True
    return about_case
