"""Ground Truth manifest lines: what we send to labeling and what comes back.

Input (one line per customer question and bot answer, JSON Lines). Ground Truth passes the whole line to
the pre-annotation Lambda as ``dataObject``; it needs either ``source`` (inline text) or ``source-ref`` (an
S3 object holding a :class:`LabelingItem` as JSON). We always add ``chatbot-metadata`` so labels can be
joined back::

    {"source": "Question: ...\\nAnswer: ...", "chatbot-metadata": {"item_id": ..., "conversation_id": ...,
     "turn_index": 3, "question": ..., "answer": ..., "sources": [...], ...}}

Output (Ground Truth's output manifest for a custom task): the input line plus the label attribute and its
metadata::

    {"source": ..., "chatbot-metadata": {...},
     "<attr>": {"ratings": [{"worker_id": ..., "rating": 4, "comment": ""}],
                "consolidated_rating": 4.0, "agreement": 0.67},
     "<attr>-metadata": {"type": "groundtruth/custom", "job-name": ..., "human-annotated": "yes",
                         "creation-date": "2026-11-21T10:00:00.000000"}}
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_LABEL_ATTRIBUTE = "answer-relevance"
METADATA_KEY = "chatbot-metadata"
RATING_MIN = 1
RATING_MAX = 5


class CitedSource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    doc: str
    title: str = ""
    snippet: str = ""


class LabelingItem(BaseModel):
    """One (customer question, bot answer) pair to rate, already redacted."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    item_id: str = Field(description="Stable id: <conversation_id>:<turn_index of the answer>.")
    conversation_id: str
    turn_index: int = Field(ge=0, description="Index of the bot answer in the transcript's turns.")
    question: str
    answer: str
    sources: list[CitedSource] = Field(default_factory=list)
    withheld: bool = False
    escalated: bool = False
    sentiment_label: str | None = None
    feedback: str | None = Field(None, description="Customer thumbs: up, down or none.")
    retrieval_score: float | None = None


class WorkerRating(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    worker_id: str
    rating: int = Field(ge=RATING_MIN, le=RATING_MAX)
    comment: str = ""


class ConsolidatedLabel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    ratings: list[WorkerRating]
    consolidated_rating: float = Field(ge=RATING_MIN, le=RATING_MAX, description="Median of the ratings.")
    agreement: float = Field(ge=0.0, le=1.0, description="Share of workers who gave the modal rating.")
    problems: list[str] = Field(
        default_factory=list, description="Annotations left out of the consolidation (malformed), and why."
    )


class LabelMetadata(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    type: str = "groundtruth/custom"
    job_name: str = Field(alias="job-name")
    human_annotated: str = Field("yes", alias="human-annotated")
    creation_date: str = Field(alias="creation-date")
