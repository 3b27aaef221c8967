"""A small cross-lingual lexicon (English, Spanish, Portuguese) of the concepts support policies
are made of, so an answer in Spanish can be grounded against a policy written in English.

Terms are folded (lowercase, no accents). A trailing `*` matches any word ending
(`reembols*` matches reembolso, reembolsamos, reembolsar).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guardrails.text import fold, per_text

CONCEPTS: dict[str, tuple[str, ...]] = {
    # --- topics --------------------------------------------------------------------------
    "refund": (
        "refund*",
        "reembols*",
        "devolucion del dinero",
        "devolver el dinero",
        "devolvemos el dinero",
        "money back",
        "reintegr*",
        "ressarc*",
        "revers*",
        "revert*",
        "estorn*",
        "reverso",
    ),
    "marketplace": (
        "marketplace*",
        "third-party seller*",
        "vendedores externos",
        "vendedor externo",
        "vendedores terceros",
        "vendedores parceiros",
        "vendedor parceiro",
    ),
    # Money sent to a bank account (a cash refund), not a chat handed to a person.
    "bank_transfer": (
        "bank transfer*",
        "wire transfer*",
        "transferencia",
        "transferencias",
        "transferencia bancaria",
        "deposito bancario",
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
        "penalt*",
        "penalizacion*",
        "mora",
        "surcharge*",
    ),
    "late": ("late", "overdue", "atras*", "vencid*", "mora", "retras*", "delay*", "demora*"),
    "grace": ("grace", "gracia", "carencia", "tolerancia", "tolerance"),
    "installment": ("installment*", "cuota*", "parcela*", "plazos", "prestacion*"),
    "payment_date": (
        "due date",
        "payment date",
        "fecha de pago",
        "fecha de vencimiento",
        "data de vencimento",
        "data de pagamento",
        "vencimiento",
        "vencimento",
        "fecha",
        "date",
        # Portuguese "data" (date) only where it cannot be English "data" (personal data).
        "uma data",
        "numa data",
        "da data",
        "na data",
        "nova data",
        "essa data",
        "esta data",
        "outra data",
        "mesma data",
        "sua data",
        "data original",
        "data posterior",
        "data prometida",
        "data de",
        "data do",
        "data da",
        "data limite",
        "datas",
        "mudar a data",
        "alterar a data",
        "adiar a data",
    ),
    "dispute": ("dispute*", "disputa*", "contestac*", "chargeback", "contest*", "impugn*"),
    "decision": (
        "decide*",
        "decision*",
        "decisao",
        "resolu*",
        "resolv*",
        "outcome*",
        "resultado*",
        "dictamen",
        "veredicto",
        "parecer",
    ),
    "confirmation": ("confirm*",),
    "delivery": (
        "deliver*",
        "shipping",
        "shipment",
        "ship",
        "ships",
        "envio*",
        "entreg*",
        "paquete*",
        "encomenda*",
        "frete",
        "transportista",
        "carrier",
        "courier",
        "transportadora",
        "mensajeria",
        "express",
        "expres",
        "standard",
    ),
    "plan": (
        "plan",
        "plans",
        "plano",
        "planos",
        "subscription*",
        "suscripcion*",
        "assinatura*",
        "upgrade*",
        "downgrade*",
        "tier*",
        "nivel*",
    ),
    "cancellation": (
        "cancel*",
        "baja",
        "darse de baja",
        "rescind*",
        "rescis*",
        "terminat*",
        "permanen*",
        "fidelizacion",
        "fidelidade",
        "early-termination",
    ),
    "device": (
        "router*",
        "roteador*",
        "device*",
        "dispositivo*",
        "aparelho*",
        "equipo*",
        "modem*",
        "terminal*",
    ),
    "outage": (
        "outage*",
        "caida*",
        "averia*",
        "interrupc*",
        "interrupt*",
        # not "cortesía" (courtesy) nor Spanish "queda" (remains)
        "corte",
        "cortes",
        "cortado",
        "cortada",
        "cortaron",
        "sin servicio",
        "sem servico",
        "a queda",
        "uma queda",
        "quedas",
        "queda do",
        "queda da",
        "queda de sinal",
        "queda na",
        "queda no",
        "falla*",
        "incidencia*",
        "network",
        "nuestra red",
        "la red",
        "rede",
    ),
    "lock": (
        "lock*",
        "bloque*",
        "bloqueio*",
        "suspend*",
        "suspen*",
        # lifting a lock is about the lock: "se desbloquea sola" speaks of the lock rule
        "unlock*",
        "desbloque*",
    ),
    "identity": (
        "identity",
        "identidad",
        "identidade",
        "verif*",
        "id document",
        "documento",
        "one-time code",
        "codigo",
    ),
    "fraud": ("fraud*", "fraude*"),
    "account": ("account*", "cuenta*", "conta", "contas", "login", "sign-in", "acceso", "acesso"),
    "data": (
        "personal data",
        "datos personales",
        "dados pessoais",
        "privacidad",
        "privacy",
        "privacidade",
        "gdpr",
        "rgpd",
        "lgpd",
        "lopd",
    ),
    "access_request": (
        "access request*",
        "solicitud de acceso",
        "pedido de acesso",
        "copy of your data",
        "copia de tus datos",
        "copia de sus datos",
        "access",
        "acceso",
        "acesso",
        "portab*",
    ),
    "deletion": (
        "delet*",
        "borr*",
        "elimin*",
        "apag*",
        "exclu*",
        "erase*",
        "erasure",
        "supres*",
        "supress*",
        "cancelacion de datos",
    ),
    "retention": (
        "kept",
        "keep",
        "retain*",
        "retention",
        "conserv*",
        "guard*",
        "mantener",
        "manter",
        "stored",
    ),
    "breach": (
        "breach*",
        "brecha*",
        "incident*",
        "incidente*",
        "violacion*",
        "vazamento*",
        "filtracion*",
        "leak*",
        "exposed",
        "expuest*",
        "expost*",
        "hack*",
        "ataque*",
        "attack*",
        "security incident",
    ),
    "notification": (
        "notif*",
        "notice",
        "aviso*",
        "avis*",
        "inform*",
        "comunicar*",
        "comunica*",
        "written notice",
    ),
    "authority": (
        "authority",
        "autoridad",
        "autoridade",
        "regulator",
        "regulador",
        "aepd",
        "anpd",
        "inai",
        "ombudsman",
        "supervisory",
    ),
    "collections": (
        "collection*",
        "cobranza*",
        "cobro*",
        "cobranca*",
        "deuda*",
        "debt*",
        "divida*",
        "saldo pendiente",
        "agency",
        "agencia",
    ),
    "bureau": (
        "bureau*",
        "buro*",
        "credit report*",
        "serasa",
        "spc",
        "central de riesgo*",
        "historial crediticio",
        "cadastro",
        "credit bureau*",
        "credit report*",
        "buro de credito",
        "buros de credito",
        "fichero* de solvencia",
        "fichero* de morosos",
        "registro* de morosos",
        "asnef",
        "equifax",
        "experian",
        "orgaos de protecao ao credito",
        "negativa* o nome",
        "negativa* seu nome",
        "nome sujo",
    ),
    "calls": ("call*", "llamad*", "llamar*", "ligac*", "ligar", "ligamos", "contact*", "contat*"),
    "third_party": (
        "family",
        "familia*",
        "familiar*",
        "employer*",
        "empleador*",
        "jefe",
        "reference*",
        "referencia*",
        "neighbo*",
        "vecino*",
        "vizinh*",
        "relative*",
        "parente*",
        "third part*",
        "tercero*",
        "terceiro*",
        "spouse",
        "esposa",
        "esposo",
        "conyuge",
        "marido",
        "mulher",
    ),
    "complaint": (
        "complain*",
        "queja*",
        "reclamac*",
        "reclamo*",
        "reclama*",
        "escalat*",
        "escal*",
        "supervisor*",
        "review*",
        "revision*",
        "revisao",
    ),
    "agent": (
        "agent*",
        "agente*",
        "atendente*",
        "person",
        "persona",
        "pessoa",
        "human*",
        "team",
        "equipo",
        "equipe",
        "representative*",
        "representante*",
    ),
    "hours": (
        "hours",
        "horario*",
        "open",
        "abierto",
        "aberto",
        "monday",
        "lunes",
        "segunda",
        "sunday",
        "domingo",
        "saturday",
        "sabado",
        "every day",
        "todos los dias",
        "todos os dias",
    ),
    "callback": (
        "callback*",
        "call you back",
        "call back",
        "devolver la llamada",
        "te llamamos",
        "le llamamos",
        "te llamaremos",
        "le llamaremos",
        "retornar a ligacao",
        "ligamos de volta",
        "vamos ligar",
        "retornar a sua ligacao",
        "retornaremos a ligacao",
    ),
    "warranty": ("warrant*", "garantia", "garantias", "manufacturer", "fabricante"),
    "restocking": ("restocking", "reposicion", "reabastec*", "restock*"),
    "label": ("label*", "etiqueta*"),
    "hygiene": ("hygien*", "higien*", "seal*", "sello*", "precinto*", "lacre*"),
    "software": (
        "software",
        "video game*",
        "videojuego*",
        "game*",
        "juego*",
        "jogo*",
        "digital code*",
        "codigo* digital*",
    ),
    "discount_table": (
        "volume",
        "volumen",
        "bronze",
        "silver",
        "gold",
        "plata",
        "oro",
        "prata",
        "ouro",
    ),
    "payment_terms": (
        "payment term*",
        "plazo de pago",
        "prazo de pagamento",
        "net 30",
        "net 45",
        "terminos de pago",
        "condiciones de pago",
        "invoice*",
        "factura*",
        "fatura*",
    ),
    "data_usage": (
        "data allowance",
        "gb",
        "gigas",
        "megas",
        "rollover",
        "roll over",
        "carry over",
        "carries over",
        "acumul*",
        "datos moviles",
        "dados moveis",
    ),
    "price": (
        "price*",
        "precio*",
        "preco*",
        "cost*",
        "costo*",
        "custo",
        "custos",
        "cuesta",
        "cuestan",
        "custa",
        "custam",
    ),
    "interest": ("interest", "intereses", "interes", "juros"),
    "politics": (
        "politic*",
        "party",
        "parties",
        "partido*",
        "candidat*",
        "election*",
        "eleccion*",
        "eleicao",
        "eleicoes",
        "campaign*",
        "campana*",
        "campanha*",
        "donat*",
        "donac*",
        "doac*",
        "endorse*",
        # publicly condemning someone is taking a side
        "condemn*",
        "conden*",
        "apoy*",
        "apoia*",
        "support*",
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
        "maximum",
        "maximo",
        "at most",
        "como maximo",
        "no mas de",
        "no later than",
    ),
    # --- benefits and commitments: what agents must not invent -----------------------------
    # Deciding a review, dispute or complaint for the customer: a result nobody can promise.
    # Second person only, so a policy's own "if the decision favours the customer" is not one.
    "favourable_outcome": (
        "in your favour",
        "in your favor",
        "a su favor",
        "a tu favor",
        "a seu favor",
        "a teu favor",
        "a favor de usted",
        "a favor de voce",
        "you will win",
        "you'll win",
        "ganara la disputa",
        "ganaras la disputa",
        "vai ganhar a disputa",
    ),
    # What is left over moving to the next period: "unused data carries over".
    "carry_over": (
        "carry over",
        "carries over",
        "carried over",
        "carry-over",
        "roll over",
        "rolls over",
        "rolled over",
        "rollover",
        "acumulables",
        "se acumulan para el",
        "se acumulan al",
        "se suman al siguiente",
        "se suman al proximo",
        "se guardan para el",
        "acumulam para o",
        "se traspasan",
        "se trasladan",
        "pasan al siguiente",
        "pasan al proximo",
        "pasaran al siguiente",
        "passam para o",
        "passa para o",
        "passam para a",
        "vao para o proximo",
    ),
    # Combining purchases, payments or accounts into one: a feature a policy must offer.
    "merge": (
        "merge*",
        "consolidat*",
        "consolid*",
        "unific*",
        "fusion*",
        "fusao",
        "agrupar*",
        "agrupamos",
        "juntar sus",
        "juntar tus",
        "juntamos",
        "juntaremos",
        "juntar as",
        "combine your",
        "combinar sus",
        "combinar tus",
        "combinamos",
        "single monthly payment",
        "un solo pago",
        "un unico pago",
        "um unico pagamento",
        "um so pagamento",
    ),
    # Matching a competitor's price or offer.
    "price_match": (
        "price match*",
        "match the",
        "match their",
        "match that",
        "match it",
        "match this",
        "match your",
        "igualar*",
        "igualamos",
        "igualo",
        "cobrir a oferta",
        "cobrimos a oferta",
        "cobrir o preco",
        "cubrir la oferta",
    ),
    # A further instance that can reverse a final decision.
    "appeal": (
        "appeal*",
        "overturn*",
        "apelacion*",
        "apelar",
        "apelacao",
        "apelacoes",
        "revocar la decision",
        "revocar su decision",
        "anular la decision",
        "anular su decision",
        "reverter a decisao",
        "anular a decisao",
        "revisar y revocar",
    ),
    "waiver": (
        "waive*",
        "waiver*",
        "waiving",
        "condon*",
        "perdonar el cargo",
        "perdonamos el cargo",
        "perdonar el recargo",
        "perdonamos el recargo",
        "exim*",
        "anular el cargo",
        "anulamos el cargo",
        "isent*",
        "isenc*",
        "dispens*",
        "remove the fee",
        "quitar el cargo",
        "quitamos el cargo",
        "eliminar el cargo",
        "eliminamos el cargo",
        "retirar el cargo",
        "reverse the fee",
        "cancel the fee",
        "cancelar el recargo",
        "cancelamos el recargo",
        "cancelar a multa",
        "cancelamos a multa",
        "retirar a multa",
        # taking a fee off, in any tense or person ("el sistema cancela la comisión")
        "cancel* la comision",
        "anul* la comision",
        "quit* la comision",
        "elimin* la comision",
        "cancel* el recargo",
        "anul* el recargo",
        "cancel* a taxa",
        "anul* a taxa",
        "retir* a taxa",
        "cancel* the fee",
        "cancel* the late fee",
        "remov* the late fee",
        # a first-person promise not to charge a fee is a waiver
        "no le cobraremos",
        "no te cobraremos",
        "no le vamos a cobrar",
        "no te vamos a cobrar",
        "we won't charge you",
        "we will not charge you",
        "nao vamos cobrar",
        "nao cobraremos",
        "nao lhe cobraremos",
        "nao te cobraremos",
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
        "descontos",
        "um desconto",
        "com desconto",
        "dar desconto",
        "desconto de",
        "desconto do",
        "desconto da",
        "rebaja*",
        "% off",
        "precio especial",
        "preco especial",
        "special price",
        "price match*",
        "igualar el precio",
        "price freeze*",
        "congelar el precio",
        "congelamos el precio",
        "congelar o preco",
        "precio congelado",
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
        "abono del",
        "abono de",
        # the company paying an amount into the customer's account
        "abonaremos",
        "le abonamos",
        "te abonamos",
        "les abonamos",
        "vamos a abonar",
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
    "free_month": (
        "free month*",
        "month free",
        "months free",
        "month for free",
        "months for free",
        "mes gratis",
        "meses gratis",
        "mes gratuito",
        "meses gratuitos",
        "mes sin costo",
        "mes de regalo",
        "meses de regalo",
        "mes gratis",
        "mes gratuito",
        "mes de graca",
        "meses de graca",
        "mes gratuita",
        "mensalidade gratis",
        "mensalidade gratuita",
    ),
    "gift": ("gift", "gifts", "regal*", "obsequi*", "brinde*", "on the house"),
    "exception": (
        "make an exception",
        "making an exception",
        "made an exception",
        "as an exception",
        "an exception for you",
        "exception in your case",
        "qualify for an exception",
        "hacer una excepcion",
        "hacemos una excepcion",
        "hare una excepcion",
        "haremos una excepcion",
        "como excepcion",
        "una excepcion contigo",
        "una excepcion con usted",
        "excepcionalmente",
        "gesto excepcional",
        "de forma excepcional",
        "de manera excepcional",
        "one-time exception",
        "one-off exception",
        "gesto excecional",
        "de forma excecional",
        "fazer uma excecao",
        "fazemos uma excecao",
        "faremos uma excecao",
        "abrir uma excecao",
        "abrimos uma excecao",
        "vou fazer uma excecao",
        "como excecao",
        "uma excecao para",
        "just this once",
        "solo por esta vez",
        "so desta vez",
        "special exception",
        "excepcion especial",
        "califica para una excepcion",
        "calificas para una excepcion",
        # granting one in other words ("te hago la excepción", "I'll grant you an exception");
        # "the only exception is a defective game" states the policy's own exception
        "hago la excepcion",
        "hago una excepcion",
        "hacer la excepcion",
        "haremos la excepcion",
        "hacemos la excepcion",
        "aplic* una excepcion",
        "aplic* la excepcion",
        "conced* una excepcion",
        "grant* an exception",
        "grant* you an exception",
        "exception this time",
        "faco uma excecao",
        "faco a excecao",
        "fazer a excecao",
        "abro uma excecao",
        "aplic* uma excecao",
        "conced* uma excecao",
        "por esta vez",
        "this one time",
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
        "without fail",
        "sin falta",
        "sem falta",
    ),
    "priority": (
        "priorit*",
        "prioridad*",
        "prioridade*",
        "expedit*",
        "fast-track",
        "fast track",
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
        "long-time customer",
        "long-time client",
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
    "settlement": (
        "settlement*",
        "write-off",
        "write off",
        "quita de deuda",
        "quita de la deuda",
        "acuerdo de pago con descuento",
        "liquidacion con descuento",
        "perdonar la deuda",
        "perdoar a divida",
        "condonar la deuda",
        "borrar la deuda",
        "cancelar la deuda",
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
        "free_month",
        "gift",
        "exception",
        "guarantee",
        "priority",
        "upgrade",
        "extension",
        "retroactive",
        "device_limit",
        "settlement",
        "loyalty",
        "favourable_outcome",
        "carry_over",
        "merge",
        "price_match",
        "appeal",
        "callback",
    }
)


#: Words that name a concept without stating it on their own: "Customer Support" in a
#: signature takes no political side; a party, a donation or a candidate does.
WEAK_TERMS = (
    "support",
    "supports",
    "supported",
    "apoy*",
    "apoia*",
    "apoio",
    # Spanish and Portuguese "política" is "policy" as often as "politics"
    "politica",
    "politicas",
)

# --- markers of policy statements without a number (guardrails.claims) ---------------------
# Phrases are folded; "_" stands for any one word and a trailing "*" for any word ending.

#: Something said to happen by itself: no one has to act for it.
AUTOMATIC_MARKERS: dict[str, tuple[str, ...]] = {
    "en": (
        "automatic*",
        "by itself",
        "by themselves",
        "on its own",
        "on their own",
        "no need to do anything",
        "don't need to do anything",
        "do not need to do anything",
        "nothing you need to do",
    ),
    "es": (
        "automatic*",
        "se _ sola",
        "se _ solas",
        "se _ solo",
        "se _ solos",
        "por si sola",
        "por si solo",
        "por si misma",
        "por si mismo",
        "no hace falta hacer nada",
        "no tienes que hacer nada",
        "no tiene que hacer nada",
        "no tenes que hacer nada",
        "no necesitas hacer nada",
        "no necesita hacer nada",
    ),
    "pt": (
        "automatic*",
        "sozinh*",
        "por si so",
        "nao precisa fazer nada",
        "nao e preciso fazer nada",
        "sem precisar fazer nada",
        "nao tem que fazer nada",
    ),
}

#: The assistant granting or doing itself what a rule may reserve to a person or a condition.
GRANT_MARKERS: dict[str, tuple[str, ...]] = {
    "en": (
        "i've applied",
        "i have applied",
        "i applied",
        "i'll apply",
        "i will apply",
        "i've approved",
        "i have approved",
        "i approved",
        "i'll approve",
        "i will approve",
        "i've waived",
        "i have waived",
        "i'll waive",
        "i will waive",
        "i've unlocked",
        "i have unlocked",
        "i'll unlock",
        "i will unlock",
        "i've removed",
        "i have removed",
        "we won't charge you",
        "we will not charge you",
    ),
    "es": (
        "te la aplico",
        "se la aplico",
        "te lo aplico",
        "se lo aplico",
        "la aplico",
        "lo aplico",
        "he aplicado",
        "te he aplicado",
        "le he aplicado",
        "ya aplique",
        "te la apruebo",
        "se la apruebo",
        "te lo apruebo",
        "se lo apruebo",
        "he aprobado",
        "ya aprobe",
        "te condono",
        "le condono",
        "he condonado",
        "te desbloqueo",
        "le desbloqueo",
        "he desbloqueado",
        "ya desbloquee",
        "no le cobraremos",
        "no te cobraremos",
        "no le vamos a cobrar",
        "no te vamos a cobrar",
    ),
    "pt": (
        "ja apliquei",
        "apliquei",
        "vou aplicar",
        "ja aprovei",
        "aprovei",
        "vou aprovar",
        "desbloqueei",
        "vou desbloquear",
        "isentei",
        "vou isentar",
        "dispensei",
        "nao vamos cobrar",
        "nao cobraremos",
        "nao lhe cobraremos",
        "nao te cobraremos",
    ),
}

#: The company promising to give money back: a refund it commits to needs a clause granting it.
REFUND_PROMISES: dict[str, tuple[str, ...]] = {
    "en": (
        "we will refund",
        "we'll refund",
        "we refund",
        "we are refunding",
        "we're refunding",
        "i will refund",
        "i'll refund",
        "we will give you back",
        "we will pay you back",
        "we will return the money",
    ),
    "es": (
        "te reembolsamos",
        "le reembolsamos",
        "les reembolsamos",
        "reembolsaremos",
        "te reembolsaremos",
        "le reembolsaremos",
        "te devolvemos",
        "le devolvemos",
        "les devolvemos",
        "devolveremos",
        "te devolveremos",
        "le devolveremos",
        "les devolveremos",
        "vamos a reembolsar",
        "vamos a devolver",
        "te vamos a devolver",
        "le vamos a devolver",
        "te regresamos",
        "le regresamos",
        "les regresamos",
        "regresaremos",
        "te regresaremos",
        "le regresaremos",
        "te reintegramos",
        "le reintegramos",
        "reintegraremos",
        "te reembolso",
        "le reembolso",
    ),
    "pt": (
        "vamos reembolsar",
        "vamos devolver",
        "reembolsaremos",
        "devolveremos",
        "reembolsamos",
        "vou reembolsar",
        "vou devolver",
        "te devolvemos",
        "lhe devolvemos",
    ),
}
#: What follows a promise to give something back that is not money: "le devolveremos la
#: llamada" is a callback.
#: Actions a policy permits, forbids or requires, by verb stem in the three languages. Only
#: verbs whose object a clause names ("Agents cannot redirect them [refunds]", "Identity is
#: verified by login"); a permission is compared with the clause on the same object.
ACTIONS: dict[str, tuple[str, ...]] = {
    "redirect": (
        "redirect*",
        "redirig*",
        "redirij*",
        "redireccion*",
        "redirecion*",
        "redireciona*",
        "reencaminh*",
    ),
    "verify": ("verif*", "comprob*", "comprov*"),
    "cover": (
        "cover",
        "covers",
        "covered",
        "cubre",
        "cubren",
        "cubiert*",
        "cobre",
        "cobrem",
        "coberto*",
        "coberta*",
    ),
}
#: Saying the company may do something: "we can", "podemos", "pode".
CAPABILITY_MARKERS = (
    "we can",
    "we could",
    "i can",
    "you can",
    "it can",
    "it is possible to",
    "podemos",
    "podriamos",
    "puedo",
    "puede",
    "pueden",
    "se puede",
    "es posible",
    "posso",
    "pode",
    "podem",
    "e possivel",
)
#: Saying a step is not needed: "no need to verify", "no necesitamos verificar".
NO_NEED_MARKERS = (
    "no need to",
    "don't need to",
    "do not need to",
    "doesn't need to",
    "does not need to",
    "not necessary to",
    "without having to",
    "no necesitamos",
    "no necesita",
    "no necesitas",
    "no hace falta",
    "no es necesario",
    "sin necesidad de",
    "sin tener que",
    "nao precisamos",
    "nao precisa",
    "nao e necessario",
    "sem necessidade de",
    "sem precisar",
)

NOT_MONEY_BACK = ("la llamada", "a llamada", "a ligacao", "the call", "your call", "el producto")

#: A rule stated about the company: "CuotaYa only contacts...", "we always...".
RULE_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("only", "always", "as a rule", "our policy", "is allowed to", "are allowed to"),
    "es": (
        "solo",
        "solamente",
        "unicamente",
        "siempre",
        "por norma",
        "nuestra politica",
        "se permite",
        "esta permitido",
        "estan permitidas",
    ),
    "pt": ("so", "somente", "apenas", "sempre", "nossa politica", "e permitido"),
}

#: A universal rule: "refunds are always made within...", "siempre", "sempre".
UNIVERSAL_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("always", "in every case", "in all cases"),
    "es": ("siempre", "en todos los casos"),
    "pt": ("sempre", "em todos os casos"),
}

#: The company as the one speaking or acting: a stance stated with these is the company's.
COMPANY_VOICE: dict[str, tuple[str, ...]] = {
    "en": ("we", "our", "us"),
    "es": ("nosotros", "nuestr*"),
    "pt": ("nos", "nosso*", "nossa*"),
}

#: A company position: taking a side, donating, endorsing.
POSITION_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("we support", "we donate", "we endorse", "we condemn", "we back"),
    "es": ("apoyamos", "donamos", "respaldamos", "condenamos", "hacemos donaciones"),
    "pt": ("apoiamos", "doamos", "condenamos", "fazemos doacoes"),
}

#: In a policy clause, what comes after one of these is a condition the rule requires:
#: "only a human agent can approve it", "stays locked until identity is verified".
REQUIREMENT_MARKERS = (
    "approved by",
    "aprobad* por",
    "aprovad* por",
    "only",
    "until",
    "require*",
    "must",
    "solo",
    "solamente",
    "unicamente",
    "hasta que",
    "requiere*",
    "somente",
    "apenas",
    "ate que",
    "exige*",
    "requer*",
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
    # Spanish and Portuguese "política" is also "policy": "nuestra política establece..."
    "nuestra politica*",
    "nuestras politicas",
    "nossa politica*",
    "nossas politicas",
    "esta politica",
    "essa politica",
    "politica de",
    "politicas de",
    "politica da",
    "politica do",
    "segun la politica",
    "conforme a politica",
    # idioms: "keep in mind" retains nothing
    "keep in mind",
    "bear in mind",
)
_TOKEN = re.compile(r"\w+|[%$€£/]")


@dataclass(frozen=True)
class _Term:
    concept: str
    tokens: tuple[str, ...]  # a token ending in "*" matches any word it begins


#: A term's words: any of them may end in "*" ("cancel* la comision").
_TERM_TOKEN = re.compile(r"\w+\*?|[%$€£/]")


def _term(concept: str, raw: str) -> _Term:
    return _Term(concept, tuple(t.group(0) for t in _TERM_TOKEN.finditer(fold(raw))))


@dataclass(frozen=True)
class _Starts:
    """The terms a word can begin: the concepts of one-word terms, and the longer terms by
    their second word (exact, or a prefix to test)."""

    singles: tuple[str, ...]
    by_second: dict[str, tuple[_Term, ...]]
    starred: tuple[_Term, ...]


class _Matcher:
    """Finds every term of the lexicon in one pass over the words of a text: terms are indexed
    by their first word (or the prefix it must begin with), so the cost grows with the text,
    not with the size of the lexicon."""

    def __init__(self, terms: list[_Term]) -> None:
        self.exact: dict[str, list[_Term]] = {}
        self.prefix: dict[str, list[_Term]] = {}
        for term in terms:
            if not term.tokens:
                continue
            first = term.tokens[0]
            if first.endswith("*"):
                self.prefix.setdefault(first[:-1], []).append(term)
            else:
                self.exact.setdefault(first, []).append(term)
        self.prefix_lengths = sorted({len(p) for p in self.prefix})
        # The terms a word can begin, per word: the same few hundred words come back in every
        # answer, and looking them up by every prefix length was most of the matching time.
        self._by_word: dict[str, _Starts] = {}

    def _candidates(self, word: str) -> _Starts:
        known = self._by_word.get(word)
        if known is not None:
            return known
        candidates = list(self.exact.get(word, ()))
        for length in self.prefix_lengths:
            if length > len(word):
                break
            candidates.extend(self.prefix.get(word[:length], ()))
        singles = tuple(dict.fromkeys(t.concept for t in candidates if len(t.tokens) == 1))
        by_second: dict[str, list[_Term]] = {}
        starred: list[_Term] = []
        for term in candidates:
            if len(term.tokens) > 1:
                second = term.tokens[1]
                if second.endswith("*"):
                    starred.append(term)
                else:
                    by_second.setdefault(second, []).append(term)
        found = _Starts(singles, {k: tuple(v) for k, v in by_second.items()}, tuple(starred))
        if len(self._by_word) > 100_000:
            self._by_word.clear()
        self._by_word[word] = found
        return found

    @staticmethod
    def _word_matches(pattern: str, word: str) -> bool:
        return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern

    def find(
        self, folded: str, words: list[tuple[str, int, int]] | None = None
    ) -> list[tuple[str, int, int]]:
        """Every term in `folded` as (concept, start, end); `words` are its tokens (`tokens()`),
        when the caller has them already."""
        if words is None:
            words = tokens(folded)
        found: dict[tuple[str, int], int] = {}  # (concept, start) -> longest end
        known, candidates, count = self._by_word, self._candidates, len(words)
        matches = self._word_matches
        for i, (word, start, end) in enumerate(words):
            starts = known.get(word)
            if starts is None:
                starts = candidates(word)
            for concept in starts.singles:
                if end > found.get((concept, start), -1):
                    found[(concept, start)] = end
            if i + 1 >= count or not (starts.by_second or starts.starred):
                continue
            second = words[i + 1][0]
            for term in (*starts.by_second.get(second, ()), *starts.starred):
                n = len(term.tokens)
                if i + n > count or not all(
                    matches(term.tokens[k], words[i + k][0]) for k in range(1, n)
                ):
                    continue
                stop = words[i + n - 1][2]
                key = (term.concept, start)
                if stop > found.get(key, -1):
                    found[key] = stop
        if not found:
            return []
        spans = sorted((start, end, concept) for (concept, start), end in found.items())
        out: list[tuple[str, int, int]] = []
        last_end: dict[str, int] = {}
        for start, end, concept in spans:  # one concept never overlaps itself
            if start >= last_end.get(concept, -1):
                out.append((concept, start, end))
                last_end[concept] = end
        return out


def tokens(folded: str) -> list[tuple[str, int, int]]:
    """The words of a folded text with their offsets, as the matchers read them."""
    return [(m[0], *m.span()) for m in _TOKEN.finditer(folded)]


#: The concept name masks are found under, in the same pass as the concepts.
_MASK = "\x00mask"
_MATCHER = _Matcher(
    [
        *(_term(c, t) for c, terms in CONCEPTS.items() for t in terms),
        *(_term(_MASK, m) for m in MASKS),
    ]
)


@per_text(8192)  # forgotten by clear_caches, so benchmarks pay for every text on every pass
def _spans(text: str) -> tuple[tuple[str, int, int], ...]:
    folded = fold(text)
    found = _MATCHER.find(folded)
    masks = [(s, e) for concept, s, e in found if concept == _MASK]
    return tuple(
        (concept, start, end)
        for concept, start, end in found
        if concept != _MASK
        # A mask hides what its words do not mean ("credit" in "credit bureau"), not a term
        # that spells the whole masked phrase (the bureau in "credit bureau").
        and not any(ms <= start < me and not (start == ms and end >= me) for ms, me in masks)
    )


def concept_spans(text: str) -> list[tuple[str, int, int]]:
    """(concept, start, end) of every concept mention; offsets index `text`."""
    return list(_spans(text))


def concepts(text: str) -> set[str]:
    return {concept for concept, _, _ in _spans(text)}
