"""`guardrails.contact`: the shapes of e-mails, phone numbers, addresses and names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guardrails.contact import addresses, emails, names, phones


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("llama al +52 55 4170 2020.", ["+52 55 4170 2020"]),
        ("Spain 900 100 200, Portugal 800 200 300", ["900 100 200", "800 200 300"]),
        ("celular 55 8812 4410, correo", ["55 8812 4410"]),
        ("mobile 614-555-0143.", ["614-555-0143"]),
        ("ligue (11) 4003-2020 ou 0800 777 1234", ["(11) 4003-2020", "0800 777 1234"]),
        ("order MC-2207-4415 on 2026-03-01, EUR 1,249.00, ref RC-2026-045512", []),
        ("from 8:00 to 22:00, 10 20 30 40 50, MXN 12.345.678", []),
    ],
)
def test_phones(text: str, found: list[str]) -> None:
    assert [p.text for p in phones(text)] == found


def test_emails() -> None:
    text = "Write to ayuda@cuotaya.com or (sonia.perez.m@gmail.com); not @user or a@b."
    assert [e.text for e in emails(text)] == ["ayuda@cuotaya.com", "sonia.perez.m@gmail.com"]


def test_addresses() -> None:
    text = "Shipped to 418 Elm Street, Columbus; the other went to Rua das Flores 210, Recife."
    assert [a.text for a in addresses(text)] == ["418 Elm Street", "Rua das Flores 210"]


def test_names() -> None:
    found = [n.text for n in names("Daniel Ortega's balance; Sonia Pérez Molina; Karen's order")]
    assert "Sonia Pérez Molina" in found
    assert "Karen" in found


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_offsets_point_at_the_text(text: str) -> None:
    for item in (*emails(text), *phones(text), *addresses(text), *names(text)):
        assert text[item.start : item.end] == item.text
