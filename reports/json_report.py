"""The scorecard as JSON (schema-versioned) and its JSON Schema, for machines."""

from __future__ import annotations

import json
from pathlib import Path

from evals.scorecard import Scorecard


def write_json(card: Scorecard, folder: Path) -> list[Path]:
    """`scorecard.json` (the whole scorecard) and `scorecard.schema.json` (its schema)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "scorecard.json"
    data.write_text(card.model_dump_json(indent=2), encoding="utf-8")
    schema = folder / "scorecard.schema.json"
    schema.write_text(
        json.dumps(Scorecard.model_json_schema(mode="serialization"), indent=2), encoding="utf-8"
    )
    return [data, schema]
