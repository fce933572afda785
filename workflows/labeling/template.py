"""The worker template file, and rendering it the way Ground Truth does (for tests and previews).

Ground Truth renders templates with Liquid, autoescaping every output and adding filters of its own; we add
``to_json`` (the one our template uses) to python-liquid so a preview matches what workers see.
"""

from __future__ import annotations

import json
from typing import Any

from liquid import Environment

from workflows.labeling.gt_task import TEMPLATE_PATH, TaskInput


def template_text() -> str:
    return TEMPLATE_PATH.read_text(encoding="utf-8")


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def ground_truth_environment(*, autoescape: bool = True) -> Environment:
    """A Liquid environment with Ground Truth's ``to_json`` filter; ``autoescape`` as Ground Truth has it."""
    environment = Environment(autoescape=autoescape)
    environment.filters["to_json"] = _to_json
    return environment


def render_task(task_input: TaskInput, *, autoescape: bool = True, template: str | None = None) -> str:
    """The HTML a worker's browser receives for this task."""
    environment = ground_truth_environment(autoescape=autoescape)
    compiled = environment.from_string(template_text() if template is None else template)
    return compiled.render(task={"input": task_input.model_dump(mode="json")})
