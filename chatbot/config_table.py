"""The README's configuration table, generated from :class:`~chatbot.config.Settings` so it never drifts.

``python -m chatbot.config_table`` prints it; a test checks the README holds exactly this table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from chatbot.config import ENV_PREFIX, PROJECT_ROOT, Settings

TABLE_START = "<!-- settings-table:start -->"
TABLE_END = "<!-- settings-table:end -->"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        produced = field.default_factory()  # type: ignore[call-arg]
        return "—" if produced in ({}, [], None) else "(the installed model package)"
    value: Any = field.default
    if value is None:
        return "—"
    if isinstance(value, Path):
        try:
            return f"`{value.relative_to(PROJECT_ROOT)}`"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, list | dict):
        return f"`{value}`" if value else "—"
    return f"`{value}`"


def markdown_table() -> str:
    rows = ["| Variable | Default | What it sets |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {_default(field)} | {description} |")
    return "\n".join(rows)


def readme_section() -> str:
    return f"{TABLE_START}\n{markdown_table()}\n{TABLE_END}"


if __name__ == "__main__":
    print(readme_section())
