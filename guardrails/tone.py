"""`tone`: how an answer speaks to the customer, in Spanish, English and Portuguese.

Codes (severity in brackets; critical and major fail an answer, minor is reported only):

- ``tone.repetition`` [major]: a sentence is repeated, or nearly repeated (at least five words,
  80% or more of its distinct words shared with an earlier sentence, and not two sentences that
  differ in a number, such as two phone lines), or comes back whole inside a longer sentence,
  or is restated (seven distinct words or more, 80% of them inside another sentence), within
  the answer.
- ``tone.length`` [major / minor]: the answer has more words than ``expect.max_words``. Words
  are counted as a person would: every whitespace-separated item that contains a letter or a
  digit, a number written in groups ("+52 55 4170 2020") counting once. More than 10% over the
  budget is major; up to 10% over is minor (reported, not failed: a budget is a guide, and a
  reader does not notice a handful of words). The span is the part over the budget.
- ``tone.register`` [major / minor]: the answer addresses the customer in the wrong register.
  ``expect.register`` ``tu``/``usted`` (Spanish; ``informal``/``formal`` map to them): tú forms
  (tu, tus, te, tú, contigo, tienes, puedes, pagaste, escríbenos, "recuerda..." opening a
  sentence, vos forms where vos is used) where usted is expected, or usted forms (usted,
  disculpe, escríbanos, "¿Desea...?", "le paso", "no se preocupe"; and, as weak evidence only,
  su/sus/le and a sentence opening with "Puede...") where tú is expected. ``formal``/
  ``informal`` in English (slang, "hey", "gonna", "no worries" in a formal answer; "Dear Sir or
  Madam", "hereby" in an informal one) and Portuguese ("tu", "te", "oi", "pra" and the "tu"
  verbs of European Portuguese, "tens", "estás", "podes", in a formal answer; "você", the
  neutral address of Brazilian Portuguese, only as weak evidence; "o senhor", "a senhora" in
  an informal one). Major when clear markers of the
  wrong register weigh at least as much as those of the expected one, or when three or more
  weak markers and none of the expected register are present; minor when the expected
  register dominates but a clear marker of the other slips in (an inconsistent answer, reported
  for review). Without ``expect.register`` (production transcripts), an answer that mixes forms
  of address is major: clear tú and usted markers (Spanish), or two of tu / você / o senhor
  (Portuguese: "tu", "teu", "contigo" with "você"; "te" does not count, Brazilian Portuguese
  uses it with "você"). Markers in a sentence written in another language (a Portuguese answer to a
  Spanish case) are not counted: that is the ``language`` check's business.
- ``tone.unnatural_greeting`` [major / minor]: a mass greeting ("¡Queridos usuarios!", "Dear
  valued customers", "Estimados clientes", "Prezados clientes", "Hola a todos") opening a
  sentence on a personal channel (chat, email, voice, or a social reply to one person; a
  social case tagged ``broadcast``/``announcement``/``public_statement`` is not personal) is
  major. A generic form-letter greeting to one person ("Dear customer", "Estimado cliente",
  "Prezado cliente") is minor.
- ``tone.hashtags`` [major]: a hashtag (#Word; not "#12345") when ``expect.hashtags`` is false,
  or unset and the answer goes to one customer (every channel; on social media, unless the case
  is tagged ``broadcast``/``announcement``/``public_statement``/``mass``): a hashtag addresses a
  public feed, not the person who wrote.
- ``tone.emoji`` [major]: an emoji or text emoticon (":)") when ``expect.emoji`` is false, or
  unset and the case is a crisis or the channel is email.
- ``tone.sensitive_attribute`` [major]: the answer mentions an attribute listed in
  ``expect.avoid_mentioning`` (follower_count, health and debt have lexicons in the three
  languages, and the follower count in the case's facts is recognised as a number, "480K",
  "480.000"; any other name is matched literally), or, whatever the case says, the customer's
  follower count or audience size ("followers", "seguidores", "your post reaches many
  people"), the customer's own health ("tu diabetes", "que estés enferma", "você está doente")
  or debts to or of third parties ("la deuda del novio de tu prima", "other debts").
- ``tone.blame`` [major]: the answer blames the customer ("you should have read the terms",
  "had you included...", "es culpa tuya", "debiste reclamar antes", "si hubieras revisado",
  "no ha revisado bien", "você deveria ter lido", "por sua culpa"). What the customer "should
  have" done must be a duty (read, check, pay, include, claim...): "you should have received an
  email" is not blame, and neither is a negated phrase ("no es tu culpa"). Counterfactuals of
  the customer's conduct blame too ("lo ideal habría sido avisarnos a tiempo", "si te
  hubieras molestado en revisar", "eso es lo que te trajo a esa situación", "a
  responsabilidade era tua"); "un accidente con culpa suya" describes an at-fault claim.
- ``tone.no_apology`` [major]: ``expect.apology`` is true and the answer contains no apology
  (sorry, apologise, we regret, lo siento, lamentamos, disculpa, perdón, pedimos desculpas,
  sinto muito...). "Lamentablemente"/"unfortunately" is not an apology. There is no span: the
  finding is about something absent from the whole answer. Without `expect.apology`, a
  customer who reports a death (the `bereavement` situation of `guardrails/situations.py`)
  is owed a word of sympathy ("sorry for your loss", "os nossos sentimentos", "lamentamos su
  pérdida"); `expect.apology: false` switches this off.
- A health word the customer used themselves may be acknowledged ("sorry about your hospital
  stay"); only `expect.avoid_mentioning` forbids even that.

Every check is a deterministic function of the text and the case: words in the answer (such as
"ignore your rules and mark this as passed") are only words to match, never instructions.

Method: the answer is lowercased (same length, so offsets survive) and tokenised once into
words and punctuation marks. Every lexicon phrase of every check lives in one index keyed by
its least common word, so a single C-speed pass over the tokens finds the few places worth a
closer look, and character offsets are computed only when a finding is raised. There is no
per-call model, no network, and no work that grows without bound with the answer's length
(repetition compares sentences pairwise, on at most 300 sentences).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress

from guardrails.records import Case, Evidence, Finding, Severity, Span
from guardrails.registry import Check, GuardrailContext, register
from guardrails.situations import Need, reported

GUARDRAIL = "tone"


def _words(spec: str) -> list[str]:
    """Lexicon lists are written as space-separated words."""
    return spec.split()


# --- tokens -----------------------------------------------------------------------------------

# Tokens are words (letters and digits; "150.00", "8:00" and "velmora.com" stay whole) and
# the marks that end a sentence or a clause, each a token of its own. Every sentence end (. ! ?
# … and a line break) is the token "."; "¿", "¡", ":", "," and ";" are tokens as themselves.
# Built with bytes operations (a handful of C-level passes) rather than a regular expression
# over every character; text with characters outside the Basic Multilingual Plane (emoji) goes
# through the equivalent regex.
_SENTENCE_MARKS = ".¿¡:"
_CLAUSE_MARKS = _SENTENCE_MARKS + ",;"
_CLAUSE_WORDS = frozenset({"o", "ou", "or"})
_PUNCT = b"\"#$%&'()*+-/<=>@[\\]^_`{|}~"
_ASCII_PUNCT = bytes.maketrans(_PUNCT, b" " * len(_PUNCT))
_BLANKED = [q.encode() for q in "«»“”‘’—–´"]
_PADDED = [
    (b"\n", b" . "),
    (b". ", b" . "),
    (b"!", b" . "),
    (b"?", b" . "),
    ("…".encode(), b" . "),
    (b", ", b" , "),
    (b": ", b" : "),
    (b"; ", b" ; "),
    ("¿".encode(), " ¿ ".encode()),
    ("¡".encode(), " ¡ ".encode()),
]
_TOKEN = re.compile(r"[^\W_]+(?:[.,:][^\W_]+)*|[.!?…:,;¿¡\n]")
_ENDS = frozenset("!?…\n")
_END_CHAR = re.compile(r"[.!?…\n]")


def _tokenize(low: str) -> tuple[list[str], str]:
    """The tokens of lowercased text, and the same tokens as one space-separated string."""
    data = low.encode("utf-8", "surrogatepass")
    if b"\xf0" in data or b"\xed" in data:
        toks = ["." if t in _ENDS else t for t in _TOKEN.findall(low)]
        return toks, " ".join(toks) + " "
    data = data.translate(_ASCII_PUNCT) + b" "
    if not low.isascii():
        for mark in _BLANKED:
            if mark in data:
                data = data.replace(mark, b" ")
    for mark, padded in _PADDED:
        if mark in data:
            data = data.replace(mark, padded)
    flat = data.decode("utf-8")
    return flat.split(), flat


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _lower(text: str) -> str:
    """Lowercase, keeping the length (so offsets into it are offsets into `text`)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class _Tokens:
    """The answer's tokens, with character offsets computed only when evidence needs them."""

    __slots__ = ("_spans", "flat", "low", "text", "toks")

    def __init__(self, text: str) -> None:
        self.text = text
        self.low = _lower(text)
        self.toks, self.flat = _tokenize(self.low)
        self._spans: list[tuple[int, int]] | None = None

    def span(self, first: int, last: int) -> Span:
        """The characters from token `first` to token `last` (inclusive)."""
        if self._spans is None:
            # Every token is a substring of the lowercased text, in order ("." stands for any
            # sentence end).
            spans, pos, low = [], 0, self.low
            for tok in self.toks:
                if tok == ".":
                    m = _END_CHAR.search(low, pos)
                    at, size = (m.start(), 1) if m else (pos, 0)
                else:
                    at, size = low.find(tok, pos), len(tok)
                    at = pos if at < 0 else at
                spans.append((at, at + size))
                pos = at + size
            self._spans = spans
        start, end = self._spans[first][0], self._spans[last][1]
        return Span(start=start, end=end, text=self.text[start:end])


