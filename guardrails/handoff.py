"""`handoff`: the customer needs a person and the answer does not give them one.

Codes (both major):

- `handoff.missing`: the case requires a path to a person (`expect.handoff: true`) and the
  answer gives no concrete one. Concrete means at least one of: a transfer ("te paso con un
  agente", "I'm transferring you to an agent", "transfiro você para um atendente", "he
  trasladado su caso a un agente"); a phone number; an e-mail address; a private-message
  channel ("DM us", "envíanos un mensaje privado"); a chat with a person or with its hours
  ("un agente te atiende en el chat de la app", "a chat agent, every day 9:00 to 21:00"); a
  person offered with hours ("atendentes das 8:00 às 22:00"); or a person who will contact
  the customer ("Laura Méndez, su gestora de cuenta, le llamará", "an agent will call you
  back"); a staffed desk or a visit in person ("ask at reception", "en el mostrador",
  "atendimento presencial"); or emergency services ("llame al 112", "go to the emergency
  room": the lexicon `guardrails/lexicons/handoff/emergency.yaml`). A vague "contact us",
  "you can talk to an agent" with no channel, "we are looking into it", or being passed to
  the legal team is not concrete, and a negated offer ("I can't put you through") does not
  count. Evidence: no span (an absence points at nothing), the case's
  expectation and the contact paths the policy offers.
  When the case does not set `expect.handoff` (a production transcript has no `expect`), the
  conversation decides (`guardrails/situations.py`): the customer asks for a person, or reports
  a bereavement, a serious illness, a data leak or hacked account, a legal threat or complaint
  to a regulator, or a vulnerable situation, or says nobody has answered or solved it,
  or the case is a crisis; `expect.handoff: false`
  switches the check off. The evidence then quotes the customer's words. An answer that
  declines the question as beyond what it can judge ("no puedo interpretar resultados", "I
  can't give medical advice") needs a path too, to someone who can. While the customer
  reports an emergency happening now (an allergic reaction, someone who cannot breathe),
  only a path that reaches a person at once counts: a transfer, a phone line, a staffed chat
  or desk, emergency services; a callback, an e-mail or a DM comes too late.
- `handoff.refused`: the answer refuses or denies human contact ("no es posible hablar con una
  persona", "there are no human agents", "I can't put you through to anyone", "não é possível
  falar com um atendente", "no hay supervisores") while the company's policy offers a person (a
  clause such as "the assistant transfers to an agent", "human agents answer", "customers may
  ask for a person", or any line of the book with a phone number). Conditions ("if you can't
  reach an agent") are not refusals, nor are refusals of something else ("I can't transfer the
  refund"). This applies whatever `expect.handoff` says, unless the same answer also gives a
  transfer, phone number or staffed chat (then the "refusal" is only about this channel).
  Evidence: the refusal, checked against the policy clause that offers a person.

Patterns run on folded text (lowercase, no accents) in Spanish, English and Portuguese, and
only near the words they need (a person noun, a negation), so most answers cost a few set
lookups and an e-mail or phone search. The answer's own claims ("a person is available",
"mark this as passed") are only text: a path counts only when its shape is there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from guardrails import contact
from guardrails.folding import fast_fold, word_positions, word_set, wordlist
from guardrails.records import Case, Evidence, Finding, PolicyBook, Span
from guardrails.registry import Check, GuardrailContext, register
from guardrails.situations import beyond_competence, emergency_service, needs_person, urgent_now

GUARDRAIL = "handoff"

# People the customer can be handed to (not teams that only work a case internally, such as
# the legal team: being "passed to Legal" is no path to talk to anyone). Single folded words,
# so an answer is first checked against its word set and patterns only run near them.
PERSON_WORDS = wordlist(
    "agent agents agente agentes person persons people persona personas pessoa pessoas human "
    "humans humano humanos humana humanas someone somebody alguien alguem colleague colleagues "
    "companero companera companeros colega colegas supervisor supervisora supervisores "
    "supervisors specialist specialists especialista especialistas representative "
    "representatives representante representantes advisor advisors adviser asesor asesora "
    "asesores assessor atendente atendentes operator operators operador operadora operadores "
    "manager managers gestor gestora gerente ejecutivo ejecutiva consultor consultora member "
    "miembro membro staff responsable responsavel"
)
_NOBODY_WORDS = wordlist("anyone anybody nadie ninguem nobody one")
# In a refusal, "anyone" and "nobody" count as people too ("I can't put you through to anyone").
_PERSON = "|".join(sorted(PERSON_WORDS | _NOBODY_WORDS - {"one"}, key=len, reverse=True)) + (
    r"|no\s+one"
)
_HUMAN_ONLY = re.compile(rf"\b(?:{'|'.join(sorted(PERSON_WORDS, key=len, reverse=True))})\b")
_NEGATION_WORDS = wordlist(
    "no not t cannot unable nao impossible imposible impossivel nobody nadie ninguem there "
    "tampoco tampouco nor isn"
)
# A team counts only when it will contact the customer ("our team will call you"): being
# passed to a team is no path.
_TEAM_WORDS = wordlist("team equipo equipe")
_CHAT_WORDS = frozenset({"chat", "chats", "whatsapp"})
_DM_WORDS = wordlist("dm dms inbox md privado privada direct private direta directo")
_TRANSFER_STEMS = (
    "transfer",
    "hand",
    "pass",
    "put",
    "connect",
    "escal",
    "forward",
    "refer",
    "transfi",
    "transfe",
    "pas",
    "comunic",
    "conect",
    "deriv",
    "canaliz",
    "traslad",
    "turn",
    "elev",
    "encaminh",
    "repass",
    "pong",
    "ponem",
    "poner",
    "vou",
)


# Verbs that move the customer (or the case) to a person.
_TRANSFER = re.compile(
    r"\b(?:transfer\w*|hand(?:ing|ed|s)?\s+(?:you\s+)?(?:over|off)|pass(?:ing|ed)?\s+(?:you|it|"
    r"this|your\s+\w+|the\s+\w+|[\w.,\s]{0,30}?)\s+(?:on\s+)?to|put(?:ting)?\s+you\s+through"
    r"|connect\w*|escalat\w*|forward\w*|refer(?:ring|red)?\s+you|transfier\w*|transfir\w*"
    r"|transferi\w*|pas(?:o|amos|ar|arte|arle|arlo|arla|are|aremos|ando|e|en)\s+(?:\w+\s+)?"
    r"(?:con|a|al)\b|pasado|comunic(?:o|amos|ar|arte|arle|are|aremos)\b|conect\w*|deriv\w*"
    r"|canaliz\w*|traslad\w*|turn(?:ado|amos|e)|elev\w*|encaminh\w*|pass(?:o|amos|ar|ei)\s+"
    r"(?:\w+\s+)?(?:para|a|ao)\b|repass\w*|escal\w*|pongo\s+en\s+contacto|ponemos\s+en\s+"
    r"contacto|poner(?:te|le)\s+en\s+contacto|vou\s+(?:te\s+)?(?:passar|transferir|conectar))"
)
# A person who will contact the customer ("your account manager will call you", "su gestora
# le llamará", "um atendente vai ligar para você"). The customer contacting someone needs a
# channel (chat, phone, e-mail, DM), which the other paths look for.
_CALLS_YOU = re.compile(
    r"\b(?:will|'ll|shall|is\s+going\s+to|are\s+going\s+to)\s+(?:\w+\s+)?(?:call|contact|phone"
    r"|ring|reach|email|e-mail|write\s+to|get\s+back\s+to|be\s+in\s+touch|get\s+in\s+touch"
    r"|reach\s+out)\b"
    r"|\b(?:te|le|lo|la|les|los|las)\s+(?:llamar\w*|contactar\w*|buscar\w*|escribir\w*"
    r"|atender\w*|atiende|llama|contacta|busca|escribe)\b"
    r"|\bse\s+(?:pondra|comunicara|podra\s+en\s+contacto)\b"
    r"|\b(?:vai|ira|vao|irao)\s+(?:te\s+|lhe\s+)?(?:ligar|procura\w*|contatar|contactar"
    r"|entrar\s+em\s+contato|escrever|atender)"
    r"|\bentrar(?:a|ao)\s+em\s+contato|\bligara\b|\bprocura-l[oa]s?\b"
)
_CHAT = re.compile(r"\b(?:chat|chats|live\s+chat|chat\s+en\s+vivo|whatsapp)\b")
# The conversation the answer is written in is no path to anyone else: "questions are handled
# only through this chat", "por este canal", "neste chat".
_THIS_CHAT = re.compile(r"\b(?:this|este|esta|neste|nesta|nuestro\s+propio|the\s+same)\s+$")
_HOURS = re.compile(
    r"\b\d{1,2}(?::\d{2}|\s?h\b|\s?(?:am|pm)\b)|\b24\s*(?:/\s*7|\s*(?:hours|horas|h))\b"
    r"|\baround\s+the\s+clock\b|\bevery\s+day\b|\btodos\s+los\s+dias\b|\btodos\s+os\s+dias\b"
    r"|\bdaily\b|\bmonday\b|\blunes\b|\bsegunda\b|\bdiariamente\b"
)
# A staffed desk the customer can walk up to or call: being sent to reception or to a counter
# in person is a path to a person ("ask at the front desk", "en recepción", "no balcão").
_DESK_WORDS = wordlist(
    "reception receptionist desk recepcion recepcionista recepcao rececao balcao mostrador "
    "helpdesk concierge conserjeria person persona pessoa presencial presencialmente"
)
_DESK = re.compile(
    r"\b(?:reception(?:ist)?|front\s+desk|help\s*desk|recepcion(?:ista)?|recepcao|rececao"
    r"|balcao|mostrador|concierge|conserjeria|in\s+person|en\s+persona|em\s+pessoa"
    r"|presencial(?:mente)?)\b"
)
_DM = re.compile(
    r"\b(?:dm|dms|direct\s+message|private\s+message|mensaje\s+(?:privado|directo)"
    r"|mensagem\s+(?:privada|direta)|inbox|md|privado)\b"
)
# Refusals: an impossibility (first person or impersonal) followed by reaching a person, or
# the denial that people exist at all.
_NOT_POSSIBLE = (
    r"(?:i|we)\s*(?:can't|cannot|can\s+not|(?:am|are|'m|'re)\s+(?:not\s+able|unable|not\s+allowed"
    r"|not\s+permitted)\s+to"
    r"|won't\s+be\s+able\s+to|will\s+not\s+be\s+able\s+to|don't|do\s+not)"
    r"|(?:it\s+is|it's|it\s+isn't|it\s+is\s+not)\s+(?:not\s+)?(?:possible|impossible)\s+to"
    r"|there(?:'s|\s+is)\s+no\s+(?:way|option)\s+to|no\s+way\s+to|you\s+(?:can't|cannot)"
    r"|nor\s+(?:is\s+it|can\s+(?:i|we))\s+(?:possible\s+to)?"
    r"|(?:no|tampoco)\s+(?:es|sera|resulta)\s+posible|no\s+(?:puedo|podemos|puedes|se\s+puede|pueden)"
    r"|no\s+(?:hay|tengo|tenemos)\s+(?:forma|manera|modo|opcion)\s+de|es\s+imposible"
    r"|no\s+existe\s+(?:la\s+)?"
    r"(?:opcion|forma|posibilidad)\s+de|no\s+tenemos\s+(?:forma|manera)\s+de"
    r"|(?:nao|tampouco)\s+(?:e|sera)\s+possivel|nao\s+(?:posso|podemos|pode|consigo|conseguimos)"
    r"|nao\s+(?:ha|tem|tenho|temos)\s+como|nao\s+da\s+para|e\s+impossivel"
)
_REACH = (
    r"transfer\w*|connect\w*|put\s+you\s+through|speak|talk|reach|escalate|pass\s+you|hand\s+you"
    r"|get\s+you|give\s+you|offer\s+you|hablar|comunicar\w*|transferir\w*|pasar\w*|conectar\w*"
    r"|contactar\w*|atender\w*|derivar\w*|falar|transferir|passar|conectar|atender|encaminhar"
    r"|ponerte|ponerle"
)
# The reaching named as a thing: "escalation to a manager isn't available", "la derivación a un
# agente no está disponible", "a transferência para um atendente não é possível".
_REACH_NOUN = (
    r"escalations?|transfers?|handoffs?|hand-offs?|escalad[oa]|escalamiento|derivacion"
    r"|transferencia|traspaso|encaminhamento|escalonamento"
)
_REFUSAL = re.compile(
    rf"\b(?:{_NOT_POSSIBLE})\s+(?:\w+\s+){{0,4}}?(?:{_REACH})\b[^.;!?\n]{{0,50}}?"
    rf"\b(?:{_PERSON})\b"
    r"|\b(?:there\s+(?:are|is)\s+no|we\s+(?:have|don't\s+have|do\s+not\s+have)\s+no|no\s+hay"
    r"|no\s+tenemos|no\s+contamos\s+con|nao\s+(?:ha|temos|existem?|contamos\s+com))\s+"
    r"(?:\w+\s+){0,2}?(?:human\s+agents?|agents?|people|persons?|humans?|supervisors?"
    r"|representatives?|staff|agentes(?:\s+humanos)?|personas|supervisores|asesores"
    r"|humanos|atendentes(?:\s+humanos)?|pessoas)\b"
    # the reaching named first, then denied: "transferring to a person isn't available from
    # this chat", "hablar con un agente no es posible", "transferir para um atendente não é
    # possível"
    rf"|\b(?:{_REACH}|{_REACH_NOUN})\s+(?:\w+\s+){{0,3}}?(?:{_PERSON})\b[^.;!?\n]{{0,20}}?\s+"
    r"(?:isn't|is\s+not|aren't|are\s+not|not)\s+(?:available|possible|an\s+option|offered)"
    rf"|\b(?:{_REACH}|{_REACH_NOUN})\s+(?:\w+\s+){{0,3}}?(?:{_PERSON})\b[^.;!?\n]{{0,20}}?\s+"
    r"(?:no\s+(?:es|esta)\s+(?:posible|disponible)|nao\s+(?:e|esta)\s+(?:possivel|disponivel))"
    r"|\bthere\s+(?:is|are)\s+(?:nobody|no\s+one)\s+(?:above|else|higher|i\s+can|available"
    r"|who\s+can|to\s+(?:talk|speak))"
    r"|\b(?:nobody|no\s+one)\s+(?:is|will\s+be)\s+available"
    r"|\bno\s+hay\s+nadie\s+(?:mas|por\s+encima|a\s+quien|disponible|que\s+pueda)"
    r"|\bnao\s+ha\s+ninguem\s+(?:mais|acima|para|disponivel|que\s+possa)"
)
_CLAUSE_END = re.compile(r"[.,:;!?\n]")
_CONDITIONAL = re.compile(r"\b(?:if|si|se|caso|unless|a\s+menos|when|cuando|quando)\b")
_NEGATION = re.compile(
    r"\b(?:not|can't|cannot|don't|won't|never|nunca|nao|jamas|jamais|unable|imposible"
    r"|impossivel|sin|sem|without)\b"
    # Spanish "no"; Portuguese "no" is "in the" (no chat, no app, no +55 ...)
    r"|\bno\b(?!\s+(?:chat|app|aplicativo|site|telefone|numero|whatsapp|e-?mail|horario|canal"
    r"|link|perfil|direct|privado|inbox|[+\d]))"
)
_CLAUSE = re.compile(r"[,;:.!?\n]|\b(?:but|pero|mas|porem|however)\b")
# Policy clauses that offer a person, strongest first.
_OFFERS_PERSON = (
    re.compile(
        r"[^\n]*\b(?:transfers?\s+(?:the\s+chat|to\s+(?:an?\s+)?(?:agent|person|human))"
        r"|ask\s+for\s+a\s+person|agents?\s+answer|live\s+chat\s+with\s+an\s+agent"
        r"|talk(?:ing)?\s+to\s+a\s+person|speak\s+(?:to|with)\s+(?:a|an)\s+(?:person|agent))"
        r"[^\n]*",
        re.IGNORECASE,
    ),
    re.compile(r"[^\n]*\b(?:human\s+agents?|reach(?:ing)?\s+a\s+person)[^\n]*", re.IGNORECASE),
    # the same offer in a Spanish or Portuguese book
    re.compile(
        r"[^\n]*\b(?:agentes?\s+humanos?|atendentes?\s+humanos?|hablar\s+con\s+una\s+persona"
        r"|falar\s+com\s+uma\s+pessoa|pedir\s+(?:hablar\s+con\s+)?una\s+persona"
        r"|pedir\s+(?:para\s+falar\s+com\s+)?uma\s+pessoa)[^\n]*",
        re.IGNORECASE,
    ),
)
_POLICY_PATHS = re.compile(
    r"^[ \t]*[-*]?[ \t]*(?:phone|chat|live\s+chat|email|human\s+agents|customers\s+may\s+ask"
    r"|the\s+assistant\s+transfers)[^\n]*",
    re.IGNORECASE | re.MULTILINE,
)


# Paths that reach a person at once: in an emergency happening now, a person who will call
# back, an e-mail or a private message is too late.
_IMMEDIATE = frozenset({"transfer", "phone", "chat", "desk", "emergency"})


@dataclass(frozen=True)
class Path:
    kind: str  # transfer, phone, email, dm, chat, desk, person, emergency
    start: int
    end: int


_SENTENCE_BREAK = re.compile(r"[.!?\n](?=\s|$)")


def _bounds(folded: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around [start, end)."""
    lo = max(0, start - 300)
    breaks = [b.end() for b in _SENTENCE_BREAK.finditer(folded, lo, start)]
    s = breaks[-1] if breaks else lo
    stop = _SENTENCE_BREAK.search(folded, end, end + 300)
    return s, (stop.start() if stop else min(len(folded), end + 300))


