"""Titan Text Embeddings v2 through the real botocore client against the fake Bedrock endpoint."""

from __future__ import annotations

import numpy as np
import pytest

from chatbot.errors import ModelBackendError
from chatbot.rag.bedrock_embedder import BedrockTitanEmbedder
from chatbot.rag.embedder import Embedder
from tests.llm.conftest import MakeSettings
from tests.support.fake_bedrock import FakeBedrock

TEXTS = [f"SageMaker document chunk number {index}" for index in range(11)]


def test_documents_are_embedded_in_order_as_unit_vectors(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock
) -> None:
    embedder: Embedder = BedrockTitanEmbedder(make_aws_settings(bedrock_embedding_dimensions=512))

    vectors = embedder.embed_documents(TEXTS)

    assert embedder.dimension == 512
    assert embedder.model_id == "amazon.titan-embed-text-v2:0/512"
    assert vectors.shape == (len(TEXTS), 512)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # the fake maps a text to the same vector every time: row i must be the vector of text i
    np.testing.assert_allclose(vectors[7], embedder.embed_query(TEXTS[7]), rtol=1e-6)
    assert not np.allclose(vectors[0], vectors[1])

    requests = fake_bedrock.requests_for("invoke")
    assert len(requests) == len(TEXTS) + 1
    assert {request.model_id for request in requests} == {"amazon.titan-embed-text-v2:0"}
    assert sorted(request.body["inputText"] for request in requests[: len(TEXTS)]) == sorted(TEXTS)
    for request in requests:
        assert request.body["dimensions"] == 512
        assert request.body["normalize"] is True


def test_query_vector_has_the_default_dimension(make_aws_settings: MakeSettings) -> None:
    vector = BedrockTitanEmbedder(make_aws_settings()).embed_query("How do I deploy a model?")
    assert vector.shape == (1024,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, rel=1e-5)


def test_no_texts_means_no_calls(make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock) -> None:
    assert BedrockTitanEmbedder(make_aws_settings()).embed_documents([]).shape == (0, 1024)
    assert not fake_bedrock.requests


def test_an_empty_text_is_a_clear_error(make_aws_settings: MakeSettings) -> None:
    with pytest.raises(ModelBackendError, match="empty"):
        BedrockTitanEmbedder(make_aws_settings()).embed_documents(["fine", "   "])