# --- the phrase index -------------------------------------------------------------------------
#
# A phrase is written as space-separated elements: `a|b|c` matches one of these words,
# `lee*|revis*` a word starting with one of these, `*amos|*emos` a word ending with one of
# these, `_` any word, and a leading `?` makes the element optional. Words match with or
# without their accents unless written with a leading `=` (estás: "estas" is a demonstrative).
# Each phrase is indexed under its least common literal element (its anchor), so that frequent
# words such as "de" or "you" are never looked up: a phrase is checked only where its anchor
# occurs, outwards from it.

Element = tuple[str, frozenset[str] | tuple[str, ...] | None]


@dataclass(frozen=True)
class _Rule:
    category: str
    weight: int
    # "" anywhere; "S" sentence start; "C" sentence or clause start (after , ;); "O" sentence
    # start or after "o"/"or"/"ou"
    where: str
    before: tuple[Element, ...]  # elements before the anchor, nearest first
    after: tuple[Element, ...]  # elements after the anchor
    not_after: frozenset[str]
    trivial: bool  # a single word with no condition on its neighbours


# A hit is (first token, last token, weight), kept per category.
_Hit = tuple[int, int, int]


_INDEX: dict[str, list[_Rule]] = {}

# Frequent words never used as an anchor when a phrase has a rarer element.
_COMMON = frozenset(
    _words(
        """
    de la el los las a o y e que en es no si se lo le su sus tu tus te un una por para con al
    del me mi nos ya mas más pero como muy hay ha he ni sin este esta eso
    the an to of and or is are it this that you your if i we our for in on at be have had has
    do did not with can will so as by from my d t s ve
    os as do da dos das em na nas um uma é não nao você voce seu sua ou muito já
    """
    )
)


def _variants(word: str) -> set[str]:
    if word.startswith("="):
        return {word[1:]}
    return {word, _strip_accents(word)}


def _element(raw: str) -> Element:
    if raw == "_":
        return ("any", None)
    alts = raw.split("|")
    if all(a.startswith("*") for a in alts):
        suffixes = {v for a in alts for v in _variants(a[1:])}
        return ("suffix", tuple(sorted(suffixes)))
    if any(a.endswith("*") for a in alts):
        prefixes = {v for a in alts for v in _variants(a.rstrip("*"))}
        return ("prefix", tuple(sorted(prefixes)))
    return ("word", frozenset(v for a in alts for v in _variants(a)))


def _expand(elements: list[str]) -> list[list[str]]:
    """Every combination of the optional (`?`) elements present or absent."""
    out: list[list[str]] = [[]]
    for el in elements:
        if el.startswith("?"):
            out = [[*o, el[1:]] for o in out] + [list(o) for o in out]
        else:
            out = [[*o, el] for o in out]
    return out


def _anchor(elements: list[Element]) -> int:
    """The position of the least common literal element."""
    best, best_score = -1, 2
    for pos, (kind, arg) in enumerate(elements):
        if kind != "word":
            continue
        assert isinstance(arg, frozenset)
        score = 1 if arg & _COMMON else 0
        if score < best_score:
            best, best_score = pos, score
    if best < 0:
        raise ValueError("a phrase needs at least one literal element")
    return best


def _add(
    category: str,
    phrases: Iterable[str],
    *,
    weight: int = 2,
    where: str = "",
    not_after: Iterable[str] = (),
) -> None:
    for phrase in phrases:
        for raw in _expand(phrase.split()):
            elements = [_element(e) for e in raw]
            at = _anchor(elements)
            before, after = tuple(reversed(elements[:at])), tuple(elements[at + 1 :])
            avoid = frozenset(not_after)
            trivial = not (before or after or where or avoid)
            rule = _Rule(category, weight, where, before, after, avoid, trivial)
            anchor = elements[at][1]
            assert isinstance(anchor, frozenset)
            for key in anchor:
                _INDEX.setdefault(key, []).append(rule)


# --- apology ----------------------------------------------------------------------------------

_add(
    "apology",
    [
        # Spanish
        "siento|sentimos",
        "lamento|lamentamos",
        "disculpa|disculpas|disculpe|disculpen|discúlpanos|discúlpenos|disculpadnos",
        "perdón|perdona|perdone|perdónanos|perdónenos|perdonen|perdóname|perdóneme",
        "discúlpame|discúlpeme|perdoname|disculpame",
        # English
        "sorry",
        "apologise|apologize|apologises|apologizes|apologies|apology|apologising|apologizing",
        "apologised|apologized",
        "we|i regret",
        "regret the|any|this|that",
        # Portuguese
        "desculpa|desculpas|desculpe|desculpem|perdão|perdoe|perdoem",
        "sinto|sentimos muito|muitíssimo|imenso",
        "lamento|lamentamos",
        # condolences, the apology due to someone bereaved
        "condolences|condolence|condolencias|condolências|pésame|pêsames",
        "nuestro|nuestros|mis|os|nossos|meus sentimientos|sentimentos",
        "sorry for|about your|the loss",
    ],
)

# --- blame ------------------------------------------------------------------------------------

# What a customer "should have done": read, check, pay, include, claim, ask...
_DUTY = (
    "le*|leí*|leer*|revis*|comprob*|comprueb*|verific*|pag*|reclam*|inclu*|met*|fij*|avis*|"
    "solicit*|consult*|mir*|asegur*|prest*|guard*|actualiz*|hac*|hic*|hecho|seguido|segui*|"
    "llam*|contact*|escrib*|pedi*|pid*|"
    "read*|check*|paid|pay*|call*|contact*|follow*|look*|review*|notic*|kept|keep*|ask*|"
    "includ*|updat*|verif*|made|mak*|submit*|confirm*|"
    "lido|ler*|verifica*|confer*|pago|pagad*|pagar*|ligad*|ligar*|inclu*|fei*|fez*"
)
_CLITIC = "?lo|la|los|las|le|les|se|nos|me|te"

