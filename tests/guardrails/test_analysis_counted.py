"""The nouns a number counts are pack data (field `counted`), not a table in the text analysis:
the core counts installments, times and fees, the telecom pack devices and lines, and a pack a
plugin registers adds its own, read under any policy book as units are."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrails import packs
from guardrails.text import quantities


def _counts(text: str) -> list[tuple[str, float]]:
    return [(q.unit, q.value) for q in quantities(text) if q.unit.startswith("count:")]


def test_the_core_and_telecom_packs_count_their_nouns_and_an_article_counts_nothing() -> None:
    assert _counts("You can pay in 3 installments of EUR 20.00.") == [("count:installment", 3.0)]
    assert _counts("Ya nos escribió dos veces esta semana.") == [("count:times", 2.0)]
    assert _counts("Your plan covers up to 5 devices and 2 lines.") == [
        ("count:device", 5.0),
        ("count:line", 2.0),
    ]
    assert _counts("Hay un cargo de reconexión.") == []  # "un": an article, not one fee
    assert _counts("We shipped 3 kettles yesterday.") == []  # no pack counts kettles


def test_a_registered_pack_adds_counted_nouns_until_it_is_removed(tmp_path: Path) -> None:
    (tmp_path / "wind-terms.yaml").write_text(
        "name: wind-terms\ndescription: Wind farms.\ncounted:\n  turbine: [turbines, turbinas]\n",
        encoding="utf-8",
    )
    text = "The farm runs 12 turbines; the contract allows 14 turbinas."
    assert _counts(text) == []
    packs.register("wind-terms", tmp_path / "wind-terms.yaml")
    try:
        assert _counts(text) == [("count:turbine", 12.0), ("count:turbine", 14.0)]
        assert _counts("Up to 5 devices.") == [("count:device", 5.0)]  # the others still count
    finally:
        packs.unregister("wind-terms")
    assert _counts(text) == []


@pytest.mark.parametrize(
    ("counted", "where"),
    [("  turbine: []\n", "counted.turbine"), ("  turbine: ['turb*']\n", "counted.turbine[0]")],
)
def test_a_counted_noun_that_is_not_one_whole_word_is_an_error_naming_the_field(
    tmp_path: Path, counted: str, where: str
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(f"name: x\ndescription: d\ncounted:\n{counted}", encoding="utf-8")
    with pytest.raises(packs.PackError) as caught:
        packs.load_pack(path)
    assert str(caught.value).startswith(f"{path}: ") and where in str(caught.value)
