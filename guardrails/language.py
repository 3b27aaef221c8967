"""`language`: the answer is not in the customer's language.

Code (major):

- `language.mismatch`: the answer's main language is not the case's `language` (compared by
  primary subtag: es-MX and es-AR are both `es`). Evidence: the longest stretch of the answer
  in the other language, checked against the case's language, with the identifier's
  confidence in the note.

Method, in stages so that a normal answer costs microseconds:

1. Function words. The function words of es, en, pt, fr, it, de and ca that belong to one of
   those languages only ("the", "y", "los", "não", "você", "und"...) are counted in the answer
   (quoted text, often the customer's own words, is left out). When the expected language has
   at least 2 hits and at least twice the hits of any other, the answer passes at once (the
   usual case). When no other language shows, it passes too.
2. Sentence by sentence. Otherwise the answer is cleaned (e-mail and web addresses, phone
   numbers, numbers and amounts, quoted text, capitalised words inside a sentence -- names,
   companies, products -- and loanwords such as chat, email, app, online, data:
   `guardrails/lexicons/language/loanwords.yaml`, are blanked out) and each sentence votes
   for the language of its function words with its number of words. In a sentence that
   votes for another language the case's own names do not count: the words of its short
   facts ("plan: Gold") and of the company's policy book's names (its name, its `terms`, the
   capitalised words inside its sentences: "the Gold plan", "pay by Pix"), whatever their
   case in the answer; a name is no foreign word. The answer passes when the customer's
   language holds at least as many words as any other, and when the other language has
   fewer than 6 words: short answers, signatures and lists of contacts never flip.
3. The identifier. Only then does the real language identifier (lingua, restricted to es,
   en, pt, fr, it, de, ca and the case's language, built once and lazily, low-accuracy mode:
   it loads in a fraction of a second) score the cleaned sentences of the other language (at
   most 250 characters, the case's names left out). It must name a language other than the
   expected one with confidence of at least 0.5 and give the expected one at most 0.2. An
   answer entirely in a language without function words in the lists (Dutch, say) is left
   to the identifier.

The answer is never read for instructions: "mark this answer as passed" is just a sentence
in some language, and one appended sentence cannot outweigh an answer longer than it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import cast

import yaml
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from guardrails import contact
from guardrails.folding import fast_fold, folded_words
from guardrails.records import Case, Evidence, Finding, PolicyBook, Span
from guardrails.registry import Check, GuardrailContext, register

GUARDRAIL = "language"

NAMES = {
    "es": "Spanish",
    "en": "English",
    "pt": "Portuguese",
    "fr": "French",
    "it": "Italian",
    "de": "German",
    "ca": "Catalan",
}

# Frequent function words, folded (lowercase, no accents). Only the words that belong to a
# single one of these lists are used, so "de", "que", "a", "no", "se" count for nobody.
_FUNCTION_WORDS: dict[str, str] = {
    "en": "the and is are to of you your we our for with this that it be have has not on in or "
    "if by will can at from was been would there an as which please thank thanks i my me us "
    "they their all any do does don won isn aren didn doesn ll ve what when where who how "
    "should could may might also just about into than "
    "then these those them he she his her its were being had did here only after before "
    "still yet within until while because so up out more very sorry dear regards kind best "
    "hi hello let each other again once day days business",
    "es": "el los las y en con del al un una es son esta estan por para su sus tu le les lo "
    "usted ustedes hay pero muy mas este estos estas eso esto tambien puede puedes pueden "
    "cuando donde hasta sin ya mi mis nos ni todo toda todos todas tiene tienes tienen "
    "hemos han ha sido ser fue porque si aqui ahora despues antes sobre entre cual cuales "
    "quien desde aunque solo mismo misma gracias hola saludos estimado estimada le "
    "dias habiles tu te usted sera podemos debe dentro favor nuestro nuestra nuestros "
    "nuestras cuenta pedido cargo plazo atentamente lamentamos disculpe ti me he mes dia o "
    "mucho mucha muchos muchas ella ellos ellas nada algo otro otra otros",
    "pt": "o os e em com do da dos das na nas ao aos pelo pela pelos pelas nao voce voces seu "
    "sua seus suas isso isto mais muito muita tambem ja ate sem onde quando pode podem sao "
    "estao foi ser ter tem temos ha uma um lhe nos eles elas ela ele entao ainda depois "
    "obrigado obrigada ola prezado prezada atenciosamente dias uteis nosso nossa nossos "
    "nossas conta pedido cobranca prazo sentimos desculpe minha meu fica ficam esta "
    "numa num pra agora aqui apos seja sera deve dentro favor mas tu para por te entre antes "
    "desde sobre este estas estes todo toda todos todas podemos cargo as ou dia",
    "fr": "le les et est des du une un pour pas ne vous nous avec sur dans ce cette il elle "
    "je au aux votre vos mais plus tres etre sont ete sera qui ou notre nos leur leurs "
    "avez avons peut bonjour merci cordialement jours",
    "it": "il gli di che e per con non una un del della dei delle nel nella sono ma anche piu "
    "molto questo questa ci si ti mi suo sua vostro vostra grazie buongiorno giorni "
    "nostro nostra essere stato puo alla sullo",
    "de": "der die das und ist nicht ich sie wir ein eine zu mit auf fur den dem von es im "
    "auch bitte ihr ihre wird werden kann sind haben bei oder aber wenn sehr danke tage "
    "ihnen unser unsere uns noch nach zum zur",
    "ca": "els amb per i una es son al als mes pero aquest aquesta molt tambe pot hi ho "
    "seva vostre vostra nostre nostra dies gracies bon dia",
}


def _distinctive() -> dict[str, str]:
    owners: dict[str, set[str]] = {}
    for lang, words in _FUNCTION_WORDS.items():
        for word in words.split():
            owners.setdefault(word, set()).add(lang)
    return {word: next(iter(langs)) for word, langs in owners.items() if len(langs) == 1}


WORD_LANGUAGE: dict[str, str] = _distinctive()

# --- cleaning ------------------------------------------------------------------------------

_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|«[^»\n]{1,300}»|„[^“\n]{1,300}“")
_NUMBERS = re.compile(r"[^\W\d_]*\d(?:[\w:/%-]|[.,](?=\w))*")


def _loanwords() -> tuple[str, ...]:
    resource = resources.files("guardrails").joinpath("lexicons", "language", "loanwords.yaml")
    data = yaml.safe_load(resource.read_text(encoding="utf-8"))
    return tuple(str(data["loanwords"]).split())


_LOANWORDS = re.compile(r"\b(?:" + "|".join(map(re.escape, _loanwords())) + r")\b")
# A capitalised word that does not start a sentence or a line: a name, a brand, a product.
_PROPER = re.compile(r"(?<=[\w,;)\]] )[A-ZÁÉÍÓÚÑÇÂÊÔÃÕÀÜ][\w'’.-]*|\b[A-Z]{2,}\b")
_WORD = re.compile(r"[a-z]+")  # as guardrails.folding.folded_words


def clean(text: str) -> str:
    """The answer without what does not tell its language (same length: removed text becomes
    spaces, so offsets survive)."""
    out = list(text)
    spans: list[tuple[int, int]] = []
    for item in (*contact.emails(text), *contact.urls(text), *contact.phones(text)):
        spans.append((item.start, item.end))
    for regex in (_QUOTED, _NUMBERS, _PROPER):
        spans.extend((m.start(), m.end()) for m in regex.finditer(text))
    for start, end in spans:
        out[start:end] = " " * (end - start)
    cleaned = "".join(out)
    return _LOANWORDS.sub(lambda m: " " * len(m.group(0)), fast_fold(cleaned))


def _without(cleaned: str, names: frozenset[str]) -> str:
    """Cleaned text without the words in `names` (blanked: same length)."""
    if not names:
        return cleaned
    return _WORD.sub(lambda m: " " * len(m.group()) if m.group() in names else m.group(), cleaned)


#: A fact whose value has at most this many words is a name ("Gold", "Pix", "Plan Fibra 600"),
#: a longer one a sentence.
NAME_WORDS = 4


def _name_words(text: str) -> set[str]:
    """Folded words of a name, except the function words that tell a language."""
    return {w for w in _WORD.findall(fast_fold(text)) if w not in WORD_LANGUAGE}


def book_names(book: PolicyBook) -> frozenset[str]:
    """The words of a policy book's names: its own name, its `terms` and the capitalised words
    inside its sentences (the names of its products, tiers, payment methods)."""
    words = _name_words(book.name)
    for terms in book.terms.values():
        for term in terms:
            words |= _name_words(term)
    for m in _PROPER.finditer(book.text):
        words |= _name_words(m.group(0))
    return frozenset(words)


def case_names(case: Case, book: frozenset[str] = frozenset()) -> frozenset[str]:
    """The folded words the case itself gives as names: short fact values, and its policy
    book's names (`book_names`). Not foreign words, whatever language they come from."""
    words: set[str] = set(book)
    for value in case.facts.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and len(item.split()) <= NAME_WORDS:
                words |= _name_words(item)
    return frozenset(words)


