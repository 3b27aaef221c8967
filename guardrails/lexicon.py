"""A small cross-lingual lexicon (English, Spanish, Portuguese) of the concepts support policies
are made of, so an answer in Spanish can be grounded against a policy written in English.

Terms are folded (lowercase, no accents). A trailing `*` matches any word ending
(`reembols*` matches reembolso, reembolsamos, reembolsar).
"""

from __future__ import annotations

import re
from functools import lru_cache

from guardrails.text import fold

CONCEPTS: dict[str, tuple[str, ...]] = {
    # --- topics --------------------------------------------------------------------------
    "refund": (
        "refund*",
        "reembols*",
        "estorn*",
        "devolucion del dinero",
        "devolver el dinero",
        "devolvemos el dinero",
        "money back",
        "reintegr*",
        "ressarc*",
        "revers*",
        "revert*",
        "estorn*",
    ),
    "return": (
        "return*",
        "devolucion*",
        "devolver",
        "devuelv*",
        "devoluc*",
        "devolv*",
        "send it back",
        "send back",
    ),
    "fee": (
        "fee",
        "fees",
        "charge*",
        "cargo*",
        "recargo*",
        "comision*",
        "multa*",
        "tarifa*",
        "taxa*",
        "cobr*",
        "penalt*",
        "penalizacion*",
        "mora",
        "interes*",
        "juros",
    ),
    "late": ("late", "overdue", "atras*", "vencid*", "mora", "retras*"),
    "installment": ("installment*", "cuota*", "parcela*", "plazo*", "prestacion*"),
    "payment_date": (
        "due date",
        "payment date",
        "fecha de pago",
        "fecha de vencimiento",
        "data de vencimento",
        "data de pagamento",
        "vencimiento",
        "vencimento",
    ),
    "dispute": (
        "dispute*",
        "disputa*",
        "contestac*",
        "reclamacion*",
        "chargeback",
        "contest*",
        "impugn*",
    ),
    "delivery": (
        "deliver*",
        "shipping",
        "shipment",
        "envio*",
        "entreg*",
        "paquete*",
        "pedido*",
        "order*",
        "encomenda*",
        "frete",
    ),
    "plan": (
        "plan",
        "plans",
        "plano*",
        "tarifa*",
        "subscription*",
        "suscripcion*",
        "assinatura*",
        "contrato*",
        "contract*",
    ),
    "cancellation": (
        "cancel*",
        "baja",
        "darse de baja",
        "rescind*",
        "rescis*",
        "terminat*",
        "permanencia",
        "fidelizacion",
        "fidelidade",
    ),
    "outage": (
        "outage*",
        "caida*",
        "averia*",
        "interrupc*",
        "interrupt*",
        "corte*",
        "sin servicio",
        "sem servico",
        "queda*",
        "falla*",
        "incidencia*",
    ),
    "account": ("account*", "cuenta*", "conta*", "acceso", "acesso", "login"),
    "data": (
        "data",
        "datos",
        "dados",
        "personal information",
        "informacion personal",
        "privacidad",
        "privacy",
        "privacidade",
    ),
    "collections": (
        "collection*",
        "cobranza*",
        "cobro*",
        "deuda*",
        "debt*",
        "divida*",
        "saldo pendiente",
        "balance",
    ),
    "window": (
        "within",
        "deadline",
        "window",
        "plazo*",
        "prazo*",
        "dentro de",
        "hasta",
        "ate",
        "up to",
        "period*",
        "periodo*",
    ),
    # --- benefits and commitments: what agents must not invent -----------------------------
    "waiver": (
        "waive*",
        "waiver*",
        "condon*",
        "perdonar el cargo",
        "perdonamos el cargo",
        "perdonar el recargo",
        "perdonamos el recargo",
        "exim*",
        "anular el cargo",
        "anulamos",
        "isent*",
        "isenc*",
        "dispens*",
        "remove the fee",
        "quitar el cargo",
        "quitamos",
        "eliminar el cargo",
        "eliminamos el cargo",
        "retirar el cargo",
        "reverse the fee",
        "revert* el cargo",
    ),
    "coupon": (
        "coupon*",
        "voucher*",
        "cupon*",
        "cupom",
        "cupons",
        "vale de descuento",
        "codigo de descuento",
        "codigo promocional",
        "promo code",
        "discount code",
    ),
    "discount": (
        "discount*",
        "descuento*",
        "desconto*",
        "rebaja*",
        "% off",
        "precio especial",
        "preco especial",
        "special price",
    ),
    "compensation": (
        "compensat*",
        "compens*",
        "indemniz*",
        "indeniz*",
        "bonific*",
        "make it up to you",
        "resarc*",
    ),
    "credit": (
        "credit",
        "credits",
        "credited",
        "crediting",
        "credito*",
        "saldo a favor",
        "bono",
        "bonos",
        "bonus",
        "store credit",
        "account credit",
        "creditar*",
        "acreditar*",
        "abonar*",
        "abono del",
        "abono de",
    ),
    "gift_card": (
        "gift card*",
        "tarjeta regalo",
        "tarjeta de regalo",
        "vale-presente",
        "cartao-presente",
        "cartao presente",
        "vale presente",
    ),
    "free": (
        "free",
        "for free",
        "free of charge",
        "at no cost",
        "no charge",
        "gratis",
        "gratuit*",
        "sin costo",
        "sin coste",
        "sin cargo",
        "sem custo",
        "gratuitamente",
        "de graca",
        "on us",
        "por nuestra cuenta",
    ),
    "exception": (
        "exception*",
        "excepcion*",
        "excec*",
        "excepcional*",
        "just this once",
        "solo por esta vez",
        "so desta vez",
        "special case",
        "caso especial",
        "make an exception",
        "hacer una excepcion",
    ),
    "guarantee": (
        "guarantee",
        "guarantees",
        "guaranteed",
        "guaranteeing",
        "garantiz*",
        "garanto",
        "garantimos",
        "garantir",
        "garantido*",
        "garantida*",
        "we promise",
        "prometemos",
        "prometo",
        "te aseguro",
        "le aseguro",
        "asseguro",
        "aseguramos",
        "assure you",
    ),
    "priority": (
        "priorit*",
        "prioridad*",
        "prioridade*",
        "express",
        "expedit*",
        "urgente",
        "fast-track",
        "vip",
    ),
    "upgrade": (
        "free upgrade*",
        "upgrade gratis",
        "upgrade gratuito",
        "mejora gratuita",
        "mejora gratis",
        "te subimos de plan",
        "le subimos de plan",
        "upgrade for free",
        "upgrade at no cost",
    ),
    "extension": (
        "extend*",
        "extension*",
        "ampli*",
        "prorrog*",
        "extra days",
        "dias extra",
        "dias adicionales",
        "dias adicionais",
        "more time",
        "mas tiempo",
        "mais tempo",
    ),
    "retroactive": ("retroactiv*", "retroativ*", "backdat*"),
    "loyalty": (
        "loyal*",
        "leal*",
        "cliente fiel",
        "clientes fieis",
        "long-standing",
        "long-time",
        "cliente frecuente",
        "cliente antiguo",
        "antiguedad",
        "cliente preferente",
        "cliente especial",
    ),
    "device_limit": (
        "per device",
        "one device",
        "un dispositivo",
        "um dispositivo",
        "device limit",
        "limite de dispositivos",
    ),
    "interest": ("interest", "intereses", "juros"),
    "settlement": (
        "settlement*",
        "write-off",
        "write off",
        "quita*",
        "acuerdo de pago con descuento",
        "liquidacion con descuento",
        "perdonar la deuda",
        "perdoar a divida",
    ),
}

