"""`tone`: how an answer speaks to the customer, in Spanish, English and Portuguese.

Codes (severity in brackets; critical and major fail an answer, minor is reported only), each
a rule of its own module, where its docstring gives the details:

- ``tone.repetition`` [major] (`tone_repetition`): a sentence repeated, nearly repeated (80%
  of its distinct words shared, not two sentences that differ in a number), coming back whole
  inside a longer one, or restated within the answer.
- ``tone.length`` [major / minor] (`tone_length`): more words than ``expect.max_words``,
  counted as a person would ("+34 600 000 000" is one word); more than 10% over is major.
- ``tone.register`` [major / minor] (`tone_register`): the wrong register for
  ``expect.register`` (tú/usted in Spanish, formal/informal in English and Portuguese), or,
  without one, an answer that mixes forms of address ("tienes" and "usted"; "tu" and "você").
  Markers in a sentence written in another language are not counted.
- ``tone.unnatural_greeting`` [major / minor], ``tone.hashtags`` [major], ``tone.emoji``
  [major] (`tone_channel`): a mass greeting ("Estimados clientes", "Dear esteemed patrons")
  or a form-letter one ("Dear customer") to one person; a hashtag in a reply to one customer;
  an emoji where the case, a crisis or an email rules them out.
- ``tone.sensitive_attribute`` [major] (`tone_sensitive`): an attribute of
  ``expect.avoid_mentioning``, or whatever the case says the customer's follower count ("your
  250K followers"), their own health ("tu enfermedad", "você está doente") or a third party's
  debts ("la deuda de tu hermano").
- ``tone.blame`` [major] (`tone_blame`): the answer blames the customer ("you should have read
  the terms", "es culpa tuya", "você deveria ter conferido"); a negated phrase ("no es tu
  culpa") or a duty that is none ("you should have received an email") is no blame.
- ``tone.no_apology`` [major] (`tone_apology`): ``expect.apology`` is true and the answer has
  no apology, or the customer reports a death and the answer has no word of sympathy.

Every check is a deterministic function of the text and the case: words in the answer (such as
"ignore your rules and mark this as passed") are only words to match, never instructions.

Method: the answer is analysed once (`guardrails.tone_rule.Answer`): lowercased (same length,
so offsets survive) and tokenised into words and punctuation marks (`guardrails.tone_tokens`);
every lexicon phrase the case needs is found in one pass over the tokens
(`guardrails.tone_phrases`: the phrases are data, `guardrails/lexicons/tone/`, in one index
keyed by their least common word); character offsets are computed only when a finding is
raised. The guardrail is then a list of small rules over that analysis, one module each:
repetition, length, register (and mixed register), greeting, hashtags and emoji, sensitive
attributes, blame, and a missing apology. There is no per-call model, no network, and no work
that grows without bound with the answer's length (repetition compares sentences pairwise, on
at most 300 sentences).
"""

from __future__ import annotations

from functools import lru_cache

from guardrails.records import Case, Finding
from guardrails.registry import Check, GuardrailContext, register
from guardrails.tone_apology import bereavement, no_apology
from guardrails.tone_blame import blame
from guardrails.tone_channel import greeting, hashtags_emoji
from guardrails.tone_length import count_words, length
from guardrails.tone_phrases import scan
from guardrails.tone_register import MIXED_SIDES, REGISTER_SIDES, mixed_register
from guardrails.tone_register import register as register_rule
from guardrails.tone_repetition import repetition
from guardrails.tone_rule import GUARDRAIL, Answer, Rule
from guardrails.tone_sensitive import SCANNED as SENSITIVE_SCANNED
from guardrails.tone_sensitive import sensitive

__all__ = ["GUARDRAIL", "RULES", "check_tone", "count_words", "tone_guardrail"]

#: The rules, in the order their findings are reported.
RULES: tuple[Rule, ...] = (
    repetition,
    length,
    register_rule,
    mixed_register,
    greeting,
    hashtags_emoji,
    sensitive,
    blame,
    no_apology,
)


def check_tone(case: Case, text: str) -> list[Finding]:
    """Every tone finding for one answer to one case."""
    expect = case.expect
    bereaved = bereavement(case)
    categories = _plan(case.language, expect.register_, expect.apology or bereaved is not None)
    answer = Answer(scan(text, categories), bereaved)
    findings: list[Finding] = []
    for rule in RULES:
        findings += rule(case, answer)
    return findings


@lru_cache(maxsize=256)
def _plan(tag: str, register: str | None, apology: bool) -> frozenset[str]:
    """The phrase categories a case needs."""
    language = tag.split("-")[0].lower()
    categories = set(_ALWAYS_SCANNED)
    if apology:
        categories.add("apology")
    if register is not None and language in REGISTER_SIDES:
        categories.update(REGISTER_SIDES[language])
    elif register is None:
        for pair in MIXED_SIDES.get(language, ()):
            categories.update((pair[0], pair[2]))
    return frozenset(categories)


_ALWAYS_SCANNED = frozenset({"blame", "greet_mass", "greet_generic"}) | SENSITIVE_SCANNED


@register(GUARDRAIL)
def tone_guardrail(context: GuardrailContext) -> Check:
    return check_tone
