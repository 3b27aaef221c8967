"""Domain knowledge as data packs (`guardrails.packs`): a company of an industry no pack knows is
checked by the core alone; a pack's terms count only for a book that uses the pack; a book's own
terms count; a bad pack or an unknown name is a clear error; packs are part of the version.

Every company, policy and answer here is invented."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import POLICY, write_suite
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.records import Case, PolicyBook
from guardrails import check, packs
from guardrails import versions as versions_module
from guardrails.lexicon import build, concepts, lexicon_for
from guardrails.registry import guardrail_versions

# --- a ferry operator: an industry no shipped pack is about, with no pack at all ------------------

FERRY_POLICY = """# Marlinea Ferries customer policy

## Changes and cancellations
- A ticket can be changed up to 24 hours before departure; each change costs EUR 15.00.
- Cancellations at least 48 hours before departure get a full refund; later ones get no refund.
- Refunds reach the original card within 7 business days.

## Delays
- An arrival 2 hours or more late earns compensation of 25% of the ticket price.

## Reaching a person
- Agents answer in the chat every day, 07:00 to 23:00.
"""
FERRY = PolicyBook(id="marlinea", name="Marlinea", text=FERRY_POLICY, packs=[])


def ferry_case(language: str, message: str, facts: dict[str, Any] | None = None) -> Case:
    return Case.model_validate(
        {
            "id": "ferry-1",
            "intent": "ticket_change",
            "kind": "support",
            "language": language,
            "channel": "chat",
            "risk": "medium",
            "company": "marlinea",
            "messages": [{"role": "user", "content": message}],
            "facts": facts or {},
        }
    )


CHANGE_EN = "Can I change my ferry ticket?"
CHANGE_ES = "¿Puedo cambiar mi billete del ferry?"
PRICE = {"ticket_price": "EUR 80.00"}
STRIKE = ("Was the return route hit by the strike too?", {"return_route_affected": False})
PERSON = "I want to talk to a person, now."


def failing(text: str, case: Case, book: PolicyBook = FERRY) -> set[str]:
    """The codes of the findings that fail the answer (critical and major)."""
    return {f.code for f in check(text, case, book) if f.severity in ("critical", "major")}


@pytest.mark.parametrize(
    ("language", "message", "facts", "bad", "code", "good"),
    [
        # a wrong value of a fee the policy states
        (
            "en",
            CHANGE_EN,
            PRICE,
            "Changing your ticket costs EUR 10.00, up to 24 hours before departure.",
            "policy.contradicted",
            "Changing your ticket costs EUR 15.00, up to 24 hours before departure.",
        ),
        (
            "es",
            CHANGE_ES,
            PRICE,
            "Cambiar tu billete cuesta EUR 12.00, hasta 24 horas antes de la salida.",
            "policy.contradicted",
            "Cambiar tu billete cuesta EUR 15.00, hasta 24 horas antes de la salida.",
        ),
        # an invented fee
        (
            "en",
            CHANGE_EN,
            PRICE,
            "Changing your ticket costs EUR 15.00, plus a EUR 20.00 port fee.",
            "policy.unsupported",
            "Changing your ticket costs EUR 15.00.",
        ),
        # a wrong window
        (
            "en",
            CHANGE_EN,
            PRICE,
            "Your refund will reach your card within 3 business days.",
            "policy.contradicted",
            "Your refund will reach your card within 7 business days.",
        ),
        (
            "es",
            CHANGE_ES,
            PRICE,
            "Te devolvemos el dinero en 3 días hábiles.",
            "policy.contradicted",
            "Te devolvemos el dinero en 7 días hábiles.",
        ),
        # a wrong percentage
        (
            "en",
            CHANGE_EN,
            PRICE,
            "An arrival 2 hours late earns compensation of 40% of the ticket price.",
            "policy.contradicted",
            "An arrival 2 hours late earns compensation of 25% of the ticket price.",
        ),
        # wrong opening hours
        (
            "en",
            CHANGE_EN,
            PRICE,
            "Our agents answer in the chat every day from 09:00 to 18:00.",
            "policy.unsupported",
            "Our agents answer in the chat every day from 07:00 to 23:00.",
        ),
        # an invented benefit
        (
            "es",
            CHANGE_ES,
            PRICE,
            "Cambiar tu billete cuesta EUR 15.00 y te regalamos un cupón de EUR 10.00.",
            "policy.unsupported",
            "Cambiar tu billete cuesta EUR 15.00.",
        ),
        # a value of the case contradicted
        (
            "en",
            CHANGE_EN,
            PRICE,
            "Your ticket cost EUR 95.00, so the change fee is EUR 15.00.",
            "facts.contradiction",
            "Your ticket cost EUR 80.00, so the change fee is EUR 15.00.",
        ),
        # a yes/no fact contradicted
        (
            "en",
            *STRIKE,
            "The strike also affected the return route.",
            "facts.contradiction",
            "The return route was not affected by the strike.",
        ),
        # a credential asked for
        (
            "en",
            CHANGE_EN,
            PRICE,
            "Please send me your card number and the PIN so I can process the change.",
            "privacy.credential_request",
            "You can change the ticket yourself in the app; it costs EUR 15.00.",
        ),
        (
            "es",
            CHANGE_ES,
            PRICE,
            "Pásame el número de tu tarjeta y el código de seguridad.",
            "privacy.credential_request",
            "Puedes cambiar el billete en la app; cuesta EUR 15.00.",
        ),
        # no path to the person the customer asks for
        (
            "en",
            PERSON,
            None,
            "I understand. Changing your ticket costs EUR 15.00.",
            "handoff.missing",
            "Of course: our agents answer in the chat every day, 07:00 to 23:00, and I can pass "
            "you to one now.",
        ),
        # a placeholder, the wrong language, repetition
        (
            "en",
            CHANGE_EN,
            None,
            "Hello [CUSTOMER_NAME], changing your ticket costs EUR 15.00.",
            "template.placeholder",
            "Hello, changing your ticket costs EUR 15.00.",
        ),
        (
            "es",
            CHANGE_ES,
            None,
            "Yes, changing your ticket costs EUR 15.00 up to 24 hours before departure.",
            "language.mismatch",
            "Sí, cambiar el billete cuesta EUR 15.00 hasta 24 horas antes de la salida.",
        ),
        (
            "en",
            CHANGE_EN,
            None,
            "Changing your ticket costs EUR 15.00. Changing your ticket costs EUR 15.00. "
            "Changing your ticket costs EUR 15.00.",
            "tone.repetition",
            "Changing your ticket costs EUR 15.00.",
        ),
    ],
)
def test_a_company_of_an_unknown_industry_is_checked_by_the_core_alone(
    language: str,
    message: str,
    facts: dict[str, Any] | None,
    bad: str,
    code: str,
    good: str,
) -> None:
    """A new company with zero code edits and no pack: its faults are caught, its clean
    answers pass."""
    assert packs.packs_for(FERRY) == []
    case = ferry_case(language, message, facts)
    assert code in failing(bad, case)
    assert failing(good, case) == set()


# --- a pack counts only where it is used ----------------------------------------------------------

SETTLEMENT = "We can offer you a settlement: pay half and we write off the rest."


def test_a_packs_terms_count_only_for_a_book_that_names_the_pack() -> None:
    with_pack = FERRY.model_copy(update={"packs": ["consumer-credit"]})
    lender = lexicon_for(with_pack)
    assert "settlement" in concepts(SETTLEMENT, lender)
    assert "settlement" not in concepts(SETTLEMENT, lexicon_for(FERRY))
    case = ferry_case("en", CHANGE_EN)
    # a debt settlement is a benefit of the consumer-credit pack: invented, for a lender
    assert "policy.unsupported" in failing(SETTLEMENT, case, with_pack)
    assert "policy.unsupported" not in failing(SETTLEMENT, case, FERRY)
    # a telecom term is nothing to a lender
    assert "device" not in concepts("Restart the router, please.", lender)
    assert "device" in concepts("Restart the router, please.", lexicon_for(None))


def test_auto_packs_are_those_whose_terms_the_book_uses() -> None:
    auto = FERRY.model_copy(update={"packs": "auto"})
    assert packs.packs_for(auto) == []  # a ferry policy uses no pack's terms
    shop = PolicyBook(
        id="shop",
        name="Shop",
        text="- Orders ship within 2 days by courier.\n- Prices in Mexico and in Spain differ.\n",
    )
    assert shop.packs == "auto"
    assert packs.packs_for(shop) == ["countries", "retail"]
    assert packs.describe(shop) == "countries, retail (auto)"
    assert packs.packs_for(shop.model_copy(update={"packs": []})) == []
    assert packs.packs_for(shop.model_copy(update={"packs": ["telecom"]})) == ["telecom"]
    # the countries of a pack the book does not use are no country to the checks
    assert lexicon_for(shop).country_codes("mexico") == ["MX"]
    assert lexicon_for(FERRY).country_codes("mexico") == []


def test_a_books_own_terms_are_read_as_their_concept() -> None:
    fast_lane = ["fast lane boarding", "embarque rapido"]
    own = FERRY.model_copy(update={"terms": {"priority": fast_lane}})
    for language, message, text in [
        ("en", CHANGE_EN, "To make up for it, we will give you fast lane boarding next time."),
        ("es", CHANGE_ES, "Para compensarte te damos embarque rápido en tu próximo viaje."),
    ]:
        case = ferry_case(language, message)
        assert "policy.unsupported" in failing(text, case, own)
        assert "policy.unsupported" not in failing(text, case, FERRY)
    assert (
        failing("Changing your ticket costs EUR 15.00.", ferry_case("en", CHANGE_EN), own) == set()
    )


def test_one_lexicon_per_distinct_pack_set_and_terms() -> None:
    other = PolicyBook(id="other", name="Other", text="- Anything else.\n", packs=[])
    assert lexicon_for(other) is lexicon_for(FERRY)
    lender = FERRY.model_copy(update={"packs": ["consumer-credit"]})
    assert lexicon_for(lender) is not lexicon_for(FERRY)
    assert lexicon_for(lender) is lexicon_for(
        other.model_copy(update={"packs": ["consumer-credit"]})
    )
    assert lexicon_for(lender).packs == ("core", "consumer-credit")


def test_packs_and_terms_are_part_of_the_books_version() -> None:
    plain = PolicyBook(id="a", name="A", text="- Refunds within 5 days.\n")
    versions = {
        plain.version,
        plain.model_copy(update={"version": ""})
        .model_validate({**plain.model_dump(exclude={"version"}), "packs": []})
        .version,
        PolicyBook.model_validate(
            {**plain.model_dump(exclude={"version"}), "packs": ["retail"]}
        ).version,
        PolicyBook.model_validate(
            {**plain.model_dump(exclude={"version"}), "terms": {"plan": ["Gold Card"]}}
        ).version,
    }
    assert len(versions) == 4
    # a book that names neither keeps the version of its text, and dumps as before
    assert plain.version == PolicyBook(id="b", name="B", text=plain.text).version
    assert set(plain.model_dump()) == {"id", "name", "text", "version"}


# --- errors ---------------------------------------------------------------------------------------


def test_an_unknown_pack_is_an_error_naming_the_book_the_field_and_the_known_packs() -> None:
    book = FERRY.model_copy(update={"packs": ["retail", "ferries"]})
    with pytest.raises(packs.UnknownPack) as caught:
        packs.packs_for(book)
    message = str(caught.value)
    assert "'marlinea'" in message and "packs" in message and "['ferries']" in message
    assert "consumer-credit, countries, retail, telecom, tiers" in message
    # a set of checks for such a book is refused before any answer is checked
    from guardrails import GuardrailContext, GuardrailSet

    with pytest.raises(packs.UnknownPack, match="ferries"):
        GuardrailSet.build(GuardrailContext(policies={"marlinea": book}))


def test_a_policy_file_naming_an_unknown_pack_is_an_input_error_at_its_line(tmp_path: Path) -> None:
    from evals.case_files import load_policy_books

    path = tmp_path / "ferry.yaml"
    path.write_text(
        "id: marlinea\nname: Marlinea\npacks:\n  - retail\n  - ferries\ntext: |\n  - Hi.\n",
        encoding="utf-8",
    )
    issues: list[Any] = []
    books = load_policy_books([path], issues)
    assert books == {}
    [issue] = issues
    assert issue.file == str(path) and issue.line == 5 and issue.field == "packs[1]"
    assert "unknown pack 'ferries'" in issue.message and "retail, telecom" in issue.message
    path.write_text(
        path.read_text(encoding="utf-8").replace("ferries", "telecom"), encoding="utf-8"
    )
    issues = []
    assert list(load_policy_books([path], issues)) == ["marlinea"] and issues == []


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: x\ndescription: d\nconcepts:\n  Ferry: [boat]\n", "concepts.Ferry"),
        ("name: x\ndescription: d\nconcepts:\n  ferry: [boat]\nbenefits: [cabin]\n", "benefits"),
        ("name: x\ndescription: d\nconcepts:\n  ferry: ['bo*at']\n", "concepts.ferry[0]"),
        ("name: x\ndescription: d\nconcepts:\n  ferry: []\n", "concepts.ferry"),
        ("name: x\ndescription: d\ncountries:\n  ESP: [spain]\n", "countries.ESP"),
        ("name: x\nconcepts:\n  ferry: [boat]\n", "description"),
        ("name: x\ndescription: d\nconcept:\n  ferry: [boat]\n", "concept"),
        ("- just a list\n", "a pack is a mapping"),
        ("name: [x\n", "not a readable YAML file"),
    ],
)
def test_a_malformed_pack_names_its_file_and_field(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(packs.PackError) as caught:
        packs.load_pack(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert where in str(caught.value)


def test_every_shipped_pack_loads_and_names_its_own_concepts() -> None:
    shipped = packs.shipped()
    assert set(shipped) == {"consumer-credit", "countries", "retail", "telecom", "tiers"}
    seen: dict[str, str] = {concept: "core" for concept in packs.core().pack.concepts}
    for name, loaded in shipped.items():
        assert loaded.pack.description and loaded.version
        for concept in loaded.pack.concepts:  # one home per concept
            assert seen.setdefault(concept, name) == name


# --- versions and plugins -------------------------------------------------------------------------


def test_editing_a_pack_changes_every_familys_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = guardrail_versions()
    copy = tmp_path / "guardrails"
    shutil.copytree(versions_module.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    retail = copy / "packs" / "retail.yaml"
    retail.write_text(retail.read_text(encoding="utf-8") + "  - pick-up point\n", encoding="utf-8")
    monkeypatch.setattr(versions_module, "PACKAGE_DIR", copy)
    monkeypatch.setattr(versions_module, "is_builtin", lambda factory: True)
    versions_module.builtin_version.cache_clear()
    try:
        after = guardrail_versions()
    finally:
        versions_module.builtin_version.cache_clear()
    for family in ("policy", "facts", "tone", "privacy"):
        assert after[family] != before[family]


PLUGIN_PACK = """name: ferry-terms
description: Words of ferry operators.
concepts:
  vessel: [ferry, ferries, catamaran*, barco*]
  priority: [fast lane boarding, embarque rapido]