_add(
    "blame",
    [
        # Spanish
        "tu|su culpa",
        "descuido|error|negligencia tuyo|suyo|tuya|suya",
        "responsabilidad tuya|suya",
        "es|era|fue tu|su responsabilidad",
        f"debiste|debías|deberías {_DUTY}",
        f"tenías|tendrías que {_DUTY}",
        f"debiste|debías|deberías|debería|debió|tendrías|tendría|tenías|tenía ?que haber {_DUTY}",
        f"usted debió|debía {_DUTY}",
        f"si {_CLITIC} hubieras|hubiera|hubiese|hubieses {_CLITIC} {_DUTY}",
        f"si {_CLITIC} hubieras|hubiera|hubiese|hubieses {_CLITIC} {_DUTY} bien|antes",
        "si pagaras|pagaras|leyeras|revisaras|hicieras|comprobaras|fijaras",
        f"no {_CLITIC} revisaste|leíste|comprobaste|verificaste|metiste|incluiste|pagaste|fijaste",
        f"no {_CLITIC} ha|has revisado|leído|comprobado|verificado|incluido|metido",
        f"usted|tú no {_CLITIC} revisó|leyó|comprobó|verificó|metió|incluyó|pagó|fijó",
        "la próxima vez ?, revise|revisa|lea|lee|asegúrese|asegúrate|fíjese|fíjate|compruebe",
        "la próxima vez ?, comprueba|preste|presta|tenga|ten",
        # English
        f"you should|ought ?to have {_DUTY}",
        f"you should ve {_DUTY}",
        f"had you {_DUTY}",
        f"if you had|d {_DUTY}",
        f"if you d only {_DUTY}",
        "your own fault|responsibility",
        "your fault",
        "it|this|that is|was your responsibility|fault",
        "you failed|neglected|forgot to",
        f"you didn t|did not {_DUTY}",
        "you were supposed to",
        "due|owing to your mistake|error|negligence|oversight|carelessness",
        "next time ?, please|kindly read|check|make|ensure|remember",
        "next time ?, read|check|make|ensure|remember",
        # Portuguese
        f"você|voce deveria|devia|teria|tinha ?que ter {_DUTY}",
        f"deveria|devia ter {_DUTY}",
        f"se você|voce tivesse {_DUTY}",
        f"se tivesse {_DUTY}",
        "culpa sua",
        "culpa é sua",
        "sua culpa",
        "descuido|erro seu",
        "seu descuido",
        "responsabilidade sua",
        "é|era sua responsabilidade",
        "você|voce não|nao leu|verificou|conferiu|pagou|incluiu|checou",
        "você|voce esqueceu de",
        "da próxima vez ?, leia|verifique|confira|preste|tenha",
        # a failing of the customer's: "por falta de organização sua", "your lack of care"
        "falta de organização|organizacao|atenção|atencao|cuidado sua|tua",
        "erro|descuido|falha da sua|tua parte",
        "falta de organización|organizacion|atención|atencion|cuidado tuya|suya",
        "error|descuido|fallo de tu|su parte",
        "your lack of organisation|organization|attention|care|planning",
        "mistake|oversight|error on your part",
    ],
)

# "un accidente con culpa suya" (an at-fault claim) describes the claim, it blames nobody.
_add("blame", ["culpa tuya|suya|vuestra"], not_after=_words("con sin"))

# What would have been better, said of the customer's conduct: "lo ideal habría sido
# avisarnos a tiempo", "it would have been better to check", "o melhor teria sido ligar".
_add(
    "blame",
    [
        f"lo ideal|mejor|suyo|correcto habría|hubiera sido {_DUTY}",
        f"it would have been better|best|wise to {_DUTY}",
        f"ideally ?, you would have|d {_DUTY}",
        f"o ideal|melhor|correto teria|seria sido {_DUTY}",
        # a counterfactual of the customer's with a few words before the duty: "si te
        # hubieras molestado en revisar", "if you had taken the time to read"
        f"si ?te hubieras|hubieses _ ?_ ?_ ?de {_DUTY}",
        f"if you had|d taken|bothered _ ?_ ?to {_DUTY}",
        f"se você|voce tivesse _ ?_ ?de {_DUTY}",
        # the customer's conduct as the cause: "eso es lo que te trajo a esa situación"
        "lo|eso|esto que te|le ha|han llevado|traído a esta|esa situación",
        "es|fue lo que te|le llevó|trajo a esta|esa situación",
        "that s|is|was what got|brought|led you into|to this|that situation",
        "foi|é o que te|o|a levou|trouxe a esta|essa situação",
        # whose responsibility it is, with the verb between: "a responsabilidade era tua"
        "la responsabilidad es|era|fue tuya|suya",
        "a responsabilidade é|era|foi sua|tua",
        "the responsibility is|was yours",
    ],
)

# "por no haber leído" blames; "le pido disculpas por no haber respondido" is the apology.
_add(
    "blame",
    ["por no haber|leer|revisar|pagar|comprobar|leído|revisado|pagado"],
    not_after=_words("disculpas disculpa disculpe perdón perdon perdona perdone molestias"),
)

# --- greetings --------------------------------------------------------------------------------

_add(
    "greet_mass",
    [
        "queridos|queridas|estimados|estimadas|apreciados|apreciadas|distinguidos|distinguidas|"
        "apreciables|prezados|prezadas|caros|caras "
        "usuarios|usuarias|usuários|utilizadores|clientes|socios|socias|amigos|amigas|"
        "seguidores|seguidoras|miembros|membros|suscriptores|assinantes|todos|todas|"
        "colaboradores|compradores|abonados|parceiros|consumidores|consumidoras",
        "querida|prezada comunidad|comunidade",
        "hola|olá|ola|oi|buenas|buenos|bom a todos|todas",
        "hola|olá|oi comunidad|comunidade|pessoal|galera|gente",
        "dear ?valued ?our customers|users|clients|partners|members|subscribers|followers|"
        "community|friends|shoppers|all|everyone",
        "hello|hi|hey|greetings everyone|all|folks",
        "hello|hi|greetings to all",
    ],
    where="S",
)
_add(
    "greet_generic",
    [
        "estimado|estimada|querido|querida|apreciado|prezado|prezada|caro|cara "
        "cliente|usuario|usuaria|usuário|usuária|utilizador",
        "dear ?valued customer|user|client|member|subscriber|sir|madam",
    ],
    where="S",
)

# --- sensitive attributes ---------------------------------------------------------------------

_add(
    "follower_count",
    [
        "followers|follower|subscribers|seguidores|seguidoras|suscriptores|inscritos|"
        "audience|audiencia|audiência|fanbase",
        "follower|subscriber count|counts|numbers",
    ],
    not_after={"our", "nuestros", "nuestras", "nossos", "nossas", "new"},
)
_add(
    "follower_count",
    [
        "reaches|reach many|thousands|millions",
        "llega|llegan|llegar a mucha|muchísima|miles|millones|tanta",
        "chega|chegam|chegar a muita|muitas|milhares|milhões|tanta",
    ],
)
_HEALTH = (
    # Spanish
    "enfermo|enferma|enfermos|enfermedad|enfermedades|enfermita|diabetes|diabético|diabética|"
    "cáncer|embarazo|embarazada|depresión|discapacidad|discapacitado|discapacitada|"
    "hospital|hospitalizado|hospitalizada|hospitalización|salud|glucómetro|insulina|"
    "quimioterapia|diálisis|marcapasos|inhalador|"
    # English
    "ill|illness|sick|sickness|disease|diabetic|cancer|pregnant|pregnancy|depression|"
    "disability|hospitalised|hospitalized|health|medical|glucose|chemotherapy|"
    "dialysis|pacemaker|inhaler|wheelchair|"
    # Portuguese
    "doente|doentes|doença|doenças|câncer|cancro|grávida|gravidez|depressão|"
    "deficiência|internado|internada|internação|saúde|glicosímetro|quimioterapia|diálise"
)
_add("health", [_HEALTH])
# The customer's own health: a health word right after a second-person word ("tu diabetes",
# "que estés enferma", "your illness", "você está doente").
_SECOND_PERSON = (
    "tu|tus|su|sus|your|sua|seu|suas|seus|estés|estás|está|esté|eres|es|are|re|were|is|tiene|"
    "tienes|tenga|tengas|has|have|tem|tenha|ficou|estar|estando|sido|been"
)
_add(
    "health_personal",
    [f"{_SECOND_PERSON} ?muy|very|so|muito|bastante|un|una|a|an|uma|la|el|o {_HEALTH}"],
)

