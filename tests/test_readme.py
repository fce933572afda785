"""The README stays true to the code: its configuration table and the commands it shows."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from chatbot.cli import app
from chatbot.config import PROJECT_ROOT
from chatbot.config_table import TABLE_END, TABLE_START, readme_section

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_the_configuration_table_lists_every_setting_as_the_code_defines_it() -> None:
    start, end = README.index(TABLE_START), README.index(TABLE_END) + len(TABLE_END)
    assert README[start:end] == readme_section(), "run `python -m chatbot.config_table` and paste it"


def test_every_command_the_readme_shows_exists() -> None:
    runner = CliRunner()
    shown = sorted(set(re.findall(r"^chatbot ([a-z]+(?: [a-z]+)?)", README, flags=re.MULTILINE)))
    assert shown
    for command in shown:
        words = command.split()
        result = runner.invoke(app, [*words, "--help"])
        if result.exit_code != 0 and len(words) == 2:  # "chatbot ask \"...\"" style: one word is the command
            result = runner.invoke(app, [words[0], "--help"])
        assert result.exit_code == 0, f"`chatbot {command}` is in the README but not in the CLI"


def test_the_readme_has_exactly_the_two_setup_commands() -> None:
    setup = README[README.index("## Set up and run") : README.index("`make run` serves")]
    assert re.findall(r"^make \w+", setup, flags=re.MULTILINE) == ["make run", "make test"]
