"""Issue #13 (6, 3) and #12: the guardrails read through disguises (zero-width characters, soft
hyphens, look-alike letters), an empty answer fails everywhere, and a guardrail's version is a
hash of the code that judges."""

from __future__ import annotations

import json
import random
import re
import shutil
import unicodedata
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from builders import POLICY, case_dict, run_suite, scan_cli, write_suite
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.compliance import verify, write_manifest
from evals.records import Case, Finding, PolicyBook, Versions
from evals.scorecard import build_scorecard
from evals.validate import validate_paths
from guardrails import check, guardrail_versions, register, registry_version
from guardrails import versions as versions_module
from guardrails.normalise import confusable_letters, normalise
from guardrails.registry import GuardrailContext, GuardrailSet, registered, unregister

ROOT = Path(__file__).resolve().parents[2]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u034f"]
#: Latin letters and their Cyrillic twins (what the issue's disguised answers used).
CYRILLIC = dict(zip("aceopxyijshABCEHIJKMOPTXY", "асеорхуіјѕһАВСЕНІЈКМОРТХУ", strict=True))
_WORD = re.compile(r"[^\W\d_]+")

CASE = Case.model_validate(case_dict("c1"))
BOOK = PolicyBook.model_validate(POLICY)


@cache
def labelled(folder: str | None = None) -> tuple[tuple[Case, str], ...]:
    """The labelled answers (of cases/<folder>/, or of every set), with their cases."""
    inventory = validate_paths([ROOT / "cases"])
    cases = {case.id: case for _, case in inventory.cases}
    return tuple(
        (cases[item.case], item.response)
        for file, item in inventory.labelled
        if folder is None or Path(file).parent.name == folder
    )


_CLEAN: dict[tuple[str, str], list[Finding]] = {}


def clean_findings(case: Case, text: str) -> list[Finding]:
    """The findings of an undisguised answer, computed once per session."""
    key = (case.id, text)
    if key not in _CLEAN:
        _CLEAN[key] = checks().run(case, text)
    return _CLEAN[key]


@cache
def checks() -> GuardrailSet:
    inventory = validate_paths([ROOT / "cases"])
    return GuardrailSet.build(GuardrailContext(policies=inventory.policies))


def hide_in_words(text: str, rng: random.Random, rate: float = 1.0) -> str:
    """An invisible character inside words (between two of their letters)."""
    out, last = [], 0
    for word in _WORD.finditer(text):
        if len(word.group()) > 1 and rng.random() < rate:
            cut = word.start() + rng.randrange(1, len(word.group()))
            out += [text[last:cut], rng.choice(INVISIBLE)]
            last = cut
    return "".join([*out, text[last:]])


def cyrillic_in_words(text: str, rng: random.Random, rate: float = 1.0) -> str:
    """Cyrillic twins for Latin letters, each word keeping at least one Latin letter (a word
    made all of Cyrillic letters is a Cyrillic word, which normalisation leaves alone)."""
    chars = list(text)
    for word in _WORD.finditer(text):
        swappable = [i for i in range(word.start(), word.end()) if text[i] in CYRILLIC]
        chosen = [i for i in swappable if rng.random() < rate]
        if len(chosen) == len(word.group()):
            chosen = chosen[1:]
        for i in chosen:
            chars[i] = CYRILLIC[text[i]]
    return "".join(chars)


def moved(findings: list[Finding], disguised: str) -> list[tuple[object, ...]]:
    """The findings of the clean answer with their spans mapped into the disguised one."""
    view = normalise(disguised)
    out = []
    for f in findings:
        span = f.evidence.span
        where = view.original_span(span.start, span.end) if span is not None else None
        out.append((f.code, f.severity, f.message, where))
    return out


def seen(findings: list[Finding], disguised: str) -> list[tuple[object, ...]]:
    out = []
    for f in findings:
        span = f.evidence.span
        if span is not None:  # every span quotes the answer as it was given
            assert span.text == disguised[span.start : span.end], f.code
        out.append((f.code, f.severity, f.message, span and (span.start, span.end)))
    return out


# -- normalisation ---------------------------------------------------------------------------


