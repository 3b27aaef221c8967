"""Renderers of a scorecard: terminal tables, markdown, HTML, JSON and JUnit XML.

Code only: generated files go under the run's output folder (`<out>/reports/<run id>/`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evals.records import CaseResult, RunPlan
from evals.scorecard import Scorecard


def write_reports(
    card: Scorecard, plan: RunPlan, folder: Path, results: Sequence[CaseResult] | None = None
) -> list[Path]:
    """Write every report of one run into `folder`; return the files written. `results`:
    every answer of the run, which the HTML report shows (passing ones collapsed)."""
    from reports.html import write_html
    from reports.json_report import write_json
    from reports.junit import write_junit
    from reports.markdown import write_markdown

    files = [
        write_html(card, plan, folder, results),
        write_markdown(card, plan, folder),
        write_junit(card, plan, folder),
    ]
    files += write_json(card, folder)
    return files
