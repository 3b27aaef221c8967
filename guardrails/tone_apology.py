"""`tone.no_apology`: an apology is due and the answer has none.

`expect.apology` is true and the answer contains no apology (sorry, apologise, we regret, lo
siento, lamentamos, disculpa, perdón, pedimos desculpas, sinto muito...; the phrases are data,
`guardrails/lexicons/tone/apology.yaml`). "Lamentablemente"/"unfortunately" is not an apology.
There is no span: the finding is about something absent from the whole answer. Without
`expect.apology`, a customer who reports a death (the `bereavement` situation of
`guardrails/situations.py`) is owed a word of sympathy ("sorry for your loss", "os nossos
sentimentos", "lamentamos su pérdida"); `expect.apology: false` switches this off.
"""

from __future__ import annotations

from guardrails.records import Case, Finding
from guardrails.situations import Need, reported
from guardrails.tone_rule import Answer, finding


def bereavement(case: Case) -> Need | None:
    """A death the customer reports, when the case does not say whether an apology is due:
    then words of sympathy are (an expect.apology of false switches this off)."""
    if "apology" in case.expect.model_fields_set:
        return None
    return reported(case, "bereavement")


def no_apology(case: Case, answer: Answer) -> list[Finding]:
    """The rule: no apology (or no sympathy) where one is due."""
    scan, bereaved = answer.scan, answer.bereaved
    if not (case.expect.apology or bereaved) or scan.hits.get("apology"):
        return []
    if bereaved is not None and not case.expect.apology:
        why = f'the customer reports a death: "{bereaved.quote}"'
        message = f"The answer has no word of sympathy although {why}."
    else:
        why, message = "", "The answer contains no apology although this case requires one."
    return [
        finding(
            "no_apology",
            "major",
            message,
            None,
            why or "expect.apology: true",
            "no apology phrase (sorry, apologise, lo siento, lamentamos, disculpa, perdón, "
            "pedimos desculpas, sinto muito, condolences, os nossos sentimentos...) anywhere "
            "in the answer",
            source="conversation" if why else "expect.apology",
        )
    ]
