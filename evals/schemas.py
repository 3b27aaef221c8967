"""JSON Schemas of the input formats, generated from the pydantic records that load them.

`evals schema --out docs/schemas` writes them; a test holds the committed copies equal to what
this module generates, so a record and its documented schema cannot drift apart. What a schema
cannot say (a conversation must end with the customer, `required_facts` must name given facts,
target names are unique, a `defaults` block merged into each case must make a whole case) is
checked by the loaders and `evals validate`, and said in each schema's description.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter

from evals.records import Case, LabelledResponse, PolicyBook, Suite
from evals.scan import Transcript

DIALECT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]


def _model(model: type[BaseModel]) -> tuple[Schema, dict[str, Schema]]:
    """A model's schema with its `$defs` taken out (to merge into a document's own)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    return schema, defs


def _document(title: str, description: str, body: Schema, defs: dict[str, Schema]) -> Schema:
    out: Schema = {"$schema": DIALECT, "title": title, "description": description}
    out.update(body)
    if defs:
        out["$defs"] = dict(sorted(defs.items()))
    return out


def _without_required(schema: Schema, title: str, description: str) -> Schema:
    partial = copy.deepcopy(schema)
    partial.pop("required", None)
    partial["title"] = title
    partial["description"] = description
    return partial


def case_file_schema() -> Schema:
    case, defs = _model(Case)
    defs["Case"] = case
    defs["CaseFields"] = _without_required(
        case,
        "CaseFields",
        "Any fields of a case. In a file with `defaults`, each case is merged over the "
        "defaults, and the result must be a whole Case.",
    )
    file_with_defaults = {
        "type": "object",
        "properties": {
            "defaults": {"$ref": "#/$defs/CaseFields"},
            "cases": {"type": "array", "items": {"$ref": "#/$defs/CaseFields"}},
        },
        "required": ["cases"],
        "additionalProperties": False,
    }
    return _document(
        "supportgate case file (YAML)",
        "Cases to be answered: `{defaults, cases: [...]}`, a list of cases, or one case. "
        "JSONL, CSV and Parquet files hold one Case per row. Also checked when loaded: the "
        "conversation ends with a user message, and `expect.required_facts` names keys of "
        "`facts`.",
        {
            "anyOf": [
                file_with_defaults,
                {"type": "array", "items": {"$ref": "#/$defs/Case"}},
                {"$ref": "#/$defs/Case"},
            ]
        },
        defs,
    )


def policy_book_schema() -> Schema:
    book, defs = _model(PolicyBook)
    defs["PolicyBook"] = book
    defs["PolicyBookEntry"] = _without_required(
        book, "PolicyBookEntry", "One company's book in a mapping; its id is the mapping's key."
    )
    defs["PolicyBookEntry"]["required"] = ["name", "text"]
    return _document(
        "supportgate policy book (YAML)",
        "One policy book `{id, name, text, version}`, or a mapping of company id to "
        "`{name, text, version}`. A Markdown or text file named after the company id is a "
        "book too (its first heading is the name). `version` defaults to a hash of the text.",
        {
            "anyOf": [
                {"$ref": "#/$defs/PolicyBook"},
                {
                    "type": "object",
                    "propertyNames": {"pattern": book["properties"]["id"]["pattern"]},
                    "additionalProperties": {"$ref": "#/$defs/PolicyBookEntry"},
                    "minProperties": 1,
                },
            ]
        },
        defs,
    )


def suite_schema() -> Schema:
    suite, defs = _model(Suite)
    suite.pop("description", None)
    return _document(
        "supportgate suite (YAML)",
        "Which cases, policy books and targets a run uses, and its gates. Paths are relative "
        "to the suite file; `output` to the working directory. Also checked when loaded: target "
        "names are unique and `gates.decisions` names only existing targets; model strings "
        "must name a provider litellm knows, `local/...` or `reference`.",
        suite,
        defs,
    )


def transcript_schema() -> Schema:
    transcript, defs = _model(Transcript)
    transcript.pop("description", None)
    return _document(
        "supportgate scan transcript (one JSONL line)",
        "One existing response for `evals scan`: a JSON object per line. The conversation ends "
        "with the customer's message; `response` is the answer that was sent.",
        transcript,
        defs,
    )


def labelled_schema() -> Schema:
    schema = TypeAdapter(list[LabelledResponse]).json_schema()
    defs = schema.pop("$defs", {})
    return _document(
        "supportgate labelled responses (YAML)",
        "A list of responses written for cases (by case id), each labelled with the guardrail "
        "families that must raise a finding on it; an empty list means it must pass every "
        "check. `evals validate` compares the labels with what the guardrails find.",
        schema,
        defs,
    )


#: Each documented input format: its schema file's stem and how to generate it.
SCHEMAS: dict[str, Callable[[], Schema]] = {
    "case-file": case_file_schema,
    "policy-book": policy_book_schema,
    "suite": suite_schema,
    "transcript": transcript_schema,
    "labelled-responses": labelled_schema,
}


def file_name(name: str) -> str:
    return f"{name}.schema.json"


def render(name: str) -> str:
    """The schema as committed: indented JSON, fields in the records' order, final newline."""
    return json.dumps(SCHEMAS[name](), indent=2, ensure_ascii=False) + "\n"
