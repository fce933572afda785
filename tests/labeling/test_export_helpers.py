"""Transcripts with PII, sources, feedback and escalations, put in a fresh bucket (no tests here)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chatbot.aws import client
from chatbot.config import Settings
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.store import S3TranscriptStore, transcript_key
from chatbot.conversation.transcript import Feedback, Rating, Role, Transcript, Turn
from chatbot.models import EscalationDecision, EscalationReason, Sentiment, SentimentLabel, Source

MAY_1 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def sentiment(label: SentimentLabel) -> Sentiment:
    negative = 0.9 if label is SentimentLabel.NEGATIVE else 0.1
    return Sentiment(label=label, score=0.9, negative=negative, judged_by="test")


def support_transcript(
    day: datetime = MAY_1,
    *,
    escalated: bool = False,
    thumbs_down: bool = False,
    withheld: bool = True,
    score: float = 0.8,
    conversation_id: str | None = None,
) -> Transcript:
    """customer (email), bot (cited), customer (phone), [withheld bot], [system escalation, expert]."""
    at = [day + timedelta(minutes=minute) for minute in range(8)]
    mood = SentimentLabel.NEGATIVE if escalated else SentimentLabel.NEUTRAL
    turns = [
        Turn(role=Role.CUSTOMER, text="My endpoint fails. I am jane@example.com", created_at=at[0]),
        Turn(
            role=Role.BOT,
            text="Check the CloudWatch logs of the endpoint.",
            created_at=at[1],
            author="local-llm",
            sources=[
                Source(doc="logs.md", title="Logs", section="Endpoints", score=score, snippet="Logs...")
            ],
            feedback=Feedback(rating=Rating.THUMBS_DOWN if thumbs_down else Rating.THUMBS_UP),
        ),
        Turn(
            role=Role.CUSTOMER,
            text="Still failing, call +1 (555) 010-9999",
            created_at=at[2],
            sentiment=sentiment(mood),
        ),
    ]
    if withheld:
        turns.append(Turn(role=Role.BOT, text="Maybe restart it?", created_at=at[3], withheld=True))
    if escalated:
        decision = EscalationDecision(escalate=True, reason=EscalationReason.NEGATIVE_SENTIMENT)
        turns.append(
            Turn(role=Role.SYSTEM, text="An expert will join.", created_at=at[4], escalation=decision)
        )
        turns.append(Turn(role=Role.EXPERT, text="Raise the timeout.", created_at=at[5], author="Ana"))
    return Transcript(
        conversation_id=conversation_id or new_conversation_id(day),
        started_at=at[0],
        updated_at=at[-1],
        turns=turns,
    )


@dataclass
class Bucket:
    settings: Settings
    s3: Any
    name: str
    store: S3TranscriptStore
    transcripts: list[Transcript] = field(default_factory=list)
    bad_locations: list[str] = field(default_factory=list)

    def add(self, transcript: Transcript) -> Transcript:
        self.store.save(transcript)
        self.transcripts.append(transcript)
        return transcript

    def add_raw(self, key: str, body: bytes) -> str:
        self.s3.put_object(Bucket=self.name, Key=key, Body=body)
        location = f"s3://{self.name}/{key}"
        self.bad_locations.append(location)
        return location

    def add_bad_objects(self, day: datetime = MAY_1) -> None:
        """Truncated JSON, an unknown schema version, a 10 MB transcript and a stray file, all on ``day``."""
        good = support_transcript(day).model_dump_json().encode()
        self.add_raw(transcript_key(new_conversation_id(day)), good[: len(good) // 2])
        future = good.replace(b'"schema_version":1', b'"schema_version":2')
        self.add_raw(transcript_key(new_conversation_id(day)), future)
        huge = support_transcript(day)
        huge.turns[0].text = "x" * (10 * 1024 * 1024)
        self.add_raw(transcript_key(huge.conversation_id), huge.model_dump_json().encode())
        self.add_raw(f"transcripts/{day:%Y/%m/%d}/notes.txt", b"not a transcript")


def empty_and_delete(bucket: Bucket) -> None:
    """The session's moto server keeps every object in memory until the session ends."""
    listed = bucket.s3.list_objects_v2(Bucket=bucket.name).get("Contents", [])
    for item in listed:
        bucket.s3.delete_object(Bucket=bucket.name, Key=item["Key"])
    bucket.s3.delete_bucket(Bucket=bucket.name)


def fresh_bucket(settings: Settings) -> Bucket:
    name = f"export-{uuid.uuid4().hex[:16]}"
    s3 = client("s3", settings)
    s3.create_bucket(Bucket=name)
    return Bucket(settings, s3, name, S3TranscriptStore(s3, name, max_bytes=settings.transcript_max_bytes))