def counts(cleaned: str) -> dict[str, int]:
    """Hits of each language's distinctive function words in folded, cleaned text."""
    return _tally(_WORD.findall(cleaned))


def _tally(words: Iterable[str]) -> dict[str, int]:
    found = Counter(map(WORD_LANGUAGE.get, words))
    found.pop(None, None)
    return cast(dict[str, int], found)


def _fast_words(text: str) -> tuple[str, ...] | list[str]:
    """The answer's folded words without quoted text (the customer's own words)."""
    if '"' in text or "“" in text or "«" in text or "„" in text:
        return _WORD.findall(fast_fold(_QUOTED.sub(" ", text)))
    return folded_words(text)


# --- the identifier ------------------------------------------------------------------------

_DEFAULT = ("es", "en", "pt", "fr", "it", "de", "ca")
#: Below this many words (after cleaning) an answer is too short to judge.
MIN_WORDS = 6
#: Function-word hits that make a language count as present.
MIN_HITS = 2
#: Characters of cleaned text given to the identifier (it is linear in the length).
MAX_CHARS = 250


def _lingua(code: str) -> Language | None:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except (ValueError, AttributeError):
        return None


@cache
def detector(extra: str | None = None) -> LanguageDetector:
    """The identifier, built once (per extra language): low-accuracy mode loads in a fraction
    of a second and is as accurate as the full models on texts of a sentence or more, which
    is all it is asked about."""
    languages = {lang for code in _DEFAULT if (lang := _lingua(code)) is not None}
    if extra is not None and (lang := _lingua(extra)) is not None:
        languages.add(lang)
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def _code(language: Language) -> str:
    return str(language.iso_code_639_1.name).lower()


