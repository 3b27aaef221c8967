"""The guardrails stand on their own (no import of `evals`), and their one analysis per answer
is shared by every check without changing what any check finds."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import evals.records
import guardrails.records

ROOT = Path(__file__).resolve().parent.parent.parent

_REFUSE_EVALS = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    class RefuseEvals(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "evals" or name.startswith("evals."):
                raise ImportError(f"guardrails imported {name}")
            return None

    sys.meta_path.insert(0, RefuseEvals())
    """
)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _REFUSE_EVALS + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_guardrails_import_and_check_without_evals() -> None:
    done = _python(
        """
        import pkgutil, importlib
        import guardrails
        from guardrails.records import Case, PolicyBook

        for module in pkgutil.iter_modules(guardrails.__path__):
            importlib.import_module(f"guardrails.{module.name}")
        case = Case.model_validate({
            "id": "c1", "intent": "refund", "kind": "support", "language": "en",
            "channel": "chat", "risk": "low", "company": "acme",
            "messages": [{"role": "user", "content": "Where is my refund?"}],
        })
        book = PolicyBook(id="acme", name="Acme", text="Refunds take 5 business days.")
        findings = guardrails.check("Hi {first_name}, your refund is on its way.", case, book)
        print(sorted({f.code for f in findings}))
        print(sorted(name for name in sys.modules if name.split(".")[0] == "evals"))
        """
    )
    assert done.returncode == 0, done.stderr
    codes, evals_modules = done.stdout.splitlines()
    assert "'template.placeholder'" in codes  # the checks work without evals
    assert evals_modules == "[]"


def test_the_refusing_finder_does_catch_an_import_of_evals() -> None:
    done = _python("import guardrails\nimport evals.records\n")
    assert done.returncode != 0
    assert "guardrails imported evals" in done.stderr


def test_evals_records_are_the_guardrails_records() -> None:
    for name in ("Case", "Message", "Expect", "PolicyBook", "Span", "Evidence", "Finding"):
        assert getattr(evals.records, name) is getattr(guardrails.records, name)
    assert evals.records.content_hash("x") == guardrails.records.content_hash("x")


def test_facts_reads_the_policy_tables_not_the_policy_guardrail() -> None:
    # The facts family's version hashes every module it imports: a change to the policy
    # guardrail's rules must not change it, while a change to the shared tables does.
    from guardrails.versions import closure

    assert "policy" not in closure(("facts",))
    assert "policy_tables" in closure(("facts",))
    assert "policy_tables" in closure(("policy",))


ANSWER = (
    "Hola Ana. Tu reembolso de MXN 1,250.00 llegará en 5 días hábiles. "
    "No podemos ofrecer un cupón de 15%. Si necesitas algo más, llama al 55 4170 2020."
)