def _negated(folded: str, start: int) -> bool:
    """A negation earlier in the same clause: "I can't put you through", "no puedo pasarte"."""
    lo = max(0, start - 80)
    breaks = [m.end() for m in _CLAUSE.finditer(folded, lo, start)]
    clause_start = breaks[-1] if breaks else lo
    return _NEGATION.search(folded, clause_start, start) is not None


def iter_paths(text: str) -> Iterator[Path]:
    """Concrete paths to a person in `text` (see the module docstring), cheapest first, so
    `any(...)` stops at the first one."""
    for item in contact.emails(text):
        yield Path("email", item.start, item.end)
    for item in contact.phones(text):
        yield Path("phone", item.start, item.end)
    words = word_set(text)
    folded = fast_fold(text)
    if words & _DM_WORDS:
        for m in _DM.finditer(folded):
            if not _negated(folded, m.start()):
                yield Path("dm", m.start(), m.end())
    if words & _CHAT_WORDS:
        for m in _CHAT.finditer(folded):
            s, e = _bounds(folded, m.start(), m.end())
            if _negated(folded, m.start()):
                continue
            # a person offered in its sentence (not "I can't put you through to anyone"), or
            # hours; the chat being written in needs the person
            person = any(
                not _negated(folded, p.start()) for p in _HUMAN_ONLY.finditer(folded, s, e)
            )
            this_chat = _THIS_CHAT.search(folded, max(0, m.start() - 20), m.start())
            if person or (this_chat is None and _HOURS.search(folded, s, e)):
                yield Path("chat", m.start(), m.end())
    if words & _DESK_WORDS:
        for m in _DESK.finditer(folded):
            if not _negated(folded, m.start()):
                yield Path("desk", m.start(), m.end())
    people = words & PERSON_WORDS
    if people or words & _TEAM_WORDS:
        yield from _person_paths(folded, words, people)
    # Last: it stems the answer in each language, so it runs only when nothing cheaper matched.
    emergency = emergency_service(text)
    if emergency is not None:
        yield Path("emergency", *emergency)