def test_invisible_characters_are_removed_and_look_alikes_made_latin() -> None:
    assert normalise("reem\u200bbol\u00adso en 7 di\u2060as").text == "reembolso en 7 dias"
    assert normalise("rеfund wіthin 30 dаys").text == "refund within 30 days"  # Cyrillic е, і, а
    assert normalise("Ιnvoice").text == "Invoice"  # Greek capital iota reads as I, not l
    assert normalise("ﬁnal ＡＢＣ ｒｅｆｕｎｄ").text == "final ABC refund"  # NFKC
    assert normalise("pа\u0301gina").text == "página"  # Cyrillic а + acute composes to á


@pytest.mark.parametrize(
    "text",
    [
        "Tu reembolso llegará en 7 días hábiles, não se preocupe, ¿vale? Sí, señora Núñez.",
        "Привет, мир: ваш возврат",  # a Cyrillic sentence stays Cyrillic
        "ΑΒΓ ΚΑΙ αβγ",  # whole Greek words, even of look-alike letters, stay Greek
        "Code 0O1l, ref 3З",  # digits are never touched; a Cyrillic ze is no digit
        "Hello, 😀 world — “quoted” ñ ç ã õ ü",
        # NFKC would respell these, and the rules read the respelling differently
        "Le pido disculpas… el 1º de marzo, la 2ª vez, en ½ hora, con Acme™.",
    ],
)
def test_ordinary_text_and_other_scripts_are_left_as_they_are(text: str) -> None:
    view = normalise(text)
    assert view.text == text and not view.changed


def test_the_look_alike_table_comes_from_unicode_data_and_maps_letters_to_letters() -> None:
    table = confusable_letters()
    assert len(table) > 500  # TR39 lists hundreds: not a hand-written handful
    assert all(len(t) == 1 and t.isascii() and t.isalpha() for t in table.values())
    assert all(src.isupper() == dst.isupper() for src, dst in table.items())
    assert {CYRILLIC[c]: c for c in CYRILLIC}.items() <= table.items()
    assert "З" not in table  # Cyrillic ze looks like the digit 3: never made a digit


@given(st.text(max_size=60))
def test_every_span_of_the_normalised_text_maps_inside_the_original(text: str) -> None:
    view = normalise(text)
    size = len(view.text)
    for start in range(size + 1):
        for end in (start, min(start + 1, size), size):
            a, b = view.original_span(start, end)
            assert 0 <= a <= b <= len(text)


@given(
    st.lists(st.tuples(st.sampled_from("abcdefghijklmnopqrstuvwxyz "), st.booleans())),
    st.sampled_from(INVISIBLE),
)
def test_invisible_characters_anywhere_are_as_if_absent(
    pieces: list[tuple[str, bool]], hidden: str
) -> None:
    clean = "".join(c for c, _ in pieces)
    disguised = "".join(c + (hidden if h else "") for c, h in pieces)
    assert normalise(disguised).text == clean


# -- verdicts through disguises -------------------------------------------------------------


def test_a_fabrication_with_a_zero_width_space_in_its_key_word_is_caught() -> None:
    clean = "Tu reembolso de EUR 10.00 llegará en 2 días hábiles."
    disguised = "Tu reembolso de EUR 10.00 llegará en 2 dí\u200bas hábiles."
    [policy] = {f.code for f in check(clean, CASE, BOOK) if f.guardrail == "policy"}
    raw = dict(GuardrailSet.build(GuardrailContext(policies={"acme": BOOK})).checks)["policy"]
    assert not [f for f in raw(CASE, disguised) if f.code == policy]  # unnormalised: it hid
    findings = check(disguised, CASE, BOOK)
    caught = [f for f in findings if f.code == policy]
    assert caught and all(f.severity == "critical" for f in caught)
    span = caught[0].evidence.span
    assert span is not None
    assert span.text == disguised[span.start : span.end] == "2 dí\u200bas hábiles"
    # and the clean answer the policy supports stays clean, disguised or not
    good = "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."
    assert check(good, CASE, BOOK) == []
    assert (
        check(
            cyrillic_in_words(hide_in_words(good, random.Random(1)), random.Random(2)), CASE, BOOK
        )
        == []
    )


