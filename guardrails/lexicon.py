"""A small cross-lingual lexicon (English, Spanish, Portuguese) of the concepts support policies
are made of, so an answer in Spanish can be grounded against a policy written in English.

The concepts and their terms are data (`guardrails.packs`): the core pack, always on, and the
packs of a policy book's industry, with the book's own terms. A `Lexicon` is one such set,
compiled once per distinct set (cached by its content hash) and read by every check of the
book's cases: `GuardrailSet.run` makes the case's lexicon the active one (`using`), and
`concept_spans`/`concepts` read the active lexicon unless they are given one. Outside a check
(no policy book in view) the active lexicon is the core with every known pack.

Terms are folded (lowercase, no accents). A trailing `*` matches any word ending
(`reembols*` matches reembolso, reembolsamos, reembolsar).

What stays in code is the grammar of support language: the markers of automatic effects,
grants, promises, permissions, rules and requirements below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import accumulate

from guardrails import packs
from guardrails.packs import LoadedPack
from guardrails.records import PolicyBook, content_hash
from guardrails.text import fold, per_text

#: Concepts that are benefits or commitments: stating one needs a policy clause that grants it
#: (the benefits of every known pack; a registered pack adds its own).
BENEFITS: set[str] = set()


def _known_benefits() -> set[str]:
    return {b for loaded in (packs.core(), *packs.known().values()) for b in loaded.pack.benefits}


BENEFITS.update(_known_benefits())

#: Words that name a concept without stating it on their own: "Customer Support" in a
#: signature takes no political side; a party, a donation or a candidate does.
WEAK_TERMS: tuple[str, ...] = tuple(
    dict.fromkeys(
        t for loaded in (packs.core(), *packs.shipped().values()) for t in loaded.pack.weak_terms
    )
)

# --- markers of policy statements without a number (guardrails.claims) ---------------------
# Phrases are folded; "_" stands for any one word and a trailing "*" for any word ending.

#: Something said to happen by itself: no one has to act for it.
AUTOMATIC_MARKERS: dict[str, tuple[str, ...]] = {
    "en": (
        "automatic*",
        "by itself",
        "by themselves",
        "on its own",
        "on their own",
        "no need to do anything",
        "don't need to do anything",
        "do not need to do anything",
        "nothing you need to do",
    ),
    "es": (
        "automatic*",
        "se _ sola",
        "se _ solas",
        "se _ solo",
        "se _ solos",
        "por si sola",
        "por si solo",
        "por si misma",
        "por si mismo",
        "no hace falta hacer nada",
        "no tienes que hacer nada",
        "no tiene que hacer nada",
        "no tenes que hacer nada",
        "no necesitas hacer nada",
        "no necesita hacer nada",
    ),
    "pt": (
        "automatic*",
        "sozinh*",
        "por si so",
        "nao precisa fazer nada",
        "nao e preciso fazer nada",
        "sem precisar fazer nada",
        "nao tem que fazer nada",
    ),
}

#: The assistant granting or doing itself what a rule may reserve to a person or a condition.
GRANT_MARKERS: dict[str, tuple[str, ...]] = {
    "en": (
        "i've applied",
        "i have applied",
        "i applied",
        "i'll apply",
        "i will apply",
        "i've approved",
        "i have approved",
        "i approved",
        "i'll approve",
        "i will approve",
        "i've waived",
        "i have waived",
        "i'll waive",
        "i will waive",
        "i've unlocked",
        "i have unlocked",
        "i'll unlock",
        "i will unlock",
        "i've removed",
        "i have removed",
        "we won't charge you",
        "we will not charge you",
    ),
    "es": (
        "te la aplico",
        "se la aplico",
        "te lo aplico",
        "se lo aplico",
        "la aplico",
        "lo aplico",
        "he aplicado",
        "te he aplicado",
        "le he aplicado",
        "ya aplique",
        "te la apruebo",
        "se la apruebo",
        "te lo apruebo",
        "se lo apruebo",
        "he aprobado",
        "ya aprobe",
        "te condono",
        "le condono",
        "he condonado",
        "te desbloqueo",
        "le desbloqueo",
        "he desbloqueado",
        "ya desbloquee",
        "no le cobraremos",
        "no te cobraremos",
        "no le vamos a cobrar",
        "no te vamos a cobrar",
    ),
    "pt": (
        "ja apliquei",
        "apliquei",
        "vou aplicar",
        "ja aprovei",
        "aprovei",
        "vou aprovar",
        "desbloqueei",
        "vou desbloquear",
        "isentei",
        "vou isentar",
        "dispensei",
        "nao vamos cobrar",
        "nao cobraremos",
        "nao lhe cobraremos",
        "nao te cobraremos",
    ),
}

#: The company promising to give money back: a refund it commits to needs a clause granting it.
REFUND_PROMISES: dict[str, tuple[str, ...]] = {
    "en": (
        "we will refund",
        "we'll refund",
        "we refund",
        "we are refunding",
        "we're refunding",
        "i will refund",
        "i'll refund",
        "we will give you back",
        "we will pay you back",
        "we will return the money",
    ),
    "es": (
        "te reembolsamos",
        "le reembolsamos",
        "les reembolsamos",
        "reembolsaremos",
        "te reembolsaremos",
        "le reembolsaremos",
        "te devolvemos",
        "le devolvemos",
        "les devolvemos",
        "devolveremos",
        "te devolveremos",
        "le devolveremos",
        "les devolveremos",
        "vamos a reembolsar",
        "vamos a devolver",
        "te vamos a devolver",
        "le vamos a devolver",
        "te regresamos",
        "le regresamos",
        "les regresamos",
        "regresaremos",
        "te regresaremos",
        "le regresaremos",
        "te reintegramos",
        "le reintegramos",
        "reintegraremos",
        "te reembolso",
        "le reembolso",
    ),
    "pt": (
        "vamos reembolsar",
        "vamos devolver",
        "reembolsaremos",
        "devolveremos",
        "reembolsamos",
        "vou reembolsar",
        "vou devolver",
        "te devolvemos",
        "lhe devolvemos",
    ),
}
#: What follows a promise to give something back that is not money: "le devolveremos la
#: llamada" is a callback.
#: Actions a policy permits, forbids or requires, by verb stem in the three languages. Only
#: verbs whose object a clause names ("Agents cannot redirect them [refunds]", "Identity is
#: verified by login"); a permission is compared with the clause on the same object.
ACTIONS: dict[str, tuple[str, ...]] = {
    "redirect": (
        "redirect*",
        "redirig*",
        "redirij*",
        "redireccion*",
        "redirecion*",
        "redireciona*",
        "reencaminh*",
    ),
    "verify": ("verif*", "comprob*", "comprov*"),
    "cover": (
        "cover",
        "covers",
        "covered",
        "cubre",
        "cubren",
        "cubiert*",
        "cobre",
        "cobrem",
        "coberto*",
        "coberta*",
    ),
}
#: Saying the company may do something: "we can", "podemos", "pode".
CAPABILITY_MARKERS = (
    "we can",
    "we could",
    "i can",
    "you can",
    "it can",
    "it is possible to",
    "podemos",
    "podriamos",
    "puedo",
    "puede",
    "pueden",
    "se puede",
    "es posible",
    "posso",
    "pode",
    "podem",
    "e possivel",
)
#: Saying a step is not needed: "no need to verify", "no necesitamos verificar".
NO_NEED_MARKERS = (
    "no need to",
    "don't need to",
    "do not need to",
    "doesn't need to",
    "does not need to",
    "not necessary to",
    "without having to",
    "no necesitamos",
    "no necesita",
    "no necesitas",
    "no hace falta",
    "no es necesario",
    "sin necesidad de",
    "sin tener que",
    "nao precisamos",
    "nao precisa",
    "nao e necessario",
    "sem necessidade de",
    "sem precisar",
)

NOT_MONEY_BACK = ("la llamada", "a llamada", "a ligacao", "the call", "your call", "el producto")

#: A rule stated about the company: "Velmora only contacts...", "we always...".
RULE_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("only", "always", "as a rule", "our policy", "is allowed to", "are allowed to"),
    "es": (
        "solo",
        "solamente",
        "unicamente",
        "siempre",
        "por norma",
        "nuestra politica",
        "se permite",
        "esta permitido",
        "estan permitidas",
    ),
    "pt": ("so", "somente", "apenas", "sempre", "nossa politica", "e permitido"),
}

#: A universal rule: "refunds are always made within...", "siempre", "sempre".
UNIVERSAL_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("always", "in every case", "in all cases"),
    "es": ("siempre", "en todos los casos"),
    "pt": ("sempre", "em todos os casos"),
}

#: The company as the one speaking or acting: a stance stated with these is the company's.
COMPANY_VOICE: dict[str, tuple[str, ...]] = {
    "en": ("we", "our", "us"),
    "es": ("nosotros", "nuestr*"),
    "pt": ("nos", "nosso*", "nossa*"),
}

#: A company position: taking a side, donating, endorsing.
POSITION_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("we support", "we donate", "we endorse", "we condemn", "we back"),
    "es": ("apoyamos", "donamos", "respaldamos", "condenamos", "hacemos donaciones"),
    "pt": ("apoiamos", "doamos", "condenamos", "fazemos doacoes"),
}

#: In a policy clause, what comes after one of these is a condition the rule requires:
#: "only a human agent can approve it", "stays locked until identity is verified".
REQUIREMENT_MARKERS = (
    "approved by",
    "aprobad* por",
    "aprovad* por",
    "only",
    "until",
    "require*",
    "must",
    "solo",
    "solamente",
    "unicamente",
    "hasta que",
    "requiere*",
    "somente",
    "apenas",
    "ate que",
    "exige*",
    "requer*",
)


_TOKEN = re.compile(r"\w+|[%$€£/]")
#: `_TOKEN` as a group: its `split` alternates the text between words and the words.
_TOKEN_SPLIT = re.compile(f"({_TOKEN.pattern})")


@dataclass(frozen=True)
class _Term:
    concept: str
    tokens: tuple[str, ...]  # a token ending in "*" matches any word it begins


#: A term's words: any of them may end in "*" ("cancel* la comision").
_TERM_TOKEN = re.compile(r"\w+\*?|[%$€£/]")


def _term(concept: str, raw: str) -> _Term:
    return _Term(concept, tuple(t.group(0) for t in _TERM_TOKEN.finditer(fold(raw))))


@dataclass(frozen=True)
class _Starts:
    """The terms a word can begin: the concepts of one-word terms, and the longer terms by
    their second word (exact, or a prefix to test)."""

    singles: tuple[str, ...]
    by_second: dict[str, tuple[_Term, ...]]
    starred: tuple[_Term, ...]


#: What a word that begins no term can begin.
_NO_TERMS = _Starts((), {}, ())


class _Matcher:
    """Finds every term of the lexicon in one pass over the words of a text: terms are indexed
    by their first word (or the prefix it must begin with), so the cost grows with the text,
    not with the size of the lexicon."""

    def __init__(self, concepts: Mapping[str, Sequence[str]]) -> None:
        terms = [_term(concept, raw) for concept, words in concepts.items() for raw in words]
        self.exact: dict[str, list[_Term]] = {}
        self.prefix: dict[str, list[_Term]] = {}
        for term in terms:
            if not term.tokens:
                continue
            first = term.tokens[0]
            if first.endswith("*"):
                self.prefix.setdefault(first[:-1], []).append(term)
            else:
                self.exact.setdefault(first, []).append(term)
        self.prefix_lengths = sorted({len(p) for p in self.prefix})
        # The terms a word can begin, per word: the same few hundred words come back in every
        # answer, and looking them up by every prefix length was most of the matching time.
        self._by_word: dict[str, _Starts] = {}

    def _candidates(self, word: str) -> _Starts:
        known = self._by_word.get(word)
        if known is not None:
            return known
        candidates = list(self.exact.get(word, ()))
        for length in self.prefix_lengths:
            if length > len(word):
                break
            candidates.extend(self.prefix.get(word[:length], ()))
        singles = tuple(dict.fromkeys(t.concept for t in candidates if len(t.tokens) == 1))
        by_second: dict[str, list[_Term]] = {}
        starred: list[_Term] = []
        for term in candidates:
            if len(term.tokens) > 1:
                second = term.tokens[1]
                if second.endswith("*"):
                    starred.append(term)
                else:
                    by_second.setdefault(second, []).append(term)
        found = (
            _Starts(singles, {k: tuple(v) for k, v in by_second.items()}, tuple(starred))
            if candidates
            else _NO_TERMS  # (most words: `find` skips them by identity)
        )
        if len(self._by_word) > 100_000:
            self._by_word.clear()
        self._by_word[word] = found
        return found

    @staticmethod
    def _word_matches(pattern: str, word: str) -> bool:
        return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern

    def find(
        self, folded: str, words: list[tuple[str, int, int]] | None = None
    ) -> list[tuple[str, int, int]]:
        """Every term in `folded` as (concept, start, end); `words` are its tokens (`tokens()`),
        when the caller has them already."""
        if words is None:
            return self._find_split(folded)
        found: dict[tuple[str, int], int] = {}  # (concept, start) -> longest end
        known, candidates, count = self._by_word, self._candidates, len(words)
        matches = self._word_matches
        for i, (word, start, end) in enumerate(words):
            starts = known.get(word)
            if starts is None:
                starts = candidates(word)
            for concept in starts.singles:
                if end > found.get((concept, start), -1):
                    found[(concept, start)] = end
            if i + 1 >= count or not (starts.by_second or starts.starred):
                continue
            second = words[i + 1][0]
            for term in (*starts.by_second.get(second, ()), *starts.starred):
                n = len(term.tokens)
                if i + n > count or not all(
                    matches(term.tokens[k], words[i + k][0]) for k in range(1, n)
                ):
                    continue
                stop = words[i + n - 1][2]
                key = (term.concept, start)
                if stop > found.get(key, -1):
                    found[key] = stop
        return _longest(found)

    def _find_split(self, folded: str) -> list[tuple[str, int, int]]:
        """`find` on the words of `tokens()`, read without a match object per word: one
        `split` gives the words and the text between them (so their offsets are running sums
        of lengths), and only the words that begin a term (about a third of an answer's) are
        looked at in Python."""
        parts = _TOKEN_SPLIT.split(folded)  # gap, word, gap, word, ..., gap
        words = parts[1::2]
        starts_of = list(map(self._by_word.get, words))  # None: a word not seen before
        at = [i for i, s in enumerate(starts_of) if s is not _NO_TERMS]
        if not at:
            return []
        offsets = list(accumulate(map(len, parts), initial=0))  # word i: offsets[2i+1:2i+3]
        found: dict[tuple[str, int], int] = {}  # (concept, start) -> longest end
        matches, count = self._word_matches, len(words)
        for i in at:
            starts = starts_of[i]
            if starts is None:
                starts = self._candidates(words[i])
            start, end = offsets[2 * i + 1], offsets[2 * i + 2]
            for concept in starts.singles:
                if end > found.get((concept, start), -1):
                    found[(concept, start)] = end
            if i + 1 >= count or not (starts.by_second or starts.starred):
                continue
            for term in (*starts.by_second.get(words[i + 1], ()), *starts.starred):
                n = len(term.tokens)
                if i + n > count or not all(
                    matches(term.tokens[k], words[i + k]) for k in range(1, n)
                ):
                    continue
                stop = offsets[2 * (i + n - 1) + 2]
                key = (term.concept, start)
                if stop > found.get(key, -1):
                    found[key] = stop
        return _longest(found)


def _longest(found: dict[tuple[str, int], int]) -> list[tuple[str, int, int]]:
    """(concept, start, end) in order of start, from the longest end of each concept at each
    start; one concept never overlaps itself (the earlier mention wins)."""
    if not found:
        return []
    spans = sorted((start, end, concept) for (concept, start), end in found.items())
    out: list[tuple[str, int, int]] = []
    last_end: dict[str, int] = {}
    for start, end, concept in spans:
        if start >= last_end.get(concept, -1):
            out.append((concept, start, end))
            last_end[concept] = end
    return out


def tokens(folded: str) -> list[tuple[str, int, int]]:
    """The words of a folded text with their offsets, as the matchers read them."""
    return [(m[0], *m.span()) for m in _TOKEN.finditer(folded)]


#: The concept name masks are found under, in the same pass as the concepts.
_MASK = "\x00mask"


@dataclass(frozen=True, eq=False)
class Lexicon:
    """The concepts of a set of packs and a book's own terms, with the masks and countries of
    those packs, compiled into one matcher. Equal (and hashed) by `key`, the content hash of
    what it was built from, so caches keyed on it hold across equal sets."""

    key: str
    #: The packs it was built from, the core first.
    packs: tuple[str, ...]
    concepts: Mapping[str, tuple[str, ...]]
    masks: tuple[str, ...]
    countries: Mapping[str, tuple[str, ...]]
    matcher: _Matcher = field(repr=False)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lexicon) and other.key == self.key

    def concepts_in(self, text: str) -> set[str]:
        return {concept for concept, _, _ in _spans(text, self)}

    @cached_property
    def _country_names(self) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        by_name = {fold(n): code for code, names in self.countries.items() for n in names}
        if not by_name:
            return None, {}
        alternatives = "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
        return re.compile(rf"(?<!\w)({alternatives})(?!\w)"), by_name

    def country_codes(self, folded: str) -> list[str]:
        """The countries a folded text names, in order, by their codes."""
        pattern, by_name = self._country_names
        return [] if pattern is None else [by_name[m.group(1)] for m in pattern.finditer(folded)]

    def countries_in(self, text: str) -> set[str]:
        return {f"country:{code}" for code in self.country_codes(fold(text))}


def _merged(
    loaded: Sequence[LoadedPack], terms: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for each in loaded:
        for concept, words in each.pack.concepts.items():
            out[concept] = tuple(dict.fromkeys((*out.get(concept, ()), *words)))
    for concept, own in terms.items():
        out[concept] = tuple(dict.fromkeys((*out.get(concept, ()), *own)))
    return out


_BUILT: dict[str, Lexicon] = {}


def build(
    loaded: Sequence[LoadedPack], terms: Mapping[str, Sequence[str]] | None = None
) -> Lexicon:
    """The lexicon of these packs (in order) and these own terms, built once per content."""
    terms = terms or {}
    own = "\n".join(f"{c}={'|'.join(t)}" for c, t in sorted(terms.items()))
    key = content_hash("\0".join([*(f"{p.name}@{p.digest}" for p in loaded), own]))
    found = _BUILT.get(key)
    if found is not None:
        return found
    concepts = _merged(loaded, terms)
    masks = tuple(dict.fromkeys(m for p in loaded for m in p.pack.masks))
    countries: dict[str, tuple[str, ...]] = {}
    for p in loaded:
        for code, names in p.pack.countries.items():
            countries[code] = tuple(dict.fromkeys((*countries.get(code, ()), *names)))
    lexicon = Lexicon(
        key,
        tuple(p.name for p in loaded),
        concepts,
        masks,
        countries,
        _Matcher({**concepts, _MASK: masks}),
    )
    if len(_BUILT) > 256:
        _BUILT.clear()
    _BUILT[key] = lexicon
    return lexicon


def detection_lexicon(loaded: LoadedPack) -> Lexicon:
    """One pack's own concepts and countries, with the core's masks: what `packs: auto` looks
    for in a policy book's text."""
    return build([_core_masks(), loaded])


@lru_cache(maxsize=1)
def _core_masks() -> LoadedPack:
    """The core pack without its concepts: its masks (and weak terms) alone."""
    core = packs.core()
    return LoadedPack(
        core.pack.model_copy(update={"concepts": {}, "benefits": []}),
        core.source,
        f"{core.digest}-masks",
    )


@lru_cache(maxsize=256)
def lexicon_for(book: PolicyBook | None) -> Lexicon:
    """The lexicon a policy book's cases are checked with: the core, the book's packs
    (`packs.packs_for`) and its own terms; without a book, the core and every known pack."""
    core = packs.core()
    if book is None:
        return build([core, *(p for _, p in sorted(packs.known().items()))])
    return build([core, *(packs.get(n) for n in packs.packs_for(book))], book.terms)


def _packs_changed() -> None:
    lexicon_for.cache_clear()
    BENEFITS.update(_known_benefits())


packs.on_change(_packs_changed)

_ACTIVE: ContextVar[Lexicon | None] = ContextVar("supportgate_lexicon", default=None)


def active() -> Lexicon:
    """The lexicon in effect: the case's while a check runs (`using`), else every known pack."""
    found = _ACTIVE.get()
    return found if found is not None else lexicon_for(None)


@contextmanager
def using(lexicon: Lexicon) -> Iterator[Lexicon]:
    """Make `lexicon` the active one inside the block (in this thread or task only)."""
    token = _ACTIVE.set(lexicon)
    try:
        yield lexicon
    finally:
        _ACTIVE.reset(token)


@per_text(8192)  # forgotten by clear_caches, so benchmarks pay for every text on every pass
def _spans(text: str, lexicon: Lexicon) -> tuple[tuple[str, int, int], ...]:
    folded = fold(text)
    found = lexicon.matcher.find(folded)
    masks = [(s, e) for concept, s, e in found if concept == _MASK]
    return tuple(
        (concept, start, end)
        for concept, start, end in found
        if concept != _MASK
        # A mask hides what its words do not mean ("credit" in "credit bureau"), not a term
        # that spells the whole masked phrase (the bureau in "credit bureau").
        and not any(ms <= start < me and not (start == ms and end >= me) for ms, me in masks)
    )


def concept_spans(text: str, lexicon: Lexicon | None = None) -> list[tuple[str, int, int]]:
    """(concept, start, end) of every concept mention; offsets index `text`."""
    return list(_spans(text, lexicon or active()))


def concepts(text: str, lexicon: Lexicon | None = None) -> set[str]:
    return {concept for concept, _, _ in _spans(text, lexicon or active())}