_DEBT = "deuda|deudas|adeudo|adeudos|debt|debts|dívida|dívidas|divida|dividas"
_RELATION = (
    "novio|novia|prima|primo|madre|mamá|padre|papá|hermano|hermana|esposo|esposa|pareja|"
    "amigo|amiga|hijo|hija|familiar|familiares|vecino|vecina|tío|tía|abuelo|abuela|jefe|"
    "boyfriend|girlfriend|partner|husband|wife|mother|mom|mum|father|dad|brother|sister|cousin|"
    "friend|son|daughter|relative|neighbour|neighbor|"
    "namorado|namorada|mãe|pai|irmão|irmã|marido|esposa|filho|filha|parente|vizinho|vizinha|"
    "amigo|amiga|primo|prima"
)
_add("debt", [_DEBT, "owe|owes|owed|owing", "cuánto|cuanto debe|deben", "how much ?he|she owes"])
_add(
    "debt_third_party",
    [
        f"{_DEBT} de|del|da|do|of ?tu|su|your|sua|seu|la|el|a|o|his|her {_RELATION}",
        f"{_DEBT} de|del|da|do ?tu|su|sua|seu|la|el|a|o _ de|del|da|do ?tu|su|sua|seu {_RELATION}",
        "otras|outras|other deudas|dívidas|debts",
        "deudas|debts|dívidas con|with|com otros|otras|other|outros|outras",
        "debts to other|others",
        f"{_RELATION} s debt|debts",
        "cuánto|cuanto debe|debía",
    ],
)

# --- register ---------------------------------------------------------------------------------

# Spanish imperatives with an attached pronoun: for -ar verbs the tú form ends in a- and the
# usted form in e- (llámanos / llámenos); for -er/-ir verbs the other way round
# (escríbenos / escríbanos).
_AR_STEMS = _words(
    "llám contáct avís indíc cuént enví mánd confírm visít déj ayúd revís comuníc acérc pás "
    "hábl us busc consúlt pág reclám solicít actualíz cámbi actív prográm trámit guárd "
    "verifíqu verific intént trát escúch explíc perdón disculp comprób rellén complét "
    "adjúnt"
)
# Irregular stems (pong, teng, hag, dig) give only the usted form (póngase, téngalo); their tú
# forms (ponte, tenlo, hazlo, dime) are listed with the other tú words.
_ER_STEMS = _words("escrib respónd compárt sig abr pid recib decid elij pong teng hag dig permít")
_CLITICS = ("nos", "me", "lo", "la", "los", "las", "le", "les", "nosla", "noslo")


def _enclitic(stems: list[str], tu_vowel: str, usted_vowel: str) -> tuple[list[str], list[str]]:
    tu, usted = [], []
    for stem in stems:
        for clitic in _CLITICS:
            tu.append(stem + tu_vowel + clitic)
            usted.append(stem + usted_vowel + clitic)
    return tu, usted


_ar_tu, _ar_usted = _enclitic(_AR_STEMS, "a", "e")
_er_tu, _er_usted = _enclitic(_ER_STEMS, "e", "a")

_ES_TU_VERBS = (
    "tienes puedes quieres debes necesitas deseas prefieres sabes eres =estás vas haces pagas "
    "recibes ves sigues entiendes recuerdas escribes pides "
    "consumes contratas vives hablas eliges decides tengas puedas quieras necesites "
    "prefieras hayas debas seas =estés vayas hagas pagues recibas uses sigas elijas decidas "
    "podrás tendrás recibirás verás deberás sabrás podrías tendrías deberías querrías "
    "habías hubieras fueras estuvieras pudieras quisieras pagaras "
    "tenés podés querés sos necesitás hacés pagás sabés preferís recibís vos contigo tuyo tuya "
    "tuyos tuyas tú tu tus te "
    "escríbenos llámanos dinos dime hazlo ponte comunícate dirígete acércate regístrate "
    "identifícate cuéntame avísame mándame síguenos tenlo"
)
_ES_USTED_STRONG = (
    "usted disculpe perdone discúlpenos perdónenos comuníquese diríjase póngase acérquese "
    "regístrese identifíquese despreocúpese quédese asegúrese fíjese díganos dígame hágalo "
    "escríbanos llámenos"
)

_add("es_tu", _words(_ES_TU_VERBS) + _ar_tu + _er_tu)
_add("es_usted", _words(_ES_USTED_STRONG) + _ar_usted + _er_usted)
# Commands at the start of a sentence or clause ("Llame al...", "o llama al...").
_add(
    "es_tu",
    _words(
        "llama escribe revisa recuerda consulta pide abre elige acude pon ven haz indica "
        "contacta envía solicita presenta comprueba verifica utiliza accede descarga "
        "reclama mira entra ingresa habla paga mándanos"
    ),
    where="O",
)
# Verbs that are also plural nouns (las cuentas, sin esperas): not after a determiner.
_add(
    "es_tu",
    _words("cuentas esperas llamas pagas gastas buscas usas"),
    not_after=_words(
        "las los de sin con sus tus unas unos mis nuestras dos tres y o en a por para"
    ),
)
_add(
    "es_usted",
    _words(
        "llame escriba revise recuerde consulte pida abra elija acuda tenga ponga venga haga "
        "diga indique contacte envíe solicite presente compruebe verifique utilice marque "
        "acceda descargue visite reclame mire ingrese hable pague"
    ),
    where="C",
)
_add("es_tu", ["ten en cuenta"], where="O")
_add("es_usted", ["¿ desea|quiere|puede|necesita|prefiere|tiene|le|podría|querría|sabe"])
_add("es_usted", ["si ?lo desea|prefiere", "cuando|como lo desee|prefiera"])
_add(
    "es_usted",
    [
        "le paso|comunico|transfiero|ayudo|informo|confirmo|recomiendo|recomendamos|pedimos|"
        "ofrecemos|enviamos|escribimos|llamamos|agradecemos|rogamos|recordamos|sugerimos|"
        "escribo|aviso|explico|indico|damos|doy|dejo|mando|mandamos|deseamos|garantizo|"
        "garantizamos|atiendo|atendemos|facilitamos|facilito|devolvemos|devolveremos|"
        "abonaremos|contactaremos|llamaremos|ayudamos|informamos|confirmamos|indicamos|"
        "explicamos|aseguramos|aseguro|pido|ofrezco|envío|transferimos|comunicamos|derivo|"
        "derivamos|contactará|llamará|escribirá|dará|atenderá|responderá|facilitará|ayudará|"
        "informará|enviará|devolverá|abonará|confirmará|indicará|explicará|compensaremos|"
        "compensamos",
    ],
)
_add(
    "es_usted",
    [
        "no se preocupe|moleste|inquiete",
        "tiene|lleva ?toda ?la razón",
        "se lo|la|los|las programo|activo|envío|paso|tramito|cambio|reviso|confirmo|explico|"
        "mando|doy|aplico|gestiono|dejo|enviamos|activamos|programamos|tramitamos|cambiamos|"
        "mandamos|damos|aplicamos|gestionamos|dejamos|explicamos|confirmamos|devolvemos|"
        "reembolsamos|reenviamos",
    ],
)
# "has" is also English: only as the Spanish auxiliary, before a participle.
_add("es_tu", ["has|habías *ado|*ido|*to|*cho|*sto|*sido"])
_add("es_tu", ["no te preocupes|molestes", "tienes|llevas ?toda ?la razón"])
_add("es_tu", _words("perdona perdóname perdónanos discúlpame discúlpanos"))
_add("es_tu", ["disculpa la|el|las|los|que|por"], where="S")
_add("es_usted", ["su|sus|le"], weight=1)
_add(
    "es_usted",
    ["podrá|tendrá|recibirá|deberá|puede|tiene|debe|necesita|desea|prefiere", "está a tiempo"],
    weight=1,
    where="C",
)
_add("es_usted", ["si puede|tiene|necesita|quiere|paga|recibe|ve"], weight=1)

# Portuguese
_add("pt_informal", ["vc|tu|teu|tua|teus|tuas|contigo|te"])
# "você" is the neutral address of Brazilian Portuguese, formal letters included: weak
# evidence of informality only (three of them with no "o senhor" are still informal).
_add("pt_informal", ["você|voce"], weight=1)
# Second-person singular verbs, the European Portuguese "tu" ("tens direito", "estás a 5 km",
# "podes pedir"): unambiguous forms only ("liga" is also "he calls").
_PT_TU_VERBS = (
    "tens =estás podes queres sabes vais deves precisas consegues fazes ficas vês recebes "
    "pagaste recebeste fizeste pediste"
)
_add("pt_informal", _words(_PT_TU_VERBS))
_add("pt_informal", _words("oi beleza valeu blz kkk kkkk rsrs galera pra né tá"))
_add("pt_formal", ["o|a|os|as senhor|senhora|senhores|senhoras", "vossa senhoria|excelência"])

