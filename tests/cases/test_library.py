"""The case library's contract (cases/): what the bundled policy books, cases and labelled
responses must satisfy so that suites, scorecards and the guardrail-accuracy benchmark built on
them mean something.

Every assertion names the offending file, case or labelled record, so a failure says what to fix.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from evals.records import FAMILIES, Case, FactValue, LabelledResponse, PolicyBook
from evals.validate import Inventory, validate_paths

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "cases"
LABELLED = CASES / "labelled"
HELDOUT = CASES / "heldout"
#: Held-out sets, each written blind. heldout/ and heldout2/ were tuned on once the next set
#: existed; heldout3/ is the one never tuned on.
HELDOUT_SETS = (HELDOUT, CASES / "heldout2", CASES / "heldout3")

CRISIS_INTENTS = (
    "service_outage",
    "influencer_review",
    "data_breach",
    "political_neutrality",
    "competitor_smear",
    "key_client_retention",
)
SUPPORT_INTENTS = (
    "refund_status",
    "return_outside_window",
    "late_payment_fee",
    "payment_date_change",
    "dispute_deadline",
    "double_charge",
    "cancel_subscription",
    "plan_change",
    "delivery_delay",
    "account_locked",
    "request_human",
    "complaint_escalation",
    "data_protection_request",
    "debt_collection",
)

MIN_CASES = 150
MIN_INTENTS = 20
MIN_CASES_PER_INTENT = 5
MIN_MULTI_TURN = 20
MIN_LANGUAGE_SHARE = {"es": 0.50, "en": 0.25, "pt": 0.10}
POLICY_WORDS = (300, 800)
MIN_LABELLED = 300
MIN_CLEAN_SHARE = 0.40
MIN_POSITIVES_PER_FAMILY = 30
MIN_DEMO_INTENTS = 8
HELDOUT_MIN_POSITIVES_PER_FAMILY = 15
HELDOUT_CLEAN_SHARE = (0.30, 0.50)


# --- loading -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return validate_paths([CASES])


@pytest.fixture(scope="module")
def cases(inventory: Inventory) -> list[tuple[str, Case]]:
    return [(_rel(file), case) for file, case in inventory.cases]


@pytest.fixture(scope="module")
def labelled(inventory: Inventory) -> list[tuple[str, LabelledResponse]]:
    """The tuning set (cases/labelled/) only: the held-out set has its own, smaller contract."""
    return _labelled_under(inventory, LABELLED)


@pytest.fixture(scope="module", params=HELDOUT_SETS, ids=lambda folder: folder.name)
def heldout(
    inventory: Inventory, request: pytest.FixtureRequest
) -> list[tuple[str, LabelledResponse]]:
    """One held-out set per parameter: each is held to the same contract."""
    folder: Path = request.param
    return _labelled_under(inventory, folder)


def _labelled_under(inventory: Inventory, folder: Path) -> list[tuple[str, LabelledResponse]]:
    return [
        (_rel(file), item)
        for file, item in inventory.labelled
        if Path(file).resolve().is_relative_to(folder)
    ]


def _rel(file: str) -> str:
    path = Path(file)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else file


def _where(file: str, case: Case) -> str:
    return f"{case.id} ({file})"


def _listing(problems: Iterable[str]) -> str:
    return "\n  " + "\n  ".join(problems)


def _primary(language: str) -> str:
    return language.split("-")[0].lower()


def _user_turns(case: Case) -> int:
    return sum(1 for message in case.messages if message.role == "user")


# --- text helpers --------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-insensitive form, with runs of whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", stripped.casefold()).strip()


def word_count(text: str) -> int:
    """Whitespace-separated tokens that contain a letter or digit (a bullet '-' is no word)."""
    return sum(1 for token in text.split() if re.search(r"[^\W_]", token))


def contains_text(folded_text: str, value: str) -> bool:
    needle = fold(value)
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", folded_text) is not None


#: Currency codes with the symbols and names an answer may use instead (folded).
CURRENCIES: dict[str, tuple[str, ...]] = {
    "mxn": ("mxn", "mx$", "$", "pesos", "peso"),
    "ars": ("ars", "ar$", "$", "pesos", "peso"),
    "usd": ("usd", "us$", "$", "dollars", "dollar", "dolares", "dolar"),
    "eur": ("eur", "€", "euros", "euro"),
    "brl": ("brl", "r$", "reais", "real"),
    "gbp": ("gbp", "£", "pounds", "libras"),
}

#: Units a quantity fact may carry, with their spellings in English, Spanish and Portuguese
#: (folded). Longer spellings first, so "business days" is not read as "days".
UNITS: dict[str, tuple[str, ...]] = {
    "business days": (
        "business days",
        "business day",
        "working days",
        "working day",
        "dias habiles",
        "dia habil",
        "dias laborables",
        "dia laborable",
        "dias uteis",
        "dia util",
    ),
    "days": ("days", "day", "dias", "dia"),
    "hours": ("hours", "hour", "horas", "hora", "hrs", "h"),
    "minutes": ("minutes", "minute", "minutos", "minuto", "min"),
    "weeks": ("weeks", "week", "semanas", "semana"),
    "months": ("months", "month", "meses", "mes"),
    "years": ("years", "year", "anos", "ano"),
    "%": ("%", "percent", "per cent", "por ciento", "por cento"),
    "mb": ("mbps", "mb/s", "mb", "megas"),
    "gb": ("gb", "gigas"),
}
_UNIT_OF = {spelling: unit for unit, spellings in UNITS.items() for spelling in spellings}

_NUMBER = r"\d+(?:[.,]\d+)*"
_NUMBER_TOKEN = re.compile(rf"(?<![\d.,]){_NUMBER}")
_QUANTITY_FACT = re.compile(rf"^(?:(?P<code>[a-z]{{3}})\s*)?(?P<number>{_NUMBER})\s*(?P<unit>.*)$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

MONTHS: dict[int, tuple[str, ...]] = {
    1: ("january", "enero", "janeiro"),
    2: ("february", "febrero", "fevereiro"),
    3: ("march", "marzo", "marco"),
    4: ("april", "abril"),
    5: ("may", "mayo", "maio"),
    6: ("june", "junio", "junho"),
    7: ("july", "julio", "julho"),
    8: ("august", "agosto"),
    9: ("september", "septiembre", "setiembre", "setembro"),
    10: ("october", "octubre", "outubro"),
    11: ("november", "noviembre", "novembro"),
    12: ("december", "diciembre", "dezembro"),
}


def number_values(raw: str) -> set[Decimal]:
    """Every value a written number can mean: '1,250.00' and '1.250,00' are 1250; '1.250'
    is 1250 or 1.25; '150' and '150.00' are both 150."""
    seps = [ch for ch in raw if ch in ".,"]
    groups = re.split(r"[.,]", raw)
    try:
        if not seps:
            return {Decimal(raw)}
        if len(set(seps)) == 2:
            decimal_sep = seps[-1]
            if seps.count(decimal_sep) > 1 or any(len(g) != 3 for g in groups[1:-1]):
                return set()
            whole, _, fraction = raw.rpartition(decimal_sep)
            return {Decimal(re.sub(r"[.,]", "", whole) + "." + fraction)}
        if len(seps) > 1:  # one separator repeated: thousands grouping
            ok = all(len(g) == 3 for g in groups[1:])
            return {Decimal("".join(groups))} if ok else set()
        whole, fraction = groups
        values = {Decimal(f"{whole}.{fraction}")}
        if len(fraction) == 3:
            values.add(Decimal(whole + fraction))
        return values
    except InvalidOperation:
        return set()


def _currency_near(folded_text: str, start: int, end: int, code: str | None) -> bool:
    """A currency marker right before or right after the number at [start, end)."""
    markers = (
        CURRENCIES.get(code, (code,))
        if code
        else tuple(m for ms in CURRENCIES.values() for m in ms)
    )
    before = folded_text[:start].rstrip()
    after = folded_text[end:].lstrip()
    for marker in markers:
        alpha = marker[-1].isalpha()
        if before.endswith(marker) and (
            not marker[0].isalpha() or not before[: -len(marker)][-1:].isalpha()
        ):
            return True
        if after.startswith(marker) and (not alpha or not after[len(marker) :][:1].isalpha()):
            return True
    return False


def _unit_after(folded_text: str, end: int, unit: str) -> bool:
    after = folded_text[end:].lstrip()
    after = after[1:].lstrip() if after.startswith("-") else after  # "a 48-hour window"
    for spelling in UNITS[unit]:
        if after.startswith(spelling) and not after[len(spelling) :][:1].isalpha():
            return True
    return False


def _states_quantity(
    folded_text: str, values: set[Decimal], code: str | None, unit: str | None
) -> bool:
    for match in _NUMBER_TOKEN.finditer(folded_text):
        if not values & number_values(match.group()):
            continue
        start, end = match.span()
        if code is not None:
            if _currency_near(folded_text, start, end, code):
                return True
        elif unit is not None:
            if _unit_after(folded_text, end, unit):
                return True
        elif not _currency_near(folded_text, start, end, None):
            return True  # a bare count: any number but an amount of money
    return False


def _states_date(folded_text: str, iso: str) -> bool:
    match = _ISO_DATE.match(iso)
    assert match is not None
    year, month, day = (int(g) for g in match.groups())
    if iso in folded_text:
        return True
    names = "|".join(MONTHS[month])
    d, m = rf"0?{day}", rf"0?{month}"
    patterns = (
        rf"(?<!\d){d}(?:st|nd|rd|th|º|°)?\s+(?:de\s+)?(?:{names})\b",
        rf"\b(?:{names})\s+{d}(?:st|nd|rd|th)?(?!\d)",
        rf"(?<![\d/]){d}/{m}(?:/(?:{year}|{year % 100:02d}))?(?![\d/])",
        rf"(?<![\d/]){m}/{d}(?:/(?:{year}|{year % 100:02d}))?(?![\d/])",
    )
    return any(re.search(p, folded_text) for p in patterns)


def states_value(text: str, value: str | int | float | bool) -> bool:
    """Whether `text` states a fact value in some accepted surface form.

    Amounts ('MXN 150.00') need the number next to its currency (code, symbol or name) in any
    number format; quantities ('48 hours', '8%') need the number followed by the unit in English,
    Spanish or Portuguese; bare numbers need the number, not as an amount of money; ISO dates
    accept the ISO text or a written day and month; anything else is compared as text, case-
    and accent-insensitively, on word boundaries.
    """
    # "1 250,00" with a (narrow) no-break space as the thousands separator is one number
    folded_text = fold(re.sub(r"(?<=\d)[\u00a0\u202f](?=\d{3}(?!\d))", "", text))
    if isinstance(value, bool):
        raise ValueError("a boolean cannot be stated")
    if isinstance(value, int | float):
        return _states_quantity(folded_text, number_values(str(value)), None, None)
    if _ISO_DATE.match(value.strip()):
        return _states_date(folded_text, value.strip())
    quantity = _QUANTITY_FACT.match(fold(value))
    if quantity:
        code, unit_text = quantity.group("code"), quantity.group("unit").strip()
        number = number_values(quantity.group("number"))
        if code is None and unit_text in CURRENCIES:  # "150.00 MXN"
            code, unit_text = unit_text, ""
        known_code = code is None or code in CURRENCIES
        unit = _UNIT_OF.get(unit_text) if unit_text else None
        if number and known_code and (not unit_text or unit is not None) and not (code and unit):
            return _states_quantity(folded_text, number, code, unit)
    return contains_text(folded_text, value)


def missing_values(text: str, value: FactValue) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [repr(item) for item in items if not states_value(text, item)]


# --- the helpers themselves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("El cargo de MXN 150.00 es la comisión.", "MXN 150.00"),
        ("El cargo de 150.00 MXN es la comisión.", "MXN 150.00"),
        ("El cargo de $150.00 MXN es la comisión.", "MXN 150.00"),
        ("Te cobramos $150 de comisión.", "MXN 150.00"),
        ("Refund of EUR 1.250,00 issued.", "EUR 1,250.00"),
        ("Refund of 1,250.00 € issued.", "EUR 1.250,00"),
        ("Reembolso de R$ 89,90.", "BRL 89.90"),
        ("Avisamos en 48 horas.", "48 hours"),
        ("Within a 48-hour window.", "48 hours"),
        ("Respondemos em até 3 dias úteis.", "3 business days"),
        ("un abono del 10% de la cuota", "10%"),
        ("llevas 7 días de atraso", 7),
        ("Su referencia es cr-2026-0457.", "CR-2026-0457"),
        ("Zona de CORDOBA afectada", "Córdoba"),
        ("Vence el 5 de marzo.", "2026-03-05"),
        ("Due on March 5.", "2026-03-05"),
    ],
)
def test_states_value_accepts(text: str, value: str | int) -> None:
    assert states_value(text, value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("El cargo de MXN 105.00 es la comisión.", "MXN 150.00"),
        ("El cargo de EUR 150.00 es la comisión.", "MXN 150.00"),
        ("Son 150 clientes afectados.", "MXN 150.00"),
        ("Avisamos en 48 días.", "48 hours"),
        ("Respondemos en 3 días.", "3 business days"),
        ("La comisión es de EUR 7.00.", 7),
        ("llevas 17 días de atraso", 7),
        ("Su referencia es CR-2026-04570.", "CR-2026-0457"),
        ("Vence el 15 de marzo.", "2026-03-05"),
    ],
)
def test_states_value_rejects(text: str, value: str | int) -> None:
    assert not states_value(text, value)


# --- files and policy books ----------------------------------------------------------------


def test_every_file_validates(inventory: Inventory) -> None:
    assert inventory.files > 0, f"no case files found under {CASES}"
    assert not inventory.issues, "`evals validate cases/` reports:" + _listing(
        str(issue) for issue in inventory.issues
    )


def test_every_case_references_an_existing_policy_book(
    inventory: Inventory, cases: list[tuple[str, Case]]
) -> None:
    unknown = [
        f"{_where(file, case)}: company {case.company!r} has no policy book "
        f"(known: {sorted(inventory.policies)})"
        for file, case in cases
        if case.company not in inventory.policies
    ]
    assert not unknown, "cases naming a missing policy book:" + _listing(unknown)


def test_policy_books_are_300_to_800_words(inventory: Inventory) -> None:
    books: dict[str, PolicyBook] = inventory.policies
    assert books, f"no policy books under {CASES}"
    low, high = POLICY_WORDS
    wrong = [
        f"policy book {book.id!r}: {word_count(book.text)} words"
        for book in books.values()
        if not low <= word_count(book.text) <= high
    ]
    assert not wrong, f"policy books must be {low}-{high} words:" + _listing(wrong)


# --- the case library ----------------------------------------------------------------------


def test_library_size(cases: list[tuple[str, Case]]) -> None:
    intents = {case.intent for _, case in cases}
    assert len(cases) >= MIN_CASES, f"{len(cases)} cases; the library needs at least {MIN_CASES}"
    assert len(intents) >= MIN_INTENTS, (
        f"{len(intents)} intents ({sorted(intents)}); the library needs at least {MIN_INTENTS}"
    )


def test_every_intent_has_enough_cases(cases: list[tuple[str, Case]]) -> None:
    per_intent = Counter(case.intent for _, case in cases)
    thin = [
        f"intent {intent!r}: {n} cases"
        for intent, n in sorted(per_intent.items())
        if n < MIN_CASES_PER_INTENT
    ]
    assert not thin, f"intents with fewer than {MIN_CASES_PER_INTENT} cases:" + _listing(thin)


def test_multi_turn_cases(cases: list[tuple[str, Case]]) -> None:
    multi = [case.id for _, case in cases if _user_turns(case) >= 2]
    assert len(multi) >= MIN_MULTI_TURN, (
        f"{len(multi)} cases have 2+ user turns ({multi}); at least {MIN_MULTI_TURN} needed"
    )


def test_language_proportions(cases: list[tuple[str, Case]]) -> None:
    total = len(cases)
    assert total, "no cases"
    per_language = Counter(_primary(case.language) for _, case in cases)
    short = [
        f"{language}: {per_language[language]}/{total} = {per_language[language] / total:.0%}, "
        f"needs at least {share:.0%}"
        for language, share in MIN_LANGUAGE_SHARE.items()
        if per_language[language] / total < share
    ]
    assert not short, f"language mix {dict(per_language)} is off:" + _listing(short)


def test_spanish_cases_use_both_registers(cases: list[tuple[str, Case]]) -> None:
    registers = Counter(
        case.expect.register_ for _, case in cases if _primary(case.language) == "es"
    )
    missing = [r for r in ("tu", "usted") if not registers[r]]
    assert not missing, (
        f"no Spanish case expects register {missing}; Spanish registers seen: {dict(registers)}"
    )


def test_kinds_and_named_intents(cases: list[tuple[str, Case]]) -> None:
    kinds = {case.kind for _, case in cases}
    assert kinds >= {"support", "crisis"}, f"cases of kind {sorted(kinds)} only"
    present = {case.intent for _, case in cases}
    absent = [
        f"{kind} intent {intent!r} has no case"
        for kind, intents in (("crisis", CRISIS_INTENTS), ("support", SUPPORT_INTENTS))
        for intent in intents
        if intent not in present
    ]
    assert not absent, "intents named in the issue are missing:" + _listing(absent)
    expected_kind = {i: "crisis" for i in CRISIS_INTENTS} | {i: "support" for i in SUPPORT_INTENTS}
    wrong_kind = [
        f"{_where(file, case)}: intent {case.intent!r} is {expected_kind[case.intent]}, "
        f"case says kind {case.kind!r}"
        for file, case in cases
        if case.intent in expected_kind and case.kind != expected_kind[case.intent]
    ]
    assert not wrong_kind, "cases of the wrong kind for their intent:" + _listing(wrong_kind)


def test_every_case_has_a_reference_answer(cases: list[tuple[str, Case]]) -> None:
    missing = [_where(file, case) for file, case in cases if not (case.reference or "").strip()]
    assert not missing, "cases without a reference answer:" + _listing(missing)


def test_crisis_cases_expect_handoff(cases: list[tuple[str, Case]]) -> None:
    wrong = [
        f"{_where(file, case)}: kind crisis but expect.handoff is false"
        for file, case in cases
        if case.kind == "crisis" and not case.expect.handoff
    ]
    assert not wrong, "crisis cases must expect a handoff to a person:" + _listing(wrong)


def test_references_state_every_required_fact(cases: list[tuple[str, Case]]) -> None:
    problems = []
    for file, case in cases:
        reference = case.reference or ""
        for key in case.expect.required_facts:
            value = case.facts[key]
            items = value if isinstance(value, list) else [value]
            if any(isinstance(item, bool) for item in items):
                problems.append(
                    f"{_where(file, case)}: required fact {key!r} is a boolean, which an answer "
                    "cannot state; require the fact that carries the value instead"
                )
                continue
            missing = missing_values(reference, value)
            if missing:
                problems.append(
                    f"{_where(file, case)}: reference does not state facts.{key} "
                    f"(missing {', '.join(missing)})"
                )
    assert not problems, "reference answers inconsistent with their facts:" + _listing(problems)


def test_references_stay_within_max_words(cases: list[tuple[str, Case]]) -> None:
    long = [
        f"{_where(file, case)}: reference has {word_count(case.reference or '')} words, "
        f"expect.max_words is {case.expect.max_words}"
        for file, case in cases
        if case.expect.max_words is not None
        and word_count(case.reference or "") > case.expect.max_words
    ]
    assert not long, "reference answers over their length budget:" + _listing(long)


# --- labelled responses --------------------------------------------------------------------


def test_labelled_set_size_and_balance(labelled: list[tuple[str, LabelledResponse]]) -> None:
    total = len(labelled)
    assert total >= MIN_LABELLED, f"{total} labelled responses; at least {MIN_LABELLED} needed"
    clean = [item.id for _, item in labelled if not item.families]
    per_file: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # clean, total
    for file, item in labelled:
        per_file[file][0] += not item.families
        per_file[file][1] += 1
    breakdown = [f"{file}: {c}/{n} clean" for file, (c, n) in sorted(per_file.items())]
    assert len(clean) / total >= MIN_CLEAN_SHARE, (
        f"{len(clean)}/{total} = {len(clean) / total:.1%} labelled responses are clean "
        f"(families: []); at least {MIN_CLEAN_SHARE:.0%} needed, i.e. "
        f"{_needed_clean(len(clean), total)} more clean responses:" + _listing(breakdown)
    )


def _needed_clean(clean: int, total: int) -> int:
    """Clean responses to add (keeping the positives) to reach the minimum clean share."""
    extra = 0
    while (clean + extra) / (total + extra) < MIN_CLEAN_SHARE:
        extra += 1
    return extra


def test_every_family_has_enough_positives(labelled: list[tuple[str, LabelledResponse]]) -> None:
    positives = Counter(family for _, item in labelled for family in set(item.families))
    short = [
        f"family {family!r}: {positives[family]} positives"
        for family in FAMILIES
        if positives[family] < MIN_POSITIVES_PER_FAMILY
    ]
    assert not short, f"families with fewer than {MIN_POSITIVES_PER_FAMILY} labelled positives:" + (
        _listing(short)
    )


def test_labelled_responses_refer_to_existing_cases(
    cases: list[tuple[str, Case]], labelled: list[tuple[str, LabelledResponse]]
) -> None:
    known = {case.id for _, case in cases}
    unknown = [
        f"{item.id} ({file}): case {item.case!r} does not exist"
        for file, item in labelled
        if item.case not in known
    ]
    assert not unknown, "labelled responses answering unknown cases:" + _listing(unknown)


def test_labelled_ids_are_unique(labelled: list[tuple[str, LabelledResponse]]) -> None:
    files: dict[str, list[str]] = defaultdict(list)
    for file, item in labelled:
        files[item.id].append(file)
    duplicates = [f"{id_}: in {where}" for id_, where in sorted(files.items()) if len(where) > 1]
    assert not duplicates, "labelled response ids used more than once:" + _listing(duplicates)


def test_labelled_set_covers_every_language(
    cases: list[tuple[str, Case]], labelled: list[tuple[str, LabelledResponse]]
) -> None:
    language = {case.id: _primary(case.language) for _, case in cases}
    seen = Counter(language[item.case] for _, item in labelled if item.case in language)
    missing = [lang for lang in MIN_LANGUAGE_SHARE if not seen[lang]]
    assert not missing, (
        f"no labelled response answers a case in {missing}; labelled per language: {dict(seen)}"
    )


# --- the demo selection --------------------------------------------------------------------


def test_demo_cases(inventory: Inventory, cases: list[tuple[str, Case]]) -> None:
    demo = [case for _, case in cases if "demo" in case.tags]
    companies = set(inventory.policies) | {case.company for _, case in cases}
    without = sorted(companies - {case.company for case in demo})
    assert not without, f"companies without a `demo`-tagged case: {without}"
    summary = ", ".join(f"{c.id} ({c.kind}, {c.language}, {c.intent})" for c in demo)
    kinds = {case.kind for case in demo}
    assert kinds >= {"support", "crisis"}, (
        f"demo cases must span support and crisis; kinds {sorted(kinds)}: {summary}"
    )
    languages = {_primary(case.language) for case in demo}
    assert languages >= {"es", "en"}, (
        f"demo cases must span Spanish and English; languages {sorted(languages)}: {summary}"
    )
    intents = {case.intent for case in demo}
    assert len(intents) >= MIN_DEMO_INTENTS, (
        f"demo cases span {len(intents)} intents, at least {MIN_DEMO_INTENTS} needed: {summary}"
    )


# --- the held-out labelled set ---------------------------------------------------------------
# cases/heldout/ is written without reading the guardrails and never used to tune them, so the
# benchmark's `--labelled-dir heldout` figures estimate how the guardrails generalise. Smaller
# than the tuning set, but every family still needs enough positives to measure recall, and
# enough clean responses to measure precision.


def test_heldout_set_exists(heldout: list[tuple[str, LabelledResponse]]) -> None:
    assert heldout, "no labelled responses in this held-out set"


def test_heldout_ids_are_unique_across_both_sets(
    labelled: list[tuple[str, LabelledResponse]], heldout: list[tuple[str, LabelledResponse]]
) -> None:
    files: dict[str, list[str]] = defaultdict(list)
    for file, item in [*labelled, *heldout]:
        files[item.id].append(file)
    held_ids = {item.id for _, item in heldout}
    duplicates = [
        f"{id_}: in {where}"
        for id_, where in sorted(files.items())
        if id_ in held_ids and len(where) > 1
    ]
    assert not duplicates, "held-out ids used more than once:" + _listing(duplicates)


def test_heldout_responses_answer_existing_cases(
    cases: list[tuple[str, Case]], heldout: list[tuple[str, LabelledResponse]]
) -> None:
    known = {case.id for _, case in cases}
    unknown = [
        f"{item.id} ({file}): case {item.case!r} does not exist"
        for file, item in heldout
        if item.case not in known
    ]
    assert not unknown, "held-out responses answering unknown cases:" + _listing(unknown)


def test_heldout_families_are_valid(heldout: list[tuple[str, LabelledResponse]]) -> None:
    wrong = [
        f"{item.id} ({file}): families {item.families} (known: {list(FAMILIES)})"
        for file, item in heldout
        if not set(item.families) <= set(FAMILIES) or len(set(item.families)) != len(item.families)
    ]
    assert not wrong, "held-out responses with unknown or repeated families:" + _listing(wrong)
    unexplained = [f"{item.id} ({file})" for file, item in heldout if not item.note.strip()]
    assert not unexplained, "held-out responses without a note:" + _listing(unexplained)


def test_heldout_positives_per_family(heldout: list[tuple[str, LabelledResponse]]) -> None:
    positives = Counter(family for _, item in heldout for family in set(item.families))
    short = [
        f"family {family!r}: {positives[family]} positives"
        for family in FAMILIES
        if positives[family] < HELDOUT_MIN_POSITIVES_PER_FAMILY
    ]
    assert not short, (
        f"families with fewer than {HELDOUT_MIN_POSITIVES_PER_FAMILY} held-out positives:"
        + _listing(short)
    )


def test_heldout_clean_share(heldout: list[tuple[str, LabelledResponse]]) -> None:
    low, high = HELDOUT_CLEAN_SHARE
    clean = sum(1 for _, item in heldout if not item.families)
    share = clean / len(heldout) if heldout else 0.0
    assert low <= share <= high, (
        f"{clean}/{len(heldout)} = {share:.1%} held-out responses are clean; "
        f"keep between {low:.0%} and {high:.0%}"
    )


def test_heldout_clean_responses_are_consistent_with_their_case(
    cases: list[tuple[str, Case]], heldout: list[tuple[str, LabelledResponse]]
) -> None:
    """A response labelled clean must at least state its case's required facts and keep to its
    word budget; otherwise the label, not the guardrail, is wrong."""
    by_id = {case.id: case for _, case in cases}
    problems = []
    for file, item in heldout:
        case = by_id.get(item.case)
        if item.families or case is None:
            continue
        for key in case.expect.required_facts:
            missing = missing_values(item.response, case.facts[key])
            if missing:
                problems.append(f"{item.id} ({file}): clean but misses facts.{key} {missing}")
        budget = case.expect.max_words
        if budget is not None and word_count(item.response) > budget:
            problems.append(
                f"{item.id} ({file}): clean but {word_count(item.response)} words > {budget}"
            )
    assert not problems, "held-out responses labelled clean that cannot be:" + _listing(problems)
