"""What an answer names as exposed, leaked or affected, item by item: "your phone, email and
passport number were leaked" names three things, one of which (the passport number) a fact
`leaked_fields: [phone, email]` does not list.

The things are read from the subject of the verb ("X, Y and Z were exposed"), split where
they are coordinated; the verb itself is the caller's (a pattern of exposure verbs in en/es/pt).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from guardrails.fact_keys import GENERIC, same_word
from guardrails.grounding import negated_before
from guardrails.text import fold

# Where the subject of a verb can start: a strong break, a contrast, a relative or a
# complement clause ("we confirmed that your phone was exposed").
_SUBJECT_START = re.compile(
    r"[;:.!?()]|(?<!\w)(but|pero|mas|however|though|aunque|embora|porem|that|which|que|"
    r"who|quien|quienes|quem|because|porque|so|since|when|cuando|quando|after|before|then)(?!\w)"
)
# A condition or a question about it: "to check whether your account was affected".
_OPEN_QUESTION = re.compile(
    r"(?<!\w)(if|whether|si|caso|what|which|lo que|cual|check|verify|verificar|comprobar|"
    r"confirmar)(?!\w)"
)
# Portuguese "se" is "if" (Spanish "se" is reflexive: "se filtraron tus datos").
_OPEN_QUESTION_PT = re.compile(r"(?<!\w)(se|caso|o que|qual|quais|verificar|confirmar)(?!\w)")
# The auxiliaries between a subject and its exposure verb.
_AUX_TAIL = re.compile(
    r"(?:(?:^|\s+)(?:was|were|is|are|has|have|had|been|being|got|may|might|have|fue|fueron|ha|han|"
    r"sido|se|quedaron|quedo|estan|estaban|esta|foi|foram|ficaram|ficou|estao|estavam|"
    r"tem|teve|sido|also|tambien|tambem|all|todos|todas|not|no|nao|never|nunca))+\s*$"
)
_COORD = re.compile(
    r",|(?<!\w)(?:and|y|e|or|o|ou|nor|ni|nem|as well as|along with|plus|ademas de)(?![\w-])|&"
)
# Words around a named thing that name none: determiners, possessives, quantifiers.
_FILLER = frozenset(
    {
        "your", "their", "our", "his", "her", "its", "some", "any", "all", "the", "these",
        "those", "this", "tu", "tus", "su", "sus", "seu", "sua", "seus", "suas", "nuestro",
        "nuestros", "nuestras", "nosso", "nossos", "nossa", "nossas", "el", "la", "los", "las",
        "os", "as", "un", "una", "um", "uma", "unos", "unas", "uns", "umas", "algunos",
        "algunas", "alguns", "algumas", "todos", "todas", "also", "only", "solo", "apenas",
    }
)  # fmt: skip
# Words that name data in general, not one thing: "your personal details were exposed".
_GENERAL = re.compile(
    r"^(data|datos|dados|details?|detalles|informa\w*|personal\w*|pessoa\w*|customers?|"
    r"clientes?|users?|usuari\w*|records?|registros?|account\w*|cuentas?|contas?|everything|"
    r"todo|tudo|nothing|nada|something|algo|anything|information)$"
)
# A subject never starts with a preposition or an indefinite pronoun.
_PREPOSITION = re.compile(
    r"^(for|in|on|at|about|of|from|with|to|by|para|por|en|em|no|na|nos|nas|del|de|do|da|dos|"
    r"das|sobre|con|com|a|al|anyone|everyone|alguien|alguem|todos|nobody|nadie|ninguem|we|"
    r"nosotros|nos|i|yo|eu)$"
)
#: A subject longer than this is a clause, not a list of things.
MAX_THING_WORDS = 4


@dataclass(frozen=True)
class Thing:
    """One thing the answer names as exposed, and where (in the folded sentence)."""

    text: str
    start: int
    end: int


def _words(part: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", part) if w not in _FILLER and len(w) >= 3]


def stated_things(
    folded: str, verb: tuple[int, int], language: str | None, denied: bool = False
) -> list[Thing] | None:
    """The things an exposure verb at folded[verb[0]:verb[1]] states as exposed: its subject
    before it ("X and Y were exposed") or, when the verb opens its clause, what follows it
    ("se filtraron X y Y", "foram expostos X e Y"). None when the verb is asked about or
    conditional, or names no list of things. A negated verb ("were not exposed") names none,
    unless `denied` asks for what it denies."""
    verb_start, verb_end = verb
    if not denied and negated_before(folded, verb_start, language, 4):
        return None
    opening = max((m.end() for m in _SUBJECT_START.finditer(folded, 0, verb_start)), default=0)
    before = folded[opening:verb_start]
    lead_in = " ".join(folded[:opening].split()[-2:])
    question = _OPEN_QUESTION_PT if (language or "").startswith("pt") else _OPEN_QUESTION
    if question.search(f"{lead_in} {before}"):
        return None
    aux = _AUX_TAIL.search(before)
    if aux is not None and not before[: aux.start()].strip():
        # the verb opens its clause after its auxiliary ("foram expostos", "se filtraron";
        # "affected customers" is an adjective): what follows it, to the end of the clause
        stop = _SUBJECT_START.search(folded, verb_end)
        return _things(folded, verb_end, stop.start() if stop else len(folded), last=False)
    if aux is None:
        return None  # only a passive with its subject first: "X and Y were exposed"
    subject_end = opening + aux.start()
    first = folded[opening:subject_end].split()[:1]
    if not first or _PREPOSITION.match(first[0]):
        return None  # "for those customers, ...", "en el incidente ..."
    return _things(folded, opening, subject_end, last=True)


def _things(folded: str, start: int, end: int, last: bool) -> list[Thing] | None:
    """The coordinated things of folded[start:end], or None when it is no list of things. With
    `last`, the part next to the verb (the last one) must name something: in "para quem foi
    afetado, ficaram expostos" nothing is the verb's subject."""
    parts = _COORD.split(folded[start:end])
    if not _words(parts[-1 if last else 0]):
        return None
    things: list[Thing] = []
    at = start
    for part in parts:
        words = _words(part)
        if (
            len(words) > MAX_THING_WORDS
            or any(w.endswith(("ly", "mente")) for w in words)
            or _AUX_TAIL.search(part)
            or any(_AUX_TAIL.match(f" {w}") for w in words)
        ):
            return None  # a clause or an adverb, not a list of things
        found = folded.find(part, at)
        at = found + len(part)
        if words and not all(_GENERAL.match(w) or w in GENERIC for w in words):
            lead = len(part) - len(part.lstrip())
            things.append(Thing(part.strip(), found + lead, found + lead + len(part.strip())))
    return things


def is_listed(thing: str, items: Iterable[str]) -> bool:
    """Whether a named thing is one of the listed items (a word of it is a word of one):
    "phone number" is "phone", "emails" is "email"."""
    words = _specific(_words(fold(thing)))
    return any(
        same_word(w, i) for w in words for item in items for i in _specific(_words(fold(item)))
    )


def _specific(words: list[str]) -> list[str]:
    """The words that say which thing ("passport" of "passport number"), or all of them."""
    return [w for w in words if w not in GENERIC] or words