benefits: [priority]
"""


def test_a_plugin_pack_is_usable_by_name_and_enters_the_versions(tmp_path: Path) -> None:
    (tmp_path / "terms").mkdir()
    (tmp_path / "terms" / "ferry-terms.yaml").write_text(PLUGIN_PACK, encoding="utf-8")
    book = FERRY.model_copy(update={"packs": ["ferry-terms"]})
    with pytest.raises(packs.UnknownPack):
        packs.packs_for(book)
    before = guardrail_versions()
    packs.register("ferry-terms", tmp_path / "terms")
    try:
        assert packs.packs_for(book) == ["ferry-terms"]
        assert "vessel" in concepts("El catamarán sale a las 9.", lexicon_for(book))
        case = ferry_case("en", CHANGE_EN)
        text = "To make up for it, we will give you fast lane boarding next time."
        assert "policy.unsupported" in failing(text, case, book)
        # auto: a ferry book uses the plugin's terms
        assert "ferry-terms" in packs.packs_for(FERRY.model_copy(update={"packs": "auto"}))
        after = guardrail_versions()
        assert after["policy"] != before["policy"] and after["facts"] != before["facts"]
        with pytest.raises(packs.PackError, match="already registered"):
            other = tmp_path / "other.yaml"
            other.write_text(PLUGIN_PACK, encoding="utf-8")
            packs.register("ferry-terms", other)
        with pytest.raises(packs.PackError, match="ships with supportgate"):
            packs.register("retail", tmp_path / "terms")
    finally:
        packs.unregister("ferry-terms")
    assert guardrail_versions() == before


def test_a_suites_plugin_module_may_register_a_pack_its_books_name(tmp_path: Path) -> None:
    from evals.suite_file import gather_suite

    (tmp_path / "ferry-terms.yaml").write_text(PLUGIN_PACK, encoding="utf-8")
    (tmp_path / "ferry_pack_plugin.py").write_text(
        "from pathlib import Path\nfrom guardrails import packs\n\n"
        "packs.register('ferry-terms', Path(__file__).parent / 'ferry-terms.yaml')\n",
        encoding="utf-8",
    )
    suite = write_suite(tmp_path, extra={"plugins": ["ferry_pack_plugin"]})
    policy = {**POLICY, "packs": ["ferry-terms"]}
    (tmp_path / "policies" / "acme.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    try:
        inputs = gather_suite(suite)
        assert inputs.issues == []
        assert packs.packs_for(inputs.policies["acme"]) == ["ferry-terms"]
    finally:
        packs.unregister("ferry-terms")


# --- a property: packs only add -------------------------------------------------------------------

_SHIPPED = sorted(packs.shipped())
_WORDS = sorted(
    {
        term.replace("*", "s")
        for loaded in (packs.core(), *packs.shipped().values())
        for terms in loaded.pack.concepts.values()
        for term in terms
    }
)


@settings(max_examples=60, deadline=None)
@given(
    chosen=st.sets(st.sampled_from(_SHIPPED)),
    words=st.lists(st.sampled_from([*_WORDS, "the", "y", "de", "ok"]), min_size=1, max_size=12),
)
def test_concepts_come_only_from_the_packs_in_use_and_a_pack_only_adds(
    chosen: set[str], words: list[str]
) -> None:
    text = " ".join(words)
    some = build([packs.core(), *(packs.get(n) for n in sorted(chosen))])
    every = build([packs.core(), *(packs.get(n) for n in _SHIPPED)])
    found = concepts(text, some)
    allowed = set(packs.core().pack.concepts).union(*(packs.get(n).pack.concepts for n in chosen))
    assert found <= allowed
    assert found <= concepts(text, every)
    assert found == concepts(text, every) & allowed


def test_an_installed_plugins_pack_is_loaded_when_a_book_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `supportgate.packs` entry point (here a package folder on sys.path) is registered by
    name when a policy book names a pack not known yet, and recorded as the plugin's."""
    from importlib import metadata

    from evals import plugins
    from evals.case_files import load_policy_books

    package = tmp_path / "site" / "marlinea_terms"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "ferry-terms.yaml").write_text(PLUGIN_PACK, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    entry = metadata.EntryPoint("ferry-terms", "marlinea_terms", plugins.PACKS_GROUP)
    monkeypatch.setattr(
        plugins, "_group", lambda group: [entry] if group == plugins.PACKS_GROUP else []
    )
    monkeypatch.setattr(plugins, "_entry_points", {})
    monkeypatch.setattr(plugins, "_packs", {})
    monkeypatch.setattr(plugins, "_distribution", lambda ep: (None, "unknown"))
    book = tmp_path / "ferry.yaml"
    book.write_text(
        f"id: marlinea\nname: Marlinea\npacks: [ferry-terms]\ntext: |\n  {FERRY_POLICY[:40]}\n",
        encoding="utf-8",
    )
    issues: list[Any] = []
    try:
        books = load_policy_books([book], issues)
        assert issues == [] and packs.packs_for(books["marlinea"]) == ["ferry-terms"]
        assert plugins.packs() == {"ferry-terms": package.resolve()}
    finally:
        packs.unregister("ferry-terms")


def test_the_countries_pack_ties_a_value_to_the_customers_country() -> None:
    text = (
        "# Marlinea Ferries customer policy\n\n## Refunds\n- Refunds reach the original card "
        "within 7 business days in Spain and 10 business days in Chile.\n"
    )
    seven = "Tu reembolso llegará a tu tarjeta en 7 días hábiles."
    ten = "Tu reembolso llegará a tu tarjeta en 10 días hábiles."
    book = PolicyBook(id="marlinea", name="Marlinea", text=text)
    assert packs.packs_for(book) == ["countries"]

    def codes(answer: str, language: str, on: PolicyBook) -> list[str]:
        case = ferry_case(language, "¿Cuándo llega mi reembolso?")
        return [f.code for f in check(answer, case, on, guardrails=["policy"])]

    assert codes(seven, "es-CL", book) == ["policy.contradicted"]
    assert codes(ten, "es-CL", book) == []
    assert codes(ten, "es-ES", book) == ["policy.contradicted"]
    assert codes(seven, "es-ES", book) == []
    # without the pack a value stated anywhere in the policy is the policy's
    core_only = book.model_copy(update={"packs": []})
    assert codes(seven, "es-CL", core_only) == codes(ten, "es-ES", core_only) == []


def test_validate_names_an_unknown_pack_and_shows_the_packs_each_book_uses(tmp_path: Path) -> None:
    import subprocess
    import sys

    book = tmp_path / "marlinea.yaml"
    book.write_text(
        "id: marlinea\nname: Marlinea\npacks: [retail, ferries]\ntext: |\n  - Hi.\n",
        encoding="utf-8",
    )
    (tmp_path / "shop.yaml").write_text(
        "id: shop\nname: Shop\ntext: |\n  - Orders ship by courier within 2 days.\n",
        encoding="utf-8",
    )

    def validate() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "evals", "validate", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = validate()
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        f"{book}:3: record 'marlinea': field 'packs[1]': unknown pack 'ferries'; known packs: "
        "consumer-credit, countries, retail, telecom, tiers" in done.stderr
    )
    book.write_text(book.read_text(encoding="utf-8").replace(", ferries", ""), encoding="utf-8")
    done = validate()
    assert done.returncode == 0, done.stderr
    assert "policy book marlinea: packs retail\n" in done.stdout
    assert "policy book shop: packs retail (auto)\n" in done.stdout


def test_a_run_records_the_packs_each_book_was_checked_with(tmp_path: Path) -> None:
    from builders import run_suite

    suite = write_suite(tmp_path)
    store, run_id = run_suite(suite)
    # the suite's book speaks of deliveries: auto chose the retail pack, and the run says so
    assert store.run(run_id).versions.policy_packs == {"acme": ["retail"]}
    policy = {**POLICY, "packs": []}
    (tmp_path / "policies" / "acme.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    store, run_id = run_suite(suite)
    assert store.run(run_id).versions.policy_packs == {"acme": []}