def _person_paths(folded: str, words: frozenset[str], people: frozenset[str]) -> Iterator[Path]:
    """A transfer to a person, or a person who will contact the customer or works set hours."""
    if any(w.startswith(_TRANSFER_STEMS) for w in words):
        for m in _TRANSFER.finditer(folded):
            s, e = _bounds(folded, m.start(), m.end())
            person = _HUMAN_ONLY.search(folded, m.end(), min(e, m.end() + 70))
            if person and not _negated(folded, m.start()) and not _negated(folded, m.end()):
                yield Path("transfer", m.start(), person.end())
    for start, end in word_positions(folded, people | (words & _TEAM_WORDS)):
        s, e = _bounds(folded, start, end)
        if _negated(folded, start):
            continue
        verb = _CALLS_YOU.search(folded, s, e)
        team = folded[start:end] in _TEAM_WORDS
        if (not team and _HOURS.search(folded, s, e)) or (
            verb is not None
            and not _negated(folded, verb.start())
            and _named_or_offered(folded, s, e, start)
        ):
            yield Path("person", start, end)


def paths(text: str) -> list[Path]:
    return sorted(iter_paths(text), key=lambda p: p.start)


_OFFER = re.compile(
    r"\b(?:will|can|may|puede|podra|pode|podera|le|te|lo|la|vai|ira|shall|would|is\s+available"
    r"|esta\s+disponible|esta\s+disponivel|un[ao]?|an?|uma|your|su|tu|seu|sua)\b"
)