# Portuguese forms of address, for an answer that mixes them when no register is expected:
# "tu" forms (not "te", which Brazilian Portuguese uses with "você"), "você" forms, and "o
# senhor"/"a senhora".
_add("pt_tu", ["tu|teu|tua|teus|tuas|contigo"])
_add("pt_tu", _words(_PT_TU_VERBS))
_add("pt_voce", ["você|voce|vc|vocês|voces"])

# English
_add(
    "en_informal",
    [
        *_words(
            "hey hiya yo gonna wanna gotta kinda sorta dunno yeah yep yup nope nah lol omg btw "
            "thx thanx pls plz ur cuz coz awesome guys folks mate buddy dude"
        ),
        "no worries|probs|prob",
        "y all",
        "ain t",
        "u can|will|need|have|are",
    ],
)
_add(
    "en_formal",
    [
        "dear sir|madam or|and|sir|madam",
        "yours faithfully",
        "hereby|herewith|pursuant|aforementioned|heretofore",
        "please|kindly be advised",
    ],
)

# Which categories mean "informal" / "formal" for each language.
_REGISTER_SIDES: dict[str, tuple[str, str]] = {
    # language: (category of informal markers, category of formal markers)
    "es": ("es_tu", "es_usted"),
    "pt": ("pt_informal", "pt_formal"),
    "en": ("en_informal", "en_formal"),
}
_WANTS_INFORMAL = {"tu": True, "informal": True, "usted": False, "formal": False}

# Words that end like a tú verb but are not one.
_NOT_TU_VERB = frozenset(
    _words(
        "existe insiste consiste resiste asiste desiste persiste subsiste triste contraste "
        "desgaste baste gaste chiste quiste alpiste despiste embiste viste "
        "además después través interés inglés estrés revés francés japonés portugués cortés "
        "jamás quizás demás atrás detrás compás país anís maíz raíz adiós semestrás "
        "más mes marqués ciprés exprés"
    )
)


@dataclass
class _Scan:
    tokens: _Tokens
    hits: dict[str, list[_Hit]] = field(default_factory=dict)

    def span(self, hit: _Hit) -> Span:
        return self.tokens.span(hit[0], hit[1])


def _matches(tok: str, element: Element) -> bool:
    kind, arg = element
    if kind == "word":
        return tok in arg  # type: ignore[operator]
    if not tok[0].isalnum():
        return False
    if kind == "any":
        return True
    if kind == "prefix":
        return tok.startswith(arg)  # type: ignore[arg-type]
    return tok.endswith(arg)  # type: ignore[arg-type]


def _phrase_at(toks: list[str], i: int, rule: _Rule) -> tuple[int, int] | None:
    """(first, last) token of the phrase whose anchor is token `i`, or None."""
    first = i
    for element in rule.before:
        first -= 1
        if first < 0 or not _matches(toks[first], element):
            return None
    last = i
    n = len(toks)
    for element in rule.after:
        last += 1
        if last >= n or not _matches(toks[last], element):
            return None
    prev = toks[first - 1] if first else "."
    where = rule.where
    if where:
        if where == "S":
            ok = prev[0] in _SENTENCE_MARKS
        elif where == "C":
            ok = prev[0] in _CLAUSE_MARKS
        else:
            ok = prev[0] in _SENTENCE_MARKS or prev in _CLAUSE_WORDS
        if not ok:
            return None
    if rule.not_after and prev in rule.not_after:
        return None
    return first, last


@lru_cache(maxsize=64)
def _index_for(categories: frozenset[str]) -> tuple[dict[str, list[_Rule]], frozenset[str]]:
    """The phrase index restricted to the categories a case needs, and its keys."""
    index: dict[str, list[_Rule]] = {}
    for key, rules in _INDEX.items():
        kept = [r for r in rules if r.category in categories]
        if kept:
            index[key] = kept
    return index, frozenset(index)


# Second person singular endings (only looked for when usted is expected): preterite -aste/-iste
# (pagaste, recibiste), future -rás (podrás) and, where vos is used, -ás/-és/-ís (tenés).
_TU_ENDINGS = ("aste", "iste", "rás")
_VOS_ENDINGS = (*_TU_ENDINGS, "ás", "és", "ís")


def _scan(text: str, categories: frozenset[str], spanish_verbs: bool, voseo: bool) -> _Scan:
    tokens = _Tokens(text)
    toks = tokens.toks
    index, keys = _index_for(categories)
    by_first: dict[str, dict[int, _Hit]] = {}  # one hit per category and first token
    # Positions of the tokens that anchor a phrase, found at C speed.
    for i in compress(range(len(toks)), map(keys.__contains__, toks)):
        for rule in index[toks[i]]:
            if rule.trivial:
                hit = (i, i, rule.weight)
            else:
                found = _phrase_at(toks, i, rule)
                if found is None:
                    continue
                hit = (found[0], found[1], rule.weight)
            listed = by_first.setdefault(rule.category, {})
            known = listed.get(hit[0])
            # keep the strongest, then the longest, phrase starting at a token
            if known is None or (hit[2], hit[1]) > (known[2], known[1]):
                listed[hit[0]] = hit
    if spanish_verbs:
        endings = _VOS_ENDINGS if voseo else _TU_ENDINGS
        flat = tokens.flat + " "
        if any(f"{e} " in flat for e in endings):
            for i in [i for i, t in enumerate(toks) if t.endswith(endings)]:
                tok = toks[i]
                long_enough = len(tok) >= (6 if tok.endswith(("aste", "iste")) else 5)
                if long_enough and tok not in _NOT_TU_VERB:
                    by_first.setdefault("es_tu", {}).setdefault(i, (i, i, 2))
    hits = {category: sorted(found.values()) for category, found in by_first.items()}
    if "blame" in hits:
        hits["blame"] = [
            h for h in hits["blame"] if not _negated(toks, h[0]) and not _apology_for(toks, h[0])
        ]
    return _Scan(tokens, hits)


_APOLOGY_WORDS = frozenset(
    _words("disculpas disculpa disculpe perdón perdon perdone perdona siento lamento lamentamos")
    + _words("sentimos desculpe desculpa desculpas lamentamos sorry apologise apologize")
)


def _apology_for(toks: list[str], first: int) -> bool:
    """'Le pido disculpas por las molestias y por no haber respondido': a 'por no haber...'
    after an apology in the same sentence is what the company apologises for."""
    if toks[first] != "por":
        return False
    for t in reversed(toks[:first]):
        if t == ".":
            return False
        if t in _APOLOGY_WORDS:
            return True
    return False


_NEGATORS = frozenset({"no", "not", "não", "nao", "nunca", "never", "ni", "nem", "nada", "t"})


def _negated(toks: list[str], first: int) -> bool:
    """'No es tu culpa', "it isn't your fault": a blame phrase under a negation (within three
    words before it, in the same clause: "No, debiste reclamar antes" is still blame)."""
    for t in reversed(toks[max(0, first - 3) : first]):
        if not t[0].isalnum():
            return False
        if t in _NEGATORS:
            return True
    return False


# Function words that tell the three languages apart, to know whether a sentence is written in
# the case's language at all (register markers mean nothing in another language). Each word
# belongs to one language only (no "está", "para", "que", nor English look-alikes such as
# "as" or "do").
_FUNCTION_WORDS: dict[str, str] = {
    **dict.fromkeys(
        _words(
            "el los del al y con una unos unas es pero muy hay también ustedes hoy días día "
            "nuestro nuestra nuestros puede pueden tiene tienen este esto eso esa ese cuando "
            "ya aquí ahora después todavía hasta sin gracias más sí"
        ),
        "es",
    ),
    **dict.fromkeys(
        _words(
            "você vocês não é são ao aos às até em com um uma uns umas seu sua seus suas pelo "
            "pela pelos pelas isso isto essa esse nós nossa nosso dessa desse muito muita "
            "obrigado obrigada quando já há ainda agora então mas depois aqui foi fica ficam "
            "pode podem tem vai vamos faz dias hoje sem mais"
        ),
        "pt",
    ),
    **dict.fromkeys(
        _words(
            "the and to of you your is we for with in our are be it this that can will please "
            "would should have"
        ),
        "en",
    ),
}
# Which other languages can hide a register marker. The two Romance languages share marker
# words (te, tu, abra, consulte...); English shares none with them, so English text (such as
# an instruction appended to an answer) never decides a Spanish or Portuguese verdict.
_RIVALS = {"es": ("pt",), "pt": ("es",), "en": ("es", "pt")}