def _counted_mentions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts whose concept mentions the checks read, from now on (in order)."""
    from guardrails import analysis

    asked: list[str] = []
    real = analysis.mentions

    def counting(text: str, language: str | None = None, lexicon: object = None) -> list[object]:
        asked.append(text)
        return real(text, language, lexicon)  # type: ignore[arg-type, return-value]

    monkeypatch.setattr(analysis, "mentions", counting)
    return asked


def _refund_case(case_id: str, question: str) -> evals.records.Case:
    """A Mexican customer's refund question, with the refund amount as the case's fact."""
    return evals.records.Case.model_validate(
        {
            "id": case_id,
            "intent": "refund",
            "kind": "support",
            "language": "es-MX",
            "channel": "chat",
            "risk": "low",
            "company": "acme",
            "messages": [{"role": "user", "content": question}],
            "facts": {"refund_amount": "MXN 1,250.00"},
        }
    )


def test_each_sentence_is_analysed_once_for_every_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from evals.records import PolicyBook
    from guardrails import GuardrailContext, GuardrailSet
    from guardrails.text import clear_caches, sentences

    asked = _counted_mentions(monkeypatch)
    case = _refund_case("c1", "¿Y mi reembolso?")
    book = PolicyBook(id="acme", name="Acme", text="Los reembolsos tardan 5 días hábiles.")
    checks = GuardrailSet.build(GuardrailContext(policies={"acme": book}), ["policy", "facts"])
    clear_caches()
    first = checks.run(case, ANSWER)
    # policy reads every sentence's mentions, facts those of sentences with a quantity: each
    # sentence is analysed once for both, and a second answer is analysed afresh.
    assert sorted(asked) == sorted(s.text for s in sentences(ANSWER))
    asked.clear()
    assert checks.run(case, ANSWER) == first and asked == []
    checks.run(case, ANSWER + " Gracias.")
    assert asked  # another text: analysed, not read from the first answer's analysis


@given(st.lists(st.sampled_from(ANSWER.split(". ")), min_size=1, max_size=6))
def test_the_analysis_reads_as_the_text_functions_do(parts: list[str]) -> None:
    from guardrails.analysis import analyse
    from guardrails.grounding import mentions
    from guardrails.text import fold, quantities, sentences

    text = ". ".join(parts)
    done = analyse(text, "es")
    assert [(s.start, s.end, s.text) for s in done.sentences] == [
        (s.start, s.end, s.text) for s in sentences(text)
    ]
    for part in done.sentences:
        assert part.folded == fold(part.text)
        assert list(part.quantities) == quantities(part.text)
        assert list(part.mentions) == mentions(part.text, "es")


# --- the shared analysis is computed faster without changing what it finds ----------------

#: Words of the lexicon's terms (whole, prefixes with an ending, words of longer terms), words
#: that contain a term's word without being it, and separators: texts made of them put terms
#: at every place the matcher must find them (or must not).
_TERM_WORDS = [
    "refund",
    "refunds",
    "reembolso",
    "money",
    "back",
    "bank",
    "transfer",
    "transfers",
    "credit",
    "card",
    "bureau",
    "report",
    "tarjeta",
    "de",
    "la",
    "el",
    "no",
    "nao",
    "not",
    "fee",
    "fees",
    "cargo",
    "account",
    "seller",
    "third-party",
    "keep",
    "in",
    "mind",
    "another",
    "prefund",
    "nofee",
    "10",
    "%",
    "$",
    "€",
    "24/7",
]
_SEPARATORS = [" ", "  ", "\n", ", ", ". ", "; ", "(", ")", "-", "/", ""]


@st.composite
def _term_text(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(_TERM_WORDS), min_size=1, max_size=14))
    seps = draw(st.lists(st.sampled_from(_SEPARATORS), min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, seps, strict=True))


@settings(max_examples=300, deadline=None)
@given(_term_text())
def test_the_matcher_finds_from_the_words_that_begin_terms_what_it_finds_from_every_word(
    text: str,
) -> None:
    from guardrails.lexicon import active, tokens
    from guardrails.text import fold

    matcher = active().matcher  # the core with every known pack
    folded = fold(text)
    assert matcher.find(folded) == matcher.find(folded, tokens(folded))


def test_the_matcher_finds_whole_terms_and_prefixes_not_words_inside_words() -> None:
    from guardrails.lexicon import concept_spans

    text = "Your refunds come by bank transfer; another prefund note is no refund."
    found = [(c, text[s:e]) for c, s, e in concept_spans(text)]
    assert ("refund", "refunds") in found  # "refund*": any word it begins
    assert ("bank_transfer", "bank transfer") in found  # two words
    assert ("refund", "prefund") not in found  # a term's word inside another word is not it
    assert [t for c, t in found if c == "refund"] == ["refunds", "refund"]


@settings(max_examples=200, deadline=None)
@given(_term_text(), st.sampled_from(["en", "es", "pt-BR"]))
def test_a_negation_in_another_segment_changes_no_mention(text: str, language: str) -> None:
    # The sentence alone may have no negation, post-negation or neutrality anywhere (then
    # `_mentions` skips those patterns for every mention); after a segment break that has all
    # three, nothing before the break may read differently.
    from guardrails.grounding import mentions

    alone = mentions(text, language)
    followed = mentions(text + "; no nao is not neutral", language)
    assert followed[: len(alone)] == alone


def test_negations_are_still_read_where_the_sentence_has_them() -> None:
    from guardrails.grounding import mentions

    def polarity(text: str, language: str = "en") -> list[tuple[str, bool]]:
        return [(m.concept, m.negated) for m in mentions(text, language)]

    assert polarity("We can refund the fee.") == [("refund", False), ("fee", False)]
    assert ("refund", True) in polarity("We cannot refund the fee.")
    assert ("refund", True) in polarity("A refund is not possible here.")  # after the mention
    assert ("refund", False) in polarity("No problem, the refund is on its way.")
    assert ("refund", True) in polarity("Não podemos fazer o reembolso.", "pt-BR")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fold_is_the_accent_table_then_lowercase(text: str) -> None:
    from guardrails.text import _FOLD_TABLE, _fold_char, fold

    fold.cache_clear()
    expected = text.translate(_FOLD_TABLE).lower()
    if len(expected) != len(text):  # (a letter lowercased into two: folded one by one)
        expected = "".join(_fold_char(ch) for ch in text)
    assert fold(text) == expected
    assert len(fold(text)) == len(text)


def test_folded_text_reads_the_same_case_sensitively_unless_it_has_an_odd_letter() -> None:
    # Every character `fold` can leave in the Basic Multilingual Plane, against the letters
    # and symbols the quantity patterns spell: those IGNORECASE equates with another one must
    # be the ones `case_sensitive` looks for (nothing outside the BMP has a case mapping to
    # these letters).
    import re

    from guardrails.text import _NUMBER_START, _QUANTITY_NEAR, case_sensitive, fold

    folded = fold("".join(chr(c) for c in range(0x80, 0x10000) if not 0xD800 <= c < 0xE000))
    spelt = {c for c in _QUANTITY_NEAR.pattern + _NUMBER_START.pattern if ord(c) > 127}
    letters = "[a-z" + re.escape("".join(sorted(spelt))) + "]"
    odd = set(re.findall(letters, folded, re.IGNORECASE)) - set(re.findall(letters, folded))
    assert odd == {"\u0131", "\u017f"}  # dotless i, long s
    assert not any(case_sensitive(ch) for ch in odd)
    assert case_sensitive("12 dias hábiles, €40") and case_sensitive("plain ascii")


_QUANTITY_WORDS = [
    "3",
    "12",
    "1,250.00",
    "1.250,00",
    "dos",
    "una",
    "um",
    "one",
    "cuarenta y cinco",
    "a hundred",
    "dias",
    "días",
    "dia",
    "business days",
    "horas",
    "h",
    "min",
    "meses",
    "mês",
    "%",
    "eur",
    "€",
    "r$",
    "usd",
    "mxn",
    "cuotas",
    "veces",
    "to",
    "a",
    "y",
    "-",
    "immediately",
    "24/7",
    "10:30",
    "9am",
    "ſ",
    "ı",
    "K",
    "İ",
    "Dias",
]


@settings(max_examples=300, deadline=None)
@example(["3", "dia", "\u017f"], [" ", "", " "] + [" "] * 9)  # IGNORECASE: "3 diaſ" is 3 days
@given(
    st.lists(st.sampled_from(_QUANTITY_WORDS), min_size=1, max_size=12),
    st.lists(st.sampled_from([" ", "  ", ", ", ". ", "", "\n"]), min_size=12, max_size=12),
)
def test_the_quantities_are_those_the_ignorecase_patterns_find(
    words: list[str], seps: list[str]
) -> None:
    from guardrails.text import (
        _NUMBER_START,
        _NUMBER_START_CS,
        _QUANTITY_NEAR,
        _QUANTITY_NEAR_CS,
        _quantities,
        case_sensitive,
        fold,
    )

    text = "".join(w + s for w, s in zip(words, seps, strict=False))
    folded = fold(text)
    runs = [i for i, c in enumerate(folded) if c.isdecimal() and not folded[i - 1 : i].isdecimal()]

    def found(start: object, near: object) -> list[tuple[float, str, int, int]]:
        starts = [m.start() for m in start.finditer(folded)]  # type: ignore[attr-defined]
        done = _quantities(folded, text, starts, runs, near)  # type: ignore[arg-type]
        return [(q.value, q.unit, q.start, q.end) for q in done]

    if case_sensitive(folded):
        assert found(_NUMBER_START_CS, _QUANTITY_NEAR_CS) == found(_NUMBER_START, _QUANTITY_NEAR)
    else:  # what the copies would miss: "ſ" is an "s" to IGNORECASE ("diaſ")
        assert any(ch in folded for ch in "\u0131\u017f")


def test_facts_reads_mentions_only_where_a_quantity_could_contradict_a_fact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Speed (issue #15): a quantity of no fact's unit, a time of day or the fact's own value
    leaves the facts guardrail before it reads the sentence's concept mentions; a wrong value
    still gets that far and is caught."""
    from evals.records import PolicyBook
    from guardrails import GuardrailContext, GuardrailSet
    from guardrails.text import clear_caches

    asked = _counted_mentions(monkeypatch)
    case = _refund_case("c2", "¿Cuánto me devuelven?")
    book = PolicyBook(id="acme", name="Acme", text="Los reembolsos tardan 5 días hábiles.")
    checks = GuardrailSet.build(GuardrailContext(policies={"acme": book}), ["facts"])
    good = (
        "Su reembolso de MXN 1,250.00 está aprobado. Llega en 5 días hábiles, antes de las 18:00."
    )
    clear_caches()
    assert checks.run(case, good) == []
    assert asked == []  # no quantity of the answer could be a wrong refund amount
    wrong = "Su reembolso de MXN 1,520.00 está aprobado."
    findings = checks.run(case, good + " " + wrong)
    assert [f.code for f in findings] == ["facts.contradiction"]
    assert findings[0].evidence.span is not None
    assert findings[0].evidence.span.text == "MXN 1,520.00"
    assert asked == [wrong]
