"""`tone.register`: the answer addresses the customer in the wrong register, or in two.

`expect.register` `tu`/`usted` (Spanish; `informal`/`formal` map to them): tú forms (tu, tus,
te, tú, contigo, tienes, puedes, pagaste, escríbenos, "recuerda..." opening a sentence, vos
forms where vos is used) where usted is expected, or usted forms (usted, disculpe,
escríbanos, "¿Desea...?", "le paso", "no se preocupe"; and, as weak evidence only, su/sus/le
and a sentence opening with "Puede...") where tú is expected. `formal`/`informal` in English
(slang, "hey", "gonna", "no worries" in a formal answer; "Dear Sir or Madam", "hereby" in an
informal one) and Portuguese ("tu", "te", "oi", "pra" and the "tu" verbs of European
Portuguese, "tens", "estás", "podes", in a formal answer; "você", the neutral address of
Brazilian Portuguese, only as weak evidence; "o senhor", "a senhora" in an informal one).
Major when clear markers of the wrong register weigh at least as much as those of the expected
one, or when three or more weak markers and none of the expected register are present; minor
when the expected register dominates but a clear marker of the other slips in (an
inconsistent answer, reported for review). Without `expect.register` (production
transcripts), an answer that mixes forms of address is major: clear tú and usted markers
(Spanish), or two of tu / você / o senhor (Portuguese: "tu", "teu", "contigo" with "você";
"te" does not count, Brazilian Portuguese uses it with "você"). Markers in a sentence written
in another language (a Portuguese answer to a Spanish case) are not counted: that is the
`language` check's business. The markers are data: `guardrails/lexicons/tone/register_*.yaml`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable

from guardrails.records import Case, Finding, Severity
from guardrails.tone_phrases import Hit, Scan, lexicon, word_list
from guardrails.tone_rule import Answer, finding, unique
from guardrails.tone_tokens import SENTENCE_MARKS

# Which categories mean "informal" / "formal" for each language.
REGISTER_SIDES: dict[str, tuple[str, str]] = {
    # language: (category of informal markers, category of formal markers)
    "es": ("es_tu", "es_usted"),
    "pt": ("pt_informal", "pt_formal"),
    "en": ("en_informal", "en_formal"),
}
_WANTS_INFORMAL = {"tu": True, "informal": True, "usted": False, "formal": False}


#: Where "vos" forms (tenés, podés) are the usual informal address.
VOSEO = frozenset({"es-ar", "es-uy", "es-py", "es-cr", "es-ni", "es-gt", "es-hn", "es-sv"})

# Words that end like a tú verb but are not one.
_NOT_TU_VERB = frozenset(word_list("register_es", "not_tu_verbs"))
# Second person singular endings (only looked for when usted is expected): preterite -aste/-iste
# (pagaste, recibiste), future -rás (podrás) and, where vos is used, -ás/-és/-ís (tenés).
_TU_ENDINGS = ("aste", "iste", "rás")
_VOS_ENDINGS = (*_TU_ENDINGS, "ás", "és", "ís")


def _with_tu_endings(scan: Scan, voseo: bool) -> list[Hit]:
    """The tú markers of the lexicon and every word with a tú (or vos) verb ending."""
    tokens = scan.tokens
    toks = tokens.toks
    endings = _VOS_ENDINGS if voseo else _TU_ENDINGS
    found = {h[0]: h for h in scan.hits.get("es_tu", [])}
    flat = tokens.flat + " "
    if any(f"{e} " in flat for e in endings):
        for i in [i for i, t in enumerate(toks) if t.endswith(endings)]:
            tok = toks[i]
            long_enough = len(tok) >= (6 if tok.endswith(("aste", "iste")) else 5)
            if long_enough and tok not in _NOT_TU_VERB:
                found.setdefault(i, (i, i, 2))
    return sorted(found.values())


def _function_words() -> dict[str, str]:
    """The words that tell es, pt and en apart (`lexicons/tone/function_words.yaml`)."""
    data = lexicon("function_words")
    return {word: lang for lang in ("es", "pt", "en") for word in str(data[lang]).split()}


_FUNCTION_WORDS: dict[str, str] = _function_words()

# Which other languages can hide a register marker. The two Romance languages share marker
# words (te, tu, abra, consulte...); English shares a few with them ("decides", "uses"), so a
# sentence written in English says nothing of a Spanish or Portuguese register either. But
# only its own sentence: English text (such as an instruction appended to an answer) never
# decides the sentences too short to tell (`_language_gate`'s whole-answer fallback).
_RIVALS = {"es": ("pt",), "pt": ("es",), "en": ("es", "pt")}
_SENTENCE_RIVALS = {"es": ("pt", "en"), "pt": ("es", "en"), "en": ("es", "pt")}


def _language_gate(toks: list[str], language: str) -> Callable[[int], bool]:
    """A test of whether token `i` stands in text written in `language`. Its sentence decides
    when it has two or more telling words (more of a rival language's than twice the case
    language's); otherwise the whole answer does, by its rival-language words alone (three or
    more), so that appending text in the case's language cannot change the decision."""
    rivals = _RIVALS.get(language, ())
    sentence_rivals = _SENTENCE_RIVALS.get(language, ())
    ends = [i for i, t in enumerate(toks) if t[0] in SENTENCE_MARKS]
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
        other = max((counts.get(r, 0) for r in sentence_rivals), default=0)
        if own + other >= 2:
            verdicts[k] = not (other >= 2 and other > 2 * own)
        else:
            if not whole:
                counts = Counter(map(_FUNCTION_WORDS.get, toks))
                whole.append(max((counts.get(r, 0) for r in rivals), default=0) < 3)
            verdicts[k] = whole[0]
        return verdicts[k]

    return in_language


