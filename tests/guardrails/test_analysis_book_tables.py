"""Work done once per policy book instead of once per answer (`guardrails.stems`): a book's
clause stems with its generic stems taken away, and a translated clause's parts filed by the
numbers they state, give the counts the plain formulas give for every sentence and value."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from guardrails.grounding import index_policy
from guardrails.records import PolicyBook
from guardrails.stems import STATED, BookStems, TranslatedStems, book_stems, text_stems

_STEMS = st.frozensets(st.sampled_from([f"s{i}" for i in range(12)]), max_size=8)
_NUMBERS = st.frozensets(
    st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, 14.0, 30.0, 49.9, 1e-10, 1250.0]), max_size=3
)


def _book_shared(table: BookStems, key: int, sentence: frozenset[str], slot: int | None) -> int:
    """The count as written before the tables: the sentence's shared stems less the generic."""
    own = table.by_clause.get(key)
    if own is None:
        return 0
    if slot is None:
        return max(len((sentence & s) - g) for s, g in zip(own, table.generic, strict=True))
    return len((sentence & own[slot]) - table.generic[slot])


def _translated_shared(
    table: TranslatedStems, key: int, value: float, sentence: frozenset[str]
) -> int:
    parts = table.by_clause.get(key, ())
    stating = [s for numbers, s in parts if any(abs(n - value) < STATED for n in numbers)]
    pool = stating or [frozenset().union(*(s for _, s in parts))]
    return max((len((sentence & s) - table.generic) for s in pool), default=0)


class _Clause:
    """Stands for a policy clause: the tables know clauses by identity only."""


@settings(max_examples=200, deadline=None)
@given(
    clauses=st.lists(st.tuples(_STEMS, _STEMS, _STEMS), min_size=1, max_size=5),
    generic=st.tuples(_STEMS, _STEMS, _STEMS),
    sentence=_STEMS,
    language=st.sampled_from(["en", "es-MX", "pt-BR", None, "fr"]),
)
def test_a_books_specific_stems_count_as_the_plain_formula(
    clauses: list[tuple[frozenset[str], ...]],
    generic: tuple[frozenset[str], ...],
    sentence: frozenset[str],
    language: str | None,
) -> None:
    objects = [_Clause() for _ in clauses]
    table = BookStems({id(c): s for c, s in zip(objects, clauses, strict=True)}, generic)
    slot = {"en": 0, "es-MX": 1, "pt-BR": 2}.get(language or "")
    for clause in [*objects, _Clause()]:
        assert table.shared(clause, sentence, language) == _book_shared(  # type: ignore[arg-type]
            table, id(clause), sentence, slot
        )


@settings(max_examples=200, deadline=None)
@given(
    clauses=st.lists(
        st.lists(st.tuples(_NUMBERS, _STEMS), max_size=4).map(tuple), min_size=1, max_size=4
    ),
    generic=_STEMS,
    sentence=_STEMS,
    value=st.sampled_from([0.0, 1.0, 2.0, 5.0, 30.0, 49.9, 1250.0, 7.0, 2e-10]),
)
def test_a_translated_clause_counts_the_part_stating_the_value_as_the_plain_formula(
    clauses: list[tuple[tuple[frozenset[float], frozenset[str]], ...]],
    generic: frozenset[str],
    sentence: frozenset[str],
    value: float,
) -> None:
    objects = [_Clause() for _ in clauses]
    by_clause = {id(c): p for c, p in zip(objects, clauses, strict=True)}
    table = TranslatedStems("es", by_clause, generic)
    for clause in [*objects, _Clause()]:
        assert table.shared(clause, value, sentence) == _translated_shared(  # type: ignore[arg-type]
            table, id(clause), value, sentence
        )


def test_a_part_stating_the_value_ties_it_to_its_own_words_not_the_whole_clause() -> None:
    clause = _Clause()
    parts = (
        (frozenset({3.0}), frozenset({"point", "arriv"})),
        (frozenset({6.0}), frozenset({"stay", "claim", "month"})),
    )
    table = TranslatedStems("en", {id(clause): parts}, frozenset({"month"}))
    sentence = frozenset({"stay", "claim", "month", "point"})
    assert table.shared(clause, 6.0, sentence) == 2  # stay, claim ("month" is generic)
    assert table.shared(clause, 3.0, sentence) == 1  # point
    assert table.shared(clause, 9.0, sentence) == 3  # no part states 9: the whole clause
    assert table.shared(_Clause(), 6.0, sentence) == 0  # a clause the table does not hold


def test_words_every_clause_uses_tie_a_sentence_to_no_clause() -> None:
    text = "\n".join(
        [
            "Customers may return a kettle within 30 days.",
            "Customers may ask for a meter check; it costs EUR 45.00.",
            "Customers may pause the plan for 2 months.",
            "Customers may change the tariff once a year.",
            "Customers may add a second meter for EUR 10.00.",
        ]
    )
    index = index_policy(PolicyBook(id="b", name="Book", text=text))
    table = book_stems(index)
    meter = next(c for c in index.clauses if "meter check" in c.text)
    kettle = next(c for c in index.clauses if "kettle" in c.text)
    sentence = text_stems("Customers can have the meter check done for EUR 45.00.", "en")
    assert table.shared(meter, sentence, "en") >= 2  # meter, check
    assert table.shared(kettle, sentence, "en") == 0  # only "customers", in every clause