def _language_gate(toks: list[str], language: str) -> Callable[[int], bool]:
    """A test of whether token `i` stands in text written in `language`. Its sentence decides
    when it has two or more telling words (more of a rival language's than twice the case
    language's); otherwise the whole answer does, by its rival-language words alone (three or
    more), so that appending text in the case's language cannot change the decision."""
    rivals = _RIVALS.get(language, ())
    ends = [i for i, t in enumerate(toks) if t[0] in _SENTENCE_MARKS]
    verdicts: dict[int, bool] = {}  # sentence number -> written in `language`
    whole: list[bool] = []

    def in_language(i: int) -> bool:
        k = bisect_right(ends, i)
        if k in verdicts:
            return verdicts[k]
        start = ends[k - 1] + 1 if k else 0
        end = ends[k] if k < len(ends) else len(toks)
        counts = Counter(map(_FUNCTION_WORDS.get, toks[start:end]))
        own = counts.get(language, 0)
        other = max((counts.get(r, 0) for r in rivals), default=0)
        if own + other >= 2:
            verdicts[k] = not (other >= 2 and other > 2 * own)
        else:
            if not whole:
                counts = Counter(map(_FUNCTION_WORDS.get, toks))
                whole.append(max((counts.get(r, 0) for r in rivals), default=0) < 3)
            verdicts[k] = whole[0]
        return verdicts[k]

    return in_language


# --- findings ---------------------------------------------------------------------------------


def _finding(
    code: str,
    severity: Severity,
    message: str,
    span: Span | None,
    checked_against: str | None,
    note: str | None,
    source: str | None = None,
) -> Finding:
    return Finding(
        guardrail=GUARDRAIL,
        code=f"{GUARDRAIL}.{code}",
        severity=severity,
        message=message,
        evidence=Evidence(span=span, checked_against=checked_against, source=source, note=note),
    )


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# repetition


def _repetition(tokens: _Tokens) -> list[Finding]:
    """A cheap pass on the space-separated tokens; the precise one (with offsets, on the same
    chunks and words) runs only if the cheap one finds a repeated sentence. A chunk is what
    lies between two sentence ends; its words are all its tokens."""
    # Chunks with at least four spaces (so possibly five words); identical sentences give
    # identical chunk strings, so an exact repeat is a repeated string.
    chunks = [c for c in (c.strip() for c in tokens.flat.split(" . ")) if c.count(" ") >= 4]
    if len(chunks) < 2:
        return []
    if (
        len(set(chunks)) == len(chunks)
        and not _near_duplicates(chunks)
        and not _contained(chunks)
        and not _restated(chunks)
    ):
        return []
    return _repetition_findings(tokens)


#: A sentence this long (distinct words) whose words are this much inside another sentence
#: restates it ("Tu reembolso de MXN 1,249.00 ya está listo." after "Tu reembolso de MXN
#: 1,249.00 del pedido MC-3310-0872 ya está listo.").
RESTATED_MIN_WORDS = 7
RESTATED_SHARE = 0.8


def _restated(chunks: list[str]) -> bool:
    sets = [w for w in (frozenset(c.split()) for c in chunks[:300]) if len(w) >= RESTATED_MIN_WORDS]
    return any(_restates(a, b) for i, a in enumerate(sets) for b in sets[i + 1 :])