#: Concepts that are benefits or commitments: stating one needs a policy clause that grants it.
BENEFITS = frozenset(
    {
        "waiver",
        "coupon",
        "discount",
        "compensation",
        "credit",
        "gift_card",
        "free",
        "exception",
        "guarantee",
        "priority",
        "upgrade",
        "extension",
        "retroactive",
        "device_limit",
        "settlement",
        "loyalty",
    }
)


#: Phrases that contain a concept word without meaning it: "credit card" offers no credit.
MASKS = (
    "credit card",
    "credit cards",
    "tarjeta de credito",
    "tarjetas de credito",
    "cartao de credito",
    "cartoes de credito",
    "credit bureau*",
    "credit report*",
    "buro de credito",
    "burós de credito",
    "free return shipping",
)
_MASK = re.compile(
    "|".join(
        r"(?<!\w)"
        + re.escape(fold(m.rstrip("*"))).replace(r"\ ", r"\s+")
        + (r"\w*" if m.endswith("*") else r"(?!\w)")
        for m in MASKS
    )
)


def _masked(folded: str) -> str:
    return _MASK.sub(lambda m: " " * len(m.group(0)), folded)


def _pattern(term: str) -> str:
    term = fold(term)
    if term.endswith("*"):
        return r"(?<!\w)" + re.escape(term[:-1]).replace(r"\ ", r"\s+") + r"\w*"
    return r"(?<!\w)" + re.escape(term).replace(r"\ ", r"\s+") + r"(?!\w)"


@lru_cache(maxsize=1)
def _compiled() -> dict[str, re.Pattern[str]]:
    return {
        concept: re.compile("|".join(_pattern(t) for t in terms))
        for concept, terms in CONCEPTS.items()
    }


def concept_spans(text: str) -> list[tuple[str, int, int]]:
    """(concept, start, end) of every concept mention; offsets index `text`."""
    folded = _masked(fold(text))
    out = []
    for concept, pattern in _compiled().items():
        for m in pattern.finditer(folded):
            out.append((concept, m.start(), m.end()))
    return sorted(out, key=lambda x: x[1])


def concepts(text: str) -> set[str]:
    folded = _masked(fold(text))
    return {c for c, p in _compiled().items() if p.search(folded)}
