"""`tone`: how an answer speaks to the customer, in Spanish, English and Portuguese.

Codes (severity in brackets; critical and major fail an answer, minor is reported only):

- ``tone.repetition`` [major]: a sentence is repeated, or nearly repeated (at least five words,
  80% or more of its distinct words shared with an earlier sentence, and not two sentences that
  differ in a number, such as two phone lines), or comes back whole inside a longer sentence,
  or is restated (seven distinct words or more, 80% of them inside another sentence), within
  the answer.
- ``tone.length`` [major / minor]: the answer has more words than ``expect.max_words``. Words
  are counted as a person would: every whitespace-separated item that contains a letter or a
  digit, a number written in groups ("+52 55 4170 2020") counting once. More than 10% over the
  budget is major; up to 10% over is minor (reported, not failed: a budget is a guide, and a
  reader does not notice a handful of words). The span is the part over the budget.
- ``tone.register`` [major / minor]: the answer addresses the customer in the wrong register.
  ``expect.register`` ``tu``/``usted`` (Spanish; ``informal``/``formal`` map to them): tú forms
  (tu, tus, te, tú, contigo, tienes, puedes, pagaste, escríbenos, "recuerda..." opening a
  sentence, vos forms where vos is used) where usted is expected, or usted forms (usted,
  disculpe, escríbanos, "¿Desea...?", "le paso", "no se preocupe"; and, as weak evidence only,
  su/sus/le and a sentence opening with "Puede...") where tú is expected. ``formal``/
  ``informal`` in English (slang, "hey", "gonna", "no worries" in a formal answer; "Dear Sir or
  Madam", "hereby" in an informal one) and Portuguese ("tu", "te", "oi", "pra" and the "tu"
  verbs of European Portuguese, "tens", "estás", "podes", in a formal answer; "você", the
  neutral address of Brazilian Portuguese, only as weak evidence; "o senhor", "a senhora" in
  an informal one). Major when clear markers of the
  wrong register weigh at least as much as those of the expected one, or when three or more
  weak markers and none of the expected register are present; minor when the expected
  register dominates but a clear marker of the other slips in (an inconsistent answer, reported
  for review). Without ``expect.register`` (production transcripts), an answer that mixes forms
  of address is major: clear tú and usted markers (Spanish), or two of tu / você / o senhor
  (Portuguese: "tu", "teu", "contigo" with "você"; "te" does not count, Brazilian Portuguese
  uses it with "você"). Markers in a sentence written in another language (a Portuguese answer to a
  Spanish case) are not counted: that is the ``language`` check's business.
- ``tone.unnatural_greeting`` [major / minor]: a mass greeting ("¡Queridos usuarios!", "Dear
  valued customers", "Estimados clientes", "Prezados clientes", "Hola a todos") opening a
  sentence on a personal channel (chat, email, voice, or a social reply to one person; a
  social case tagged ``broadcast``/``announcement``/``public_statement`` is not personal) is
  major. A generic form-letter greeting to one person ("Dear customer", "Estimado cliente",
  "Prezado cliente") is minor.
- ``tone.hashtags`` [major]: a hashtag (#Word; not "#12345") when ``expect.hashtags`` is false,
  or unset and the answer goes to one customer (every channel; on social media, unless the case
  is tagged ``broadcast``/``announcement``/``public_statement``/``mass``): a hashtag addresses a
  public feed, not the person who wrote.
- ``tone.emoji`` [major]: an emoji or text emoticon (":)") when ``expect.emoji`` is false, or
  unset and the case is a crisis or the channel is email.
- ``tone.sensitive_attribute`` [major]: the answer mentions an attribute listed in
  ``expect.avoid_mentioning`` (follower_count, health and debt have lexicons in the three
  languages, and the follower count in the case's facts is recognised as a number, "480K",
  "480.000"; any other name is matched literally), or, whatever the case says, the customer's
  follower count or audience size ("followers", "seguidores", "your post reaches many
  people"), the customer's own health ("tu diabetes", "que estés enferma", "você está doente")
  or debts to or of third parties ("la deuda del novio de tu prima", "other debts").
- ``tone.blame`` [major]: the answer blames the customer ("you should have read the terms",
  "had you included...", "es culpa tuya", "debiste reclamar antes", "si hubieras revisado",
  "no ha revisado bien", "você deveria ter lido", "por sua culpa"). What the customer "should
  have" done must be a duty (read, check, pay, include, claim...): "you should have received an
  email" is not blame, and neither is a negated phrase ("no es tu culpa"). Counterfactuals of
  the customer's conduct blame too ("lo ideal habría sido avisarnos a tiempo", "si te
  hubieras molestado en revisar", "eso es lo que te trajo a esa situación", "a
  responsabilidade era tua"); "un accidente con culpa suya" describes an at-fault claim.
- ``tone.no_apology`` [major]: ``expect.apology`` is true and the answer contains no apology
  (sorry, apologise, we regret, lo siento, lamentamos, disculpa, perdón, pedimos desculpas,
  sinto muito...). "Lamentablemente"/"unfortunately" is not an apology. There is no span: the
  finding is about something absent from the whole answer. Without `expect.apology`, a
  customer who reports a death (the `bereavement` situation of `guardrails/situations.py`)
  is owed a word of sympathy ("sorry for your loss", "os nossos sentimentos", "lamentamos su
  pérdida"); `expect.apology: false` switches this off.
- A health word the customer used themselves may be acknowledged ("sorry about your hospital
  stay"); only `expect.avoid_mentioning` forbids even that.

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