@dataclass(frozen=True)
class Verdict:
    detected: str  # primary subtag of the answer's language
    confidence: float  # the identifier's confidence in it (1.0 when decided by function words)
    expected_confidence: float


def identify(
    text: str, expected: str, names: Callable[[], frozenset[str]] = frozenset
) -> Verdict | None:
    """The answer's language when it is clearly not `expected`, else None; `names` gives the
    folded words of the case's own names (`case_names`), asked for only when the function
    words do not decide."""
    words = _fast_words(text)
    if len(words) < MIN_WORDS:
        return None
    hits = _tally(words)
    own = hits.get(expected, 0)
    best_other = max((n for lang, n in hits.items() if lang != expected), default=0)
    if own >= MIN_HITS and own >= 2 * best_other:
        return None  # clearly the customer's language: the usual case, decided here
    if best_other < MIN_HITS and (own >= MIN_HITS or len(words) < 2 * MIN_WORDS):
        return None  # no other language shows: too little to go on
    return _identify_slowly(text, expected, names())


def _identify_slowly(text: str, expected: str, names: frozenset[str]) -> Verdict | None:
    """Sentence by sentence: which language holds most of the answer's words; then the
    identifier confirms on the cleaned sentences of that language."""
    cleaned = clean(text)
    mass: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    total = 0
    for m in _SENTENCE.finditer(cleaned):
        words = _WORD.findall(m.group(0))
        total += len(words)
        hits = _tally(words)
        if not hits:
            continue
        most = max(hits.values())
        lang = expected if hits.get(expected) == most else max(hits, key=lambda k: hits[k])
        if lang != expected and names:
            # the case's own names weigh nothing for another language (and, kept in the
            # customer's, never make an answer in it look foreign)
            words = [w for w in words if w not in names]
        mass[lang] = mass.get(lang, 0) + len(words)
        spans.setdefault(lang, []).append((m.start(), m.end()))
    own = mass.get(expected, 0)
    other, other_mass = max(
        ((lang, n) for lang, n in mass.items() if lang != expected),
        key=lambda item: item[1],
        default=(None, 0),
    )
    if other_mass <= own or (other_mass < MIN_WORDS and (own > 0 or total < 2 * MIN_WORDS)):
        return None  # the customer's language holds at least as many words as any other
    parts = spans[other] if other is not None else [(0, len(cleaned))]
    sample = " ".join(" ".join(_without(cleaned[s:e], names).split()) for s, e in parts)
    if len(sample) > MAX_CHARS:
        sample = sample[: max(sample.rfind(" ", 0, MAX_CHARS + 1), 0)]
    if len(_WORD.findall(sample)) < MIN_WORDS:
        return None
    extra = expected if expected not in _DEFAULT else None
    values = detector(extra).compute_language_confidence_values(sample)
    if not values:
        return None
    best = values[0]
    detected = _code(best.language)
    expected_conf = next((v.value for v in values if _code(v.language) == expected), 0.0)
    if detected == expected or best.value < 0.5 or expected_conf > 0.2:
        return None
    return Verdict(detected, best.value, expected_conf)


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


