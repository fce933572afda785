from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.config import load_settings
from chatbot.errors import ModelBackendError
from chatbot.rag.bedrock_embedder import BedrockTitanEmbedder
from chatbot.rag.embeddings import LocalMiniLMEmbedder, make_embedder


def test_the_aws_backend_gets_the_titan_embedder(tmp_path: Path) -> None:
    embedder = make_embedder(load_settings(backend="aws", data_dir=tmp_path))
    assert isinstance(embedder, BedrockTitanEmbedder)
    assert embedder.model_id.startswith("amazon.titan-embed-text-v2")


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelBackendError, match="no sentence-transformers model"):
        LocalMiniLMEmbedder(tmp_path, tmp_path / "models")
    with pytest.raises(ModelBackendError, match="no sentence-transformers model"):
        make_embedder(load_settings(data_dir=tmp_path, local_embedding_model_dir=tmp_path))