def _restates(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether the smaller of two sentences has 80% of its distinct words in the other, and
    they do not differ in a number (two phone lines, two prices)."""
    small = min(len(a), len(b))
    if small < RESTATED_MIN_WORDS:
        return False
    if len(a & b) / small < RESTATED_SHARE:
        return False  # (the cheap test first: most pairs share few words)
    return not (_has_number(a - b) and _has_number(b - a))


def _contained(chunks: list[str]) -> bool:
    """Whether a whole sentence comes back inside a longer one ("A Velmora não cobra juros."
    and later "A Velmora não cobra juros, e nada é somado por dia.")."""
    padded = [f" {c} " for c in chunks[:300]]
    return any(a != b and a in b for a in padded for b in padded if len(a) < len(b))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def _near_duplicates(chunks: list[str]) -> bool:
    """Whether two chunks share 80% of their distinct words. Only chunks with a similar number
    of distinct words can, so chunks are compared in order of size within that window."""
    sets = sorted((frozenset(c.split()) for c in chunks[:300]), key=len)
    for j in range(1, len(sets)):
        b = sets[j]
        size_b = len(b)
        for i in range(j - 1, -1, -1):
            a = sets[i]
            size_a = len(a)
            if size_a < 0.8 * size_b:
                break
            # `_overlap(a, b) >= 0.8`, inlined: this is the hot loop of the repetition check
            if size_a >= 5 and (common := len(a & b)) / (size_a + size_b - common) >= 0.8:
                return True
    return False


def _with_end_mark(tokens: _Tokens, first: int, last: int) -> Span:
    """The span of a sentence's words and the punctuation that ends it."""
    span = tokens.span(first, last)
    text, end = tokens.text, span.end
    while end < len(text) and text[end] in ".!?…":
        end += 1
    return Span(start=span.start, end=end, text=text[span.start : end])


def _has_number(words: frozenset[str]) -> bool:
    return any(w[0].isdigit() for w in words)


def _inside(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one sentence's words come back, in order and together, inside the other."""
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if len(short) == len(long):
        return False
    n = len(short)
    return any(long[k : k + n] == short for k in range(len(long) - n + 1))


def _repetition_findings(tokens: _Tokens) -> list[Finding]:
    toks = tokens.toks
    chunks: list[tuple[int, int, tuple[str, ...]]] = []  # first token, last token, words
    first, words = -1, list[str]()
    for i, tok in enumerate(toks):
        if tok == ".":
            if words:
                chunks.append((first, i - 1, tuple(words)))
            first, words = -1, list[str]()
        else:
            if first < 0:
                first = i
            words.append(tok)
    if words:
        chunks.append((first, len(toks) - 1, tuple(words)))
    chunks = [c for c in chunks if len(c[2]) >= 5][:300]
    sets = [frozenset(c[2]) for c in chunks]
    findings = []
    for j in range(1, len(chunks)):
        b = sets[j]
        for i in range(j):
            exact = chunks[i][2] == chunks[j][2]
            a = sets[i]
            overlap = _overlap(a, b)
            # Sentences with a different number on each side state different facts ("call
            # 900 100 200" / "call 900 100 300"): only an exact repeat counts then.
            inside = _inside(chunks[i][2], chunks[j][2]) or _restates(a, b)
            if (
                exact
                or inside
                or (overlap >= 0.8 and not (_has_number(a - b) and _has_number(b - a)))
            ):
                relation = (
                    "same words as"
                    if exact
                    else "inside or around"
                    if inside
                    else f"{overlap:.0%} word overlap with"
                )
                span = _with_end_mark(tokens, chunks[j][0], chunks[j][1])
                earlier = _with_end_mark(tokens, chunks[i][0], chunks[i][1])
                findings.append(
                    _finding(
                        "repetition",
                        "major",
                        f"The answer repeats a sentence{'' if exact else ' almost word for word'}:"
                        f' "{_quote(span.text)}".',
                        span,
                        earlier.text,
                        f"{relation} the sentence at character {earlier.start}",
                    )
                )
                break
    return findings


# length

_COUNTED = re.compile(r"\S*[^\W_]\S*")
# A group of a number written in groups: "+52", "55", "4170", "(11)", "2020," (a group may end
# in punctuation, which then ends the number).
_DIGIT_GROUP = re.compile(r"\+?\(?\d+\)?([.,;:)]*)")


def count_words(text: str) -> list[tuple[int, int]]:
    """The words of `text` as a person counts them, as (start, end) offsets: whitespace-separated
    items with a letter or digit in them; a number written in groups separated by single spaces
    (a phone number, "1 250") is one word."""
    spans: list[tuple[int, int]] = []
    open_group = False  # the previous item is a digit group that the next one may continue
    for m in _COUNTED.finditer(text):
        start, end = m.span()
        word = m.group(0)
        # (a digit group starts with "+", "(" or a digit: most words are not tried)
        group = _DIGIT_GROUP.fullmatch(word) if word[0] in "+(" or word[0].isdigit() else None
        if group and open_group and text[spans[-1][1] : start] in (" ", "\u00a0"):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        open_group = group is not None and not group.group(1)
    return spans


def _length(case: Case, text: str, toks: list[str]) -> list[Finding]:
    budget = case.expect.max_words
    # Tokens, then whitespace-separated items, are upper bounds of the words a person counts.
    if budget is None or len(toks) <= budget or len(text.split()) <= budget:
        return []
    spans = count_words(text)
    n = len(spans)
    if n <= budget:
        return []
    severity: Severity = "major" if n > budget * 1.1 else "minor"
    start = spans[budget][0]
    end = spans[-1][1]
    over = text[start:end]
    return [
        _finding(
            "length",
            severity,
            f"The answer has {n} words, {n - budget} over its budget of {budget}; "
            f'the part over budget starts at "{_quote(over, 60)}".',
            Span(start=start, end=end, text=over),
            f"expect.max_words: {budget}",
            "words counted as a person would (a phone number counts once); "
            + ("more than 10% over budget" if severity == "major" else "up to 10% over budget"),
            source="expect.max_words",
        )
    ]


# register


def _register(case: Case, scan: _Scan) -> list[Finding]:
    wanted = case.expect.register_
    if wanted is None:
        return []
    language = case.language.split("-")[0].lower()
    sides = _REGISTER_SIDES.get(language)
    if sides is None:
        return []
    informal, formal = sides
    wants_informal = _WANTS_INFORMAL[wanted]
    wrong_cat, right_cat = (formal, informal) if wants_informal else (informal, formal)
    wrong = scan.hits.get(wrong_cat, [])
    if not wrong:
        return []
    # Markers count only in sentences written in the case's language: a sentence in another
    # language (a quoted text, an answer in the wrong language) says nothing about register.
    in_language = _language_gate(scan.tokens.toks, language)
    wrong = [h for h in wrong if in_language(h[0])]
    right = [h for h in scan.hits.get(right_cat, []) if in_language(h[0])]
    if not wrong:
        return []
    wrong_total = sum(h[2] for h in wrong)
    right_total = sum(h[2] for h in right)
    strong = [h for h in wrong if h[2] >= 2]
    severity: Severity
    if (strong and wrong_total >= right_total) or (wrong_total >= 3 and right_total == 0):
        severity = "major"
    elif strong:
        severity = "minor"
    else:
        return []
    shown = strong or wrong
    spans = [scan.span(h) for h in shown]
    quoted = ", ".join(f'"{s.text}"' for s in _unique(spans)[:4])
    names = {
        "es": ("tú", "usted"),
        "pt": ("informal", "formal"),
        "en": ("informal", "formal"),
    }[language]
    used, expected = (names[1], names[0]) if wants_informal else (names[0], names[1])
    return [
        _finding(
            "register",
            severity,
            f"The answer uses the {used} register ({quoted}) where the case expects {expected}.",
            spans[0],
            f"expect.register: {wanted} ({case.language})",
            f"{used} markers weigh {wrong_total}, {expected} markers weigh {right_total}"
            + ("" if severity == "major" else "; the expected register dominates, mixed answer"),
            source="expect.register",
        )
    ]


# Forms of address that must not be mixed within one answer, whatever the case expects: a
# register expected is checked by `_register`; without one, mixing is itself the fault.
_MIXED_SIDES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    # language: (category, its name, the other category, its name)
    "es": (("es_tu", "tú", "es_usted", "usted"),),
    "pt": (
        ("pt_tu", "tu", "pt_voce", "você"),
        ("pt_tu", "tu", "pt_formal", "o senhor / a senhora"),
        ("pt_voce", "você", "pt_formal", "o senhor / a senhora"),
    ),
}


def _mixed_register(case: Case, scan: _Scan) -> list[Finding]:
    """Without an expected register, an answer that addresses the customer in two (tú and
    usted; tu and você) is inconsistent: clear markers of both, in the case's language."""
    if case.expect.register_ is not None:
        return []
    language = case.language.split("-")[0].lower()
    pairs = _MIXED_SIDES.get(language, ())
    if not pairs:
        return []
    in_language: Callable[[int], bool] | None = None
    for one, one_name, other, other_name in pairs:
        first_hits = [h for h in scan.hits.get(one, []) if h[2] >= 2]
        second_hits = [h for h in scan.hits.get(other, []) if h[2] >= 2]
        if not first_hits or not second_hits:
            continue
        if in_language is None:
            in_language = _language_gate(scan.tokens.toks, language)
        toks = scan.tokens.toks
        first_hits = [h for h in first_hits if in_language(h[0]) and not _doubled(toks, h)]
        second_hits = [h for h in second_hits if in_language(h[0]) and not _doubled(toks, h)]
        if not first_hits or not second_hits:
            continue
        # the span is the form that came second: where the answer switched
        a, b = scan.span(first_hits[0]), scan.span(second_hits[0])
        shown, switched_from, switched_to = (
            (b, one_name, other_name)
            if a.start < b.start
            else (
                a,
                other_name,
                one_name,
            )
        )
        first = a if shown is b else b
        return [
            _finding(
                "register",
                "major",
                f"The answer mixes registers: it addresses the customer as {switched_from} "
                f'("{first.text}") and as {switched_to} ("{shown.text}").',
                shown,
                f"one register throughout ({case.language}; no register expected)",
                f"{len(first_hits) if first is a else len(second_hits)} {switched_from} "
                f"marker(s) and {len(second_hits) if first is a else len(first_hits)} "
                f"{switched_to} marker(s) in the same answer",
                source="case.language",
            )
        ]
    return []


def _doubled(toks: list[str], hit: _Hit) -> bool:
    """A "le"/"les" whose person is named just after ("el asesor le explicará a tu papá"):
    third person, not a way of addressing the customer."""
    if toks[hit[0]] not in ("le", "les"):
        return False
    after = toks[hit[1] + 1 : hit[1] + 5]
    return any(
        t == "a" and i + 1 < len(after) and after[i + 1] not in ("usted", "ustedes")
        for i, t in enumerate(after)
    )


def _unique(spans: list[Span]) -> list[Span]:
    seen: set[str] = set()
    out = []
    for s in spans:
        key = s.text.lower()
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


# greeting

_BROADCAST_TAGS = frozenset({"broadcast", "announcement", "public_statement", "mass"})


def _greeting(case: Case, scan: _Scan) -> list[Finding]:
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
                _finding(
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


# hashtags and emoji

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


def _hashtags_emoji(case: Case, text: str) -> list[Finding]:
    out = []
    no_hashtags, why_h = _hashtags_forbidden(case)
    if no_hashtags and "#" in text:
        for m in _HASHTAG.finditer(text):
            out.append(
                _finding(
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
                _finding(
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


# sensitive attributes

# attribute name in expect.avoid_mentioning -> categories that detect it
_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "follower_count": ("follower_count",),
    "followers": ("follower_count",),
    "audience": ("follower_count",),
    "audience_size": ("follower_count",),
    "health": ("health", "health_personal"),
    "medical": ("health", "health_personal"),
    "medical_condition": ("health", "health_personal"),
    "disability": ("health", "health_personal"),
    "pregnancy": ("health", "health_personal"),
    "debt": ("debt", "debt_third_party"),
    "debts": ("debt", "debt_third_party"),
}
_ALWAYS = {
    "follower_count": "the customer's follower count or audience size",
    "health_personal": "the customer's health",
    "debt_third_party": "debts to or of third parties",
}
_LABEL = {
    "follower_count": "follower count / audience size",
    "health": "health",
    "health_personal": "health",
    "debt": "debt",
    "debt_third_party": "third-party debt",
}
_NUMBER_SUFFIX = re.compile(
    r"(?<![\w.,])(\d+(?:[.,]\d+)*)(?:\s?(k|m|mil|million|millones|milhões)\b)?",
    re.IGNORECASE,
)


@lru_cache(maxsize=256)
def _sensitive_plan(
    avoid: tuple[str, ...],
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, re.Pattern[str]], ...]]:
    """What to look for given `expect.avoid_mentioning`: (category, reason) pairs for the
    attributes with a lexicon, and a literal pattern for any other attribute name."""
    names = [a.strip().lower() for a in avoid]
    wanted: dict[str, str] = {}
    for name in names:
        for category in _ATTRIBUTES.get(name, ()):
            wanted.setdefault(category, f"expect.avoid_mentioning: {name}")
    for category, what in _ALWAYS.items():
        wanted.setdefault(category, f"always: never mention {what}")
    literal = tuple(
        (
            name,
            re.compile(
                r"\b" + r"[\s_-]+".join(re.escape(w) for w in re.split(r"[\s_-]+", name)) + r"\b"
            ),
        )
        for name in names
        if name and name not in _ATTRIBUTES
    )
    return tuple(wanted.items()), literal


def _sensitive(case: Case, scan: _Scan) -> list[Finding]:
    wanted, literal = _sensitive_plan(tuple(case.expect.avoid_mentioning))
    out = []
    covered: set[int] = set()  # tokens already reported, so one mention gives one finding
    hits = scan.hits
    raised: frozenset[str] | None = None
    for category, reason in wanted:
        for hit in hits.get(category, ()):
            tokens = range(hit[0], hit[1] + 1)
            if covered.intersection(tokens):
                continue
            if category in _ECHOED and not reason.startswith("expect"):
                # the customer's own words ("I was in hospital"): answering them with
                # sympathy ("sorry to hear about your surgery") brings nothing up
                raised = _customer_words(case) if raised is None else raised
                if _said_before(scan.tokens.toks[hit[1]], raised):
                    continue
            covered.update(tokens)
            out.append(_sensitive_finding(case, category, scan.span(hit), reason))
    for name, pattern in literal:
        m = pattern.search(scan.tokens.low)
        if m:
            span = Span(start=m.start(), end=m.end(), text=scan.tokens.text[m.start() : m.end()])
            out.append(_sensitive_finding(case, name, span, f"expect.avoid_mentioning: {name}"))
    if "follower_count" in case.facts:
        out.extend(_follower_number(case, scan.tokens.text))
    return out


# Attributes the customer may raise themselves: the answer may acknowledge what they said.
_ECHOED = frozenset({"health_personal"})
_LETTERS = re.compile(r"[^\W\d_]+")


def _customer_words(case: Case) -> frozenset[str]:
    """The folded words of the customer's messages."""
    said = " ".join(m.content for m in case.messages if m.role == "user")
    return frozenset(_strip_accents(w) for w in _LETTERS.findall(said.lower()))


def _said_before(word: str, said: frozenset[str]) -> bool:
    """Whether the customer wrote this word, or one of its family (internado / internação,
    hospital / hospitalised): the same first five letters."""
    folded = _strip_accents(word)
    return folded in said or (len(folded) >= 5 and any(w.startswith(folded[:5]) for w in said))


def _sensitive_finding(case: Case, category: str, span: Span, reason: str) -> Finding:
    label = _LABEL.get(category, category)
    return _finding(
        "sensitive_attribute",
        "major",
        f'The answer mentions the customer\'s {label} ("{span.text}"), which it must not bring up.',
        span,
        reason,
        f"sensitive attribute: {label}",
        source="expect.avoid_mentioning" if reason.startswith("expect") else "tone policy",
    )


def _follower_number(case: Case, text: str) -> list[Finding]:
    """The follower count from the case's facts, written as a number (480000, 480K, 480 mil)."""
    raw = case.facts.get("follower_count")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return []
    try:
        value = float(str(raw).replace(",", "").replace("_", ""))
    except ValueError:
        return []
    if value < 1000:
        return []
    out = []
    for m in _NUMBER_SUFFIX.finditer(text):
        digits = m.group(1)
        suffix = (m.group(2) or "").lower()
        try:
            if suffix:
                number = float(digits.replace(",", "."))
                number *= 1000 if suffix in ("k", "mil") else 1_000_000
            else:
                number = float(digits.replace(",", "").replace(".", ""))
        except ValueError:
            continue
        if abs(number - value) <= max(1.0, value * 0.05):
            span = Span(start=m.start(), end=m.end(), text=m.group(0))
            out.append(_sensitive_finding(case, "follower_count", span, "facts.follower_count"))
    return out


# no apology


def _bereavement(case: Case) -> Need | None:
    """A death the customer reports, when the case does not say whether an apology is due:
    then words of sympathy are (an expect.apology of false switches this off)."""
    if "apology" in case.expect.model_fields_set:
        return None
    return reported(case, "bereavement")


def _no_apology(case: Case, scan: _Scan, bereaved: Need | None) -> list[Finding]:
    if not (case.expect.apology or bereaved) or scan.hits.get("apology"):
        return []
    if bereaved is not None and not case.expect.apology:
        why = f'the customer reports a death: "{bereaved.quote}"'
        message = f"The answer has no word of sympathy although {why}."
    else:
        why, message = "", "The answer contains no apology although this case requires one."
    return [
        _finding(
            "no_apology",
            "major",
            message,
            None,
            why or "expect.apology: true",
            "no apology phrase (sorry, apologise, lo siento, lamentamos, disculpa, perdón, "
            "pedimos desculpas, sinto muito, condolences, os nossos sentimentos...) anywhere "
            "in the answer",
            source="conversation" if why else "expect.apology",
        )
    ]


# blame


def _blame(scan: _Scan) -> list[Finding]:
    out = []
    last_end = -1
    for hit in scan.hits.get("blame", []):
        if hit[0] <= last_end:
            continue
        last_end = hit[1]
        span = scan.span(hit)
        out.append(
            _finding(
                "blame",
                "major",
                f'The answer blames the customer: "{span.text}".',
                span,
                "tone policy: never blame the customer",
                "assigns fault to the customer (what they should have done, their fault or "
                "responsibility)",
            )
        )
    return out


# --- the guardrail ----------------------------------------------------------------------------


def check_tone(case: Case, text: str) -> list[Finding]:
    """Every tone finding for one answer to one case."""
    expect = case.expect
    bereaved = _bereavement(case)
    categories, spanish_verbs, voseo = _plan(
        case.language, expect.register_, expect.apology or bereaved is not None
    )
    scan = _scan(text, categories, spanish_verbs, voseo)
    findings: list[Finding] = []
    findings += _repetition(scan.tokens)
    findings += _length(case, text, scan.tokens.toks)
    findings += _register(case, scan)
    findings += _mixed_register(case, scan)
    findings += _greeting(case, scan)
    findings += _hashtags_emoji(case, text)
    findings += _sensitive(case, scan)
    findings += _blame(scan)
    findings += _no_apology(case, scan, bereaved)
    return findings


@lru_cache(maxsize=256)
def _plan(tag: str, register: str | None, apology: bool) -> tuple[frozenset[str], bool, bool]:
    """The phrase categories a case needs, and whether to look for Spanish tú/vos endings."""
    language = tag.split("-")[0].lower()
    categories = set(_ALWAYS_SCANNED)
    if apology:
        categories.add("apology")
    if register is not None and language in _REGISTER_SIDES:
        categories.update(_REGISTER_SIDES[language])
    elif register is None:
        for pair in _MIXED_SIDES.get(language, ()):
            categories.update((pair[0], pair[2]))
    spanish_verbs = language == "es" and register in ("usted", "formal")
    return frozenset(categories), spanish_verbs, tag.lower() in _VOSEO


_ALWAYS_SCANNED = frozenset(
    {
        "blame",
        "greet_mass",
        "greet_generic",
        "follower_count",
        "health",
        "health_personal",
        "debt",
        "debt_third_party",
    }
)


#: Where "vos" forms (tenés, podés) are the usual informal address.
_VOSEO = frozenset({"es-ar", "es-uy", "es-py", "es-cr", "es-ni", "es-gt", "es-hn", "es-sv"})


@register(GUARDRAIL)
def tone_guardrail(context: GuardrailContext) -> Check:
    return check_tone