def _named_or_offered(folded: str, s: int, e: int, at: int) -> bool:
    """A person noun in an offer ("an agent can help", "your account manager will call"),
    not a statement about what people do in general ("agents cannot grant exceptions")."""
    return (
        _OFFER.search(folded, max(s, at - 40), at) is not None
        or _OFFER.search(folded, at, min(e, at + 60)) is not None
    )


_NEGATION_HINTS = (
    "no ",
    "no,",
    "not",
    "n't",
    "nao",
    "cannot",
    "unable",
    "impos",
    "nobody",
    "nadie",
    "ninguem",
    "tampo",
    "nor ",
)


def refusals(text: str) -> list[tuple[int, int]]:
    """Refusals of human contact, as (start, end) offsets. The refusal pattern only runs in
    the stretches before a mention of a person that hold a negation."""
    words = word_set(text)
    people = words & (PERSON_WORDS | _NOBODY_WORDS)
    if not (words & _NEGATION_WORDS) or not people:
        return []
    folded = fast_fold(text)
    n = len(folded)
    windows: list[list[int]] = []
    for start, end in word_positions(folded, people):
        lo, hi = max(0, start - 130), min(n, end + 30)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    out: list[tuple[int, int]] = []
    for lo, hi in windows:
        stretch = folded[lo:hi]
        if not any(hint in stretch for hint in _NEGATION_HINTS):
            continue
        for m in _REFUSAL.finditer(folded, lo, hi):
            c_lo = max(0, m.start() - 60)
            breaks = [b.end() for b in _CLAUSE_PUNCT.finditer(folded, c_lo, m.start())]
            if _CONDITIONAL.search(folded, breaks[-1] if breaks else c_lo, m.start()):
                continue
            if not out or m.start() >= out[-1][1]:
                out.append((m.start(), m.end()))
    return out


