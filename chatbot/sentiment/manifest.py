"""What a trained sentiment model was made from and how well it did: written next to its weights."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from chatbot.sentiment.dataset import SplitSpec
from chatbot.sentiment.metrics import ClassificationMetrics

MANIFEST_FORMAT = 1


class SentimentManifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = MANIFEST_FORMAT
    judged_by: str
    recipe: str = Field(description="Names the training recipe; a model made by another recipe is stale.")
    embedder_model_id: str = Field(description="Vectors from any other embedder make the model stale.")
    embedding_dimension: int
    features: list[str] = Field(description="Feature blocks, in column order.")
    data_path: str
    data_fingerprint: str = Field(description="sha256 of the human-rated file it was trained on.")
    support_domain_version: str
    support_domain_examples: int
    split: SplitSpec
    split_sizes: dict[str, int]
    regularisation_c: float = Field(description="Inverse L2 strength, chosen on the dev part.")
    dev_macro_f1_by_c: dict[str, float]
    trained_on: str = Field(description="Which parts the shipped weights were fitted on.")
    dev: ClassificationMetrics = Field(description="Model fitted on train only, measured on dev.")
    test: ClassificationMetrics = Field(description="The shipped model on the held-out test part.")
    test_vader: ClassificationMetrics = Field(description="Standard VADER on the same test part.")
    trained_at: datetime
    training_seconds: float
