"""``chatbot sentiment train``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatbot.cli import app
from chatbot.config import load_settings
from chatbot.sentiment.store import MANIFEST_FILE
from tests.sentiment.local_models import LocalModels

pytestmark = pytest.mark.models


def test_if_stale_keeps_a_current_model_and_prints_its_figures(
    models: LocalModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(models.settings.data_dir))
    manifest = models.settings.data_dir / "sentiment" / MANIFEST_FILE
    before = manifest.read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["sentiment", "train", "--if-stale"])
    assert result.exit_code == 0, result.output
    assert manifest.read_text(encoding="utf-8") == before
    for words in ("test, this classifier", "test, VADER", "macro-F1", "train 5536"):
        assert words in result.stdout


def test_train_retrains_on_the_configured_data(
    models: LocalModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "models").symlink_to(models.settings.data_dir / "models")  # reuse the exported embedder
    full = load_settings().sentiment_training_data
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(full.read_text(encoding="utf-8").splitlines()[::40]) + "\n", encoding="utf-8")
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CHATBOT_SENTIMENT_TRAINING_DATA", str(small))

    result = CliRunner().invoke(app, ["sentiment", "train"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((data_dir / "sentiment" / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["data_path"] == str(small)
    assert sum(manifest["split_sizes"].values()) == len(small.read_text(encoding="utf-8").splitlines())