_CLAUSE_PUNCT = re.compile(r"[,;:.!?\n]")


def _policy_offer(book: PolicyBook | None) -> str | None:
    """The policy's clause that offers a person (a heading does not count)."""
    if book is None:
        return None
    for pattern in _OFFERS_PERSON:
        for m in pattern.finditer(book.text):
            line = m.group(0).strip()
            if line and not line.startswith("#"):
                return line.strip(" -*")
    # A phone line is answered by a person: a book that gives one offers a person, in any
    # words ("Customer care: 900 000 000, weekdays 9:00-18:00").
    for line in book.text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and contact.phones(line):
            return line.strip(" -*")
    return None


def _policy_paths(book: PolicyBook | None) -> str | None:
    if book is None:
        return None
    lines = [m.group(0).strip(" -*\t") for m in _POLICY_PATHS.finditer(book.text)]
    return " | ".join(lines[:4]) if lines else None


def _required(case: Case) -> tuple[bool, str, str]:
    """Whether the answer must give a path to a person, why, and where that comes from:
    `expect.handoff` when the case sets it, otherwise the conversation itself."""
    if case.expect.handoff is not None:
        return (
            case.expect.handoff,
            f"expect.handoff: {str(case.expect.handoff).lower()}",
            ("expect.handoff"),
        )
    need = needs_person(case)
    if need is None:
        return False, "", ""
    said = f': "{need.quote}"' if need.quote else ""
    return True, f"{need.reason}{said}", "conversation"