def register(case: Case, answer: Answer) -> list[Finding]:
    """The rule: the register `expect.register` asks for, not the other one."""
    scan = answer.scan
    wanted = case.expect.register_
    if wanted is None:
        return []
    language = case.language.split("-")[0].lower()
    sides = REGISTER_SIDES.get(language)
    if sides is None:
        return []
    informal, formal = sides
    wants_informal = _WANTS_INFORMAL[wanted]
    wrong_cat, right_cat = (formal, informal) if wants_informal else (informal, formal)
    hits = scan.hits
    if language == "es" and wanted in ("usted", "formal"):
        hits = {**hits, "es_tu": _with_tu_endings(scan, case.language.lower() in VOSEO)}
    wrong = hits.get(wrong_cat, [])
    if not wrong:
        return []
    # Markers count only in sentences written in the case's language: a sentence in another
    # language (a quoted text, an answer in the wrong language) says nothing about register.
    in_language = _language_gate(scan.tokens.toks, language)
    wrong = [h for h in wrong if in_language(h[0])]
    right = [h for h in hits.get(right_cat, []) if in_language(h[0])]
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
    quoted = ", ".join(f'"{s.text}"' for s in unique(spans)[:4])
    names = {
        "es": ("tú", "usted"),
        "pt": ("informal", "formal"),
        "en": ("informal", "formal"),
    }[language]
    used, expected = (names[1], names[0]) if wants_informal else (names[0], names[1])
    return [
        finding(
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
MIXED_SIDES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    # language: (category, its name, the other category, its name)
    "es": (("es_tu", "tú", "es_usted", "usted"),),
    "pt": (
        ("pt_tu", "tu", "pt_voce", "você"),
        ("pt_tu", "tu", "pt_formal", "o senhor / a senhora"),
        ("pt_voce", "você", "pt_formal", "o senhor / a senhora"),
    ),
}


def mixed_register(case: Case, answer: Answer) -> list[Finding]:
    """The rule: without an expected register, an answer that addresses the customer in two
    (tú and usted; tu and você) is inconsistent: clear markers of both, in the case's
    language."""
    scan = answer.scan
    if case.expect.register_ is not None:
        return []
    language = case.language.split("-")[0].lower()
    pairs = MIXED_SIDES.get(language, ())
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
            finding(
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


def _doubled(toks: list[str], hit: Hit) -> bool:
    """A "le"/"les" whose person is named just after ("el asesor le explicará a tu papá"):
    third person, not a way of addressing the customer."""
    if toks[hit[0]] not in ("le", "les"):
        return False
    after = toks[hit[1] + 1 : hit[1] + 5]
    return any(
        t == "a" and i + 1 < len(after) and after[i + 1] not in ("usted", "ustedes")
        for i, t in enumerate(after)
    )
