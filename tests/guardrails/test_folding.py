"""Folding keeps offsets (every guardrail's evidence depends on it); word helpers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from guardrails.folding import fast_fold, folded_words, word_positions, word_set


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_fold_keeps_the_length_of_any_text(text: str) -> None:
    assert len(fast_fold(text)) == len(text)


def test_accents_and_case() -> None:
    assert fast_fold("Número de la TARJETA, não, Ñandú") == "numero de la tarjeta, nao, nandu"


def test_words() -> None:
    text = "¿Me das tu contraseña? I can't."
    assert folded_words(text) == ("me", "das", "tu", "contrasena", "i", "can", "t")
    assert "contrasena" in word_set(text)


def test_word_positions_are_whole_words() -> None:
    folded = fast_fold("Un agente, dos agentes; reagente. AGENTE")
    spans = word_positions(folded, {"agente"})
    assert [folded[s:e] for s, e in spans] == ["agente", "agente"]
    assert spans[0][0] == 3