def _declined(case: Case, text: str) -> tuple[bool, str, str]:
    """An answer that declines the question as beyond what it can judge must say who can:
    `_required`'s answer for a case that needs no person otherwise (and whose `expect` does
    not say `handoff: false`)."""
    if case.expect.handoff is not None:
        return False, "", ""
    quote = beyond_competence(text, case.language)
    if quote is None:
        return False, "", ""
    return True, f'the answer says it cannot judge this: "{quote}"', "answer"


@register(GUARDRAIL)
def handoff_guardrail(context: GuardrailContext) -> Check:
    policies: Mapping[str, PolicyBook] = context.policies
    offers = {cid: _policy_offer(book) for cid, book in policies.items()}
    listed = {cid: _policy_paths(book) for cid, book in policies.items()}

    def check(case: Case, text: str) -> list[Finding]:
        findings: list[Finding] = []
        offer = offers.get(case.company)
        refused = refusals(text)
        if refused:
            # what a refusal's own clause names is refused, not offered: "transferring to a
            # person isn't available from this chat"
            stops = [_CLAUSE_END.search(text, end) for _, end in refused]
            denied = [
                (start, stop.start() if stop else len(text))
                for (start, _), stop in zip(refused, stops, strict=True)
            ]
            paths = [p for p in iter_paths(text) if not any(a <= p.start < b for a, b in denied)]
        else:
            paths = None
        if (
            refused
            and offer is not None
            and not any(p.kind in ("transfer", "phone", "chat") for p in paths or ())
        ):
            for start, end in refused:
                quoted = text[start:end]
                findings.append(
                    Finding(
                        guardrail=GUARDRAIL,
                        code="handoff.refused",
                        severity="major",
                        message=f'The answer denies the customer a person ("{quoted}") '
                        "although the company's policy offers one.",
                        evidence=Evidence(
                            span=Span(start=start, end=end, text=quoted),
                            checked_against=offer,
                            source=f"policy:{case.company}",
                            note="the policy offers human contact; the answer refuses it",
                        ),
                    )
                )
                break
        required, why, source = _required(case)
        if not required:
            required, why, source = _declined(case, text)
        given = required and (bool(paths) if paths is not None else any(iter_paths(text)))
        lacking = "no transfer, phone number, e-mail, staffed chat or named contact"
        if given:
            urgent = urgent_now(case)
            # an emergency happening now: a person who will call back, an e-mail or a private
            # message comes too late
            if urgent is not None and not any(
                p.kind in _IMMEDIATE for p in (paths if paths is not None else iter_paths(text))
            ):
                given = False
                lacking = (
                    "no path that reaches a person now (a transfer, a phone line, a staffed "
                    "chat or desk, emergency services)"
                )
                why = f'{why}; {urgent.reason}: "{urgent.quote}", which needs a path now'
        if required and not given:
            paths_text = listed.get(case.company)
            findings.append(
                Finding(
                    guardrail=GUARDRAIL,
                    code="handoff.missing",
                    severity="major",
                    message=f"The case requires a path to a person ({why}), but the answer "
                    f"gives {lacking}.",
                    evidence=Evidence(
                        checked_against=why
                        + (f"; the policy offers: {paths_text}" if paths_text else ""),
                        source=source,
                        note="no concrete path to a person found; a vague 'contact us' or a "
                        "refused transfer does not count",
                    ),
                )
            )
        return findings

    return check