@pytest.mark.parametrize(
    "disguise",
    [hide_in_words, cyrillic_in_words],
    ids=["zero-width in every word", "Cyrillic twins in every word"],
)
def test_every_labelled_answer_keeps_its_verdict_through_a_disguise_of_every_word(
    disguise: Callable[[str, random.Random], str],
) -> None:
    """The issue's measure: 94 of 138 fabrications passed with zero-width characters, 73 of
    122 with Cyrillic letters. Every answer of the tuning set (cases/labelled/) that fails a
    guardrail is disguised in every word: the same findings, with spans quoting the disguised
    answer."""
    rng = random.Random(13)
    failing = {"critical", "major"}
    answers = [
        (case, text)
        for case, text in labelled("labelled")
        if any(f.severity in failing for f in clean_findings(case, text))
    ]
    assert len(answers) > 300
    for case, text in answers:
        assert normalise(text).text == text  # the labelled answers need no normalising
        disguised = disguise(text, rng)
        assert disguised != text
        assert seen(checks().run(case, disguised), disguised) == moved(
            clean_findings(case, text), disguised
        ), (case.id, disguised)


@settings(max_examples=60, deadline=None)
@given(st.data(), st.randoms(use_true_random=False))
def test_any_mix_of_invisible_characters_and_look_alikes_changes_no_verdict(
    data: st.DataObject, rng: random.Random
) -> None:
    case, text = data.draw(st.sampled_from(labelled()))
    rate = data.draw(st.floats(0.05, 1.0))
    disguised = cyrillic_in_words(hide_in_words(text, rng, rate), rng, rate)
    assert normalise(disguised).text == text
    assert seen(checks().run(case, disguised), disguised) == moved(
        clean_findings(case, text), disguised
    )


# -- an empty answer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer", ["", "   \n\t", ".", "...", "\u200b\u200b", "¿?¡!", "👍", " — \u00ad "]
)
def test_an_answer_with_nothing_in_it_fails_even_when_only_one_guardrail_is_chosen(
    answer: str,
) -> None:
    for chosen in (None, ["tone"], ["template"]):
        findings = check(answer, CASE, BOOK, guardrails=chosen)
        empty = [f for f in findings if f.code == "response.empty"]
        assert [(f.guardrail, f.severity) for f in empty] == [("response", "critical")]
        span = empty[0].evidence.span
        assert span is not None and (span.start, span.end, span.text) == (0, len(answer), answer)


@pytest.mark.parametrize("answer", ["Sí.", "7", "OK", "Ваш возврат"])
def test_a_short_answer_is_not_empty(answer: str) -> None:
    assert not [f for f in check(answer, CASE, BOOK) if f.guardrail == "response"]


def test_the_empty_check_cannot_be_unregistered() -> None:
    with pytest.raises(ValueError, match="cannot be removed"):
        unregister("response")
    assert "response" in registered()


def test_evals_scan_fails_an_empty_answer(tmp_path: Path) -> None:
    records = [
        {
            "id": rid,
            "company": "acme",
            "language": "es",
            "response": response,
            "messages": [{"role": "user", "content": "¿Y mi reembolso?"}],
        }
        for rid, response in [
            ("t1", "\u200b"),
            ("t2", "."),
            ("t3", "Tu reembolso llega en 10 días hábiles."),
        ]
    ]
    done, out = scan_cli(tmp_path, list(records))
    assert done.returncode == 1, done.stderr
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    for rid in ("t1", "t2"):
        assert rows[rid]["passed"] is False
        assert [f["code"] for f in rows[rid]["findings"]] == ["response.empty"]
    assert rows["t3"]["passed"] is True


def test_a_run_fails_an_empty_answer_and_records_the_versions_that_judged_it(
    tmp_path: Path,
) -> None:
    targets = [
        {
            "name": "fake",
            "model": "fake/scripted",
            "params": {
                "extra": {
                    "replies": [" \u200b ", "Tu reembolso de EUR 10.00 llegará en 10 días hábiles."]
                }
            },
        }
    ]
    suite = write_suite(
        tmp_path,
        n_cases=2,
        targets=targets,
        extra={"replay": {"mode": "off"}, "guardrails": ["tone"], "concurrency": 1},
    )
    store, run_id = run_suite(suite)
    run = store.run(run_id)
    by_text = {r.response.text: r for r in run.results}
    empty, good = by_text[" \u200b "], by_text[next(t for t in by_text if t.strip(" \u200b"))]
    assert not empty.passed and [f.code for f in empty.findings] == ["response.empty"]
    assert good.passed
    judged = guardrail_versions(["tone"])
    assert set(judged) == {"response", "tone"} and run.versions.guardrail_versions == judged
    # the scorecard and the manifest name them too
    plan = store.plan(run_id)
    card = build_scorecard(run, plan)
    folder = tmp_path / "reports"
    folder.mkdir()
    scorecard = folder / "scorecard.json"
    scorecard.write_text(card.model_dump_json(), encoding="utf-8")
    manifest = write_manifest(store, run_id, plan, card, folder, [scorecard])
    assert json.loads(scorecard.read_text())["versions"]["guardrail_versions"] == judged
    assert json.loads(manifest.read_text())["guardrails"]["versions"] == judged
    assert verify(store, run_id, manifest).status == "intact"
    store.close()


