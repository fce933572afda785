"""Hybrid retrieval with the real local MiniLM (int8 ONNX) over the 16-document fixture corpus."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from chatbot.config import Settings
from chatbot.errors import InvalidMessageError
from chatbot.rag.embedder import Vectors
from chatbot.rag.embeddings import LocalMiniLMEmbedder, make_embedder
from chatbot.rag.knowledge_base import (
    KnowledgeBase,
    RetrievalMode,
    ensure_knowledge_base,
    load_knowledge_base,
)
from tests.rag.conftest import FIXTURE_CORPUS, isolated_settings, share_exported_model

pytestmark = pytest.mark.models

QUESTIONS = {
    "What is Amazon SageMaker?": "whatis.md",
    "Can I train on spot instances to save money?": "model-managed-spot-training.md",
    "How do I delete an endpoint so I stop paying for it?": "realtime-endpoints-delete-resources.md",
    "Can a pipeline reuse the output of a step that already ran?": "pipelines-caching.md",
    "How much memory can a serverless endpoint have?": "serverless-endpoints.md",
}


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory, exported_minilm: Path) -> Settings:
    root = tmp_path_factory.mktemp("kb")
    shutil.copytree(FIXTURE_CORPUS, root / "corpus")
    settings = isolated_settings(root, data_dir=root / "data", corpus_dir=root / "corpus")
    share_exported_model(settings, exported_minilm)
    return settings


@pytest.fixture(scope="module")
def embedder(module_settings: Settings) -> LocalMiniLMEmbedder:
    built = make_embedder(module_settings)
    assert isinstance(built, LocalMiniLMEmbedder)
    return built


@pytest.fixture(scope="module")
def kb(module_settings: Settings, embedder: LocalMiniLMEmbedder) -> KnowledgeBase:
    return ensure_knowledge_base(module_settings, embedder)


def test_embeddings_are_normalised_and_close_to_the_reference_model(
    module_settings: Settings, embedder: LocalMiniLMEmbedder
) -> None:
    from sentence_transformers import SentenceTransformer

    texts = ["How do I create an endpoint?", "Spot instances cut training cost.", "K-means clustering"]
    vectors = embedder.embed_documents(texts)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # int8 activations are scaled per batch, so a text alone and in a batch differ a little
    assert float(embedder.embed_query(texts[0]) @ vectors[0]) > 0.98
    reference = SentenceTransformer(str(module_settings.local_embedding_model_dir), device="cpu")
    expected = reference.encode(texts, normalize_embeddings=True)
    cosines = (vectors * expected).sum(axis=1)
    assert cosines.min() > 0.97, "the int8 graph must stay close to the fp32 model"
    assert embedder.embed_documents([]).shape == (0, 384)


def test_texts_are_cut_at_the_models_256_tokens(embedder: LocalMiniLMEmbedder) -> None:
    words = " ".join(f"word{i}" for i in range(400))  # far more than 256 tokens
    longer = words + " and a tail the model never sees"
    first, second = embedder.embed_documents([words, longer])
    assert float(first @ second) > 0.9999


@pytest.mark.parametrize(("question", "expected"), QUESTIONS.items())
def test_hybrid_retrieval_ranks_the_answering_page_near_the_top(
    kb: KnowledgeBase, question: str, expected: str
) -> None:
    docs = [source.doc for source in kb.search(question, 3).sources]
    assert expected in docs


def test_results_have_k_distinct_documents_best_first_with_their_chunks(kb: KnowledgeBase) -> None:
    for mode in RetrievalMode:
        result = kb.search("How do I reduce the cost of training?", 4, mode=mode)
        docs = [source.doc for source in result.sources]
        assert len(docs) == len(set(docs)) == 4
        scores = [source.score for source in result.sources]
        assert scores == sorted(scores, reverse=True)
        assert all(source.title and source.snippet for source in result.sources)
        assert [chunk.doc for chunk in result.chunks[:4]] == docs  # the best chunk of each source first
        assert {chunk.doc for chunk in result.chunks} <= set(docs)
        assert all(chunk.text and chunk.title for chunk in result.chunks)


def test_k_larger_than_the_corpus_returns_every_document(kb: KnowledgeBase) -> None:
    result = kb.search("SageMaker", 50)
    assert len({source.doc for source in result.sources}) == len(result.sources) == 16


def test_an_empty_question_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidMessageError):
        kb.search("   ", 3)


def test_search_is_safe_and_consistent_from_many_threads(kb: KnowledgeBase) -> None:
    questions = list(QUESTIONS) * 4
    expected = [[source.doc for source in kb.search(question, 4).sources] for question in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda question: kb.search(question, 4), questions))
    assert [[source.doc for source in result.sources] for result in results] == expected


class _CountingEmbedder:
    def __init__(self, inner: LocalMiniLMEmbedder) -> None:
        self.inner = inner
        self.documents_embedded = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.documents_embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


def test_loading_a_current_index_embeds_nothing(
    kb: KnowledgeBase, module_settings: Settings, embedder: LocalMiniLMEmbedder
) -> None:
    counting = _CountingEmbedder(embedder)
    reloaded = load_knowledge_base(module_settings, counting)
    assert counting.documents_embedded == 0
    assert reloaded.manifest == kb.manifest
    assert [s.doc for s in reloaded.search("What is Amazon SageMaker?", 3).sources] == [
        s.doc for s in kb.search("What is Amazon SageMaker?", 3).sources
    ]