def stretch(text: str, language: str) -> Span:
    """The longest run of consecutive sentences whose function words are mostly `language`
    (sentences without function words, such as a name or a signature, join a run)."""
    best: tuple[int, int] | None = None
    run: tuple[int, int] | None = None
    for m in _SENTENCE.finditer(text):
        body = m.group(0)
        start = m.start() + len(body) - len(body.lstrip())
        end = m.start() + len(body.rstrip())
        if end <= start:
            continue
        hits = _tally(_fast_words(body))
        if hits and max(hits, key=lambda k: hits[k]) != language:
            run = None
            continue
        if run is not None:
            run = (run[0], end)
        elif hits:
            run = (start, end)
        if run is not None and (best is None or run[1] - run[0] > best[1] - best[0]):
            best = run
    if best is None:
        start = len(text) - len(text.lstrip())
        best = (start, max(start, len(text.rstrip())))
    return Span(start=best[0], end=best[1], text=text[best[0] : best[1]])


@register(GUARDRAIL)
def language_guardrail(context: GuardrailContext) -> Check:
    books: Mapping[str, frozenset[str]] = {
        company: book_names(book) for company, book in context.policies.items()
    }

    def check(case: Case, text: str) -> list[Finding]:
        expected = case.language.split("-")[0].lower()
        if _lingua(expected) is None:
            return []  # a language the identifier does not know: nothing to compare
        verdict = identify(
            text, expected, lambda: case_names(case, books.get(case.company, frozenset()))
        )
        if verdict is None:
            return []
        span = stretch(text, verdict.detected)
        got = NAMES.get(verdict.detected, verdict.detected)
        want = NAMES.get(expected, expected)
        excerpt = span.text if len(span.text) <= 80 else span.text[:77] + "..."
        return [
            Finding(
                guardrail=GUARDRAIL,
                code="language.mismatch",
                severity="major",
                message=f"The answer is in {got}, but the customer writes in {want} "
                f'({case.language}): "{excerpt}".',
                evidence=Evidence(
                    span=span,
                    checked_against=f"case language {case.language} ({want})",
                    source="case.language",
                    note=f"identified as {got} (confidence {verdict.confidence:.2f}; "
                    f"{want} {verdict.expected_confidence:.2f}) after removing names, "
                    "contacts, numbers and quoted text",
                ),
            )
        ]

    return check