# -- versions -------------------------------------------------------------------------------


def test_built_in_versions_are_hashes_of_the_code_each_family_uses() -> None:
    versions = guardrail_versions()
    assert set(versions) >= {"policy", "facts", "tone", "privacy", "response"}
    assert "1" not in versions.values() and len(set(versions.values())) == len(versions)
    assert registry_version() != registry_version(["tone"])
    assert "grounding" in versions_module.closure(("policy",))
    assert "grounding" not in versions_module.closure(("tone",))


def test_editing_a_module_changes_the_version_of_the_families_that_use_it_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = guardrail_versions()
    copy = tmp_path / "guardrails"
    # the whole package, data files included (they are part of every family's version)
    shutil.copytree(versions_module.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    grounding = copy / "grounding.py"
    grounding.write_text(grounding.read_text(encoding="utf-8") + "\nX = 1\n", encoding="utf-8")
    monkeypatch.setattr(versions_module, "PACKAGE_DIR", copy)
    for cached in (versions_module.builtin_version, versions_module._imports):
        cached.cache_clear()
    try:
        monkeypatch.setattr(versions_module, "is_builtin", lambda factory: True)
        after = guardrail_versions()
    finally:
        for cached in (versions_module.builtin_version, versions_module._imports):
            cached.cache_clear()
    assert after["policy"] != before["policy"] and after["facts"] != before["facts"]
    assert after["tone"] == before["tone"] and after["template"] == before["template"]
    (copy / "lexicon.json").write_text("{}", encoding="utf-8")  # a data file: every family
    versions_module.builtin_version.cache_clear()
    try:
        data = guardrail_versions()
    finally:
        versions_module.builtin_version.cache_clear()
    assert data["tone"] != after["tone"]


def test_a_users_guardrail_is_versioned_by_its_module_unless_it_gives_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        "from guardrails import register\n\n"
        "@register('my_rule{n}')\n"
        "def build(context):\n"
        "    return lambda case, text: []  # {n}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    versions = []
    for n in (1, 2):
        (tmp_path / f"my_rules_{n}.py").write_text(source.format(n=n), encoding="utf-8")
        __import__(f"my_rules_{n}")
        versions.append(registered()[f"my_rule{n}"].version)
    try:
        assert versions[0] != versions[1] and all(len(v) == 16 for v in versions)

        @register("my_pinned", version="2024.1")
        def pinned(context: GuardrailContext) -> Callable[[Case, str], list[Finding]]:
            return lambda case, text: []

        assert registered()["my_pinned"].version == "2024.1"
    finally:
        for name in ("my_rule1", "my_rule2", "my_pinned"):
            unregister(name)


def test_runs_stored_before_versions_were_recorded_still_read() -> None:
    old = '{"package": "0.1.0", "guardrails": "abc", "policy_books": {}, "cases": "c"}'
    assert Versions.model_validate_json(old).guardrail_versions == {}


def test_nfkc_is_what_the_rules_read() -> None:
    text = "Reembolso ＥＵＲ １０ en ⑦ días"
    assert normalise(text).text == unicodedata.normalize("NFKC", text)


def test_a_guardrail_without_source_still_gets_a_stable_version() -> None:
    namespace: dict[str, object] = {}
    exec("def build(context):\n    return lambda case, text: []\n", namespace)
    build = namespace["build"]
    assert callable(build)
    build.__module__ = "made_at_run_time"  # type: ignore[attr-defined]
    first = versions_module.version_of(build, None)
    assert first == versions_module.version_of(build, None) and len(first) == 16
