"""Where transcripts live: S3 (moto locally, real S3 in AWS) or a local directory.

Layout: ``<prefix>YYYY/MM/DD/<conversation_id>.json``, the day being the conversation's start day.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from chatbot.config import Settings
from chatbot.conversation.ids import conversation_day
from chatbot.conversation.transcript import Transcript
from chatbot.errors import TranscriptNotFoundError, TranscriptWriteError

log = structlog.get_logger(__name__)


def transcript_key(conversation_id: str, prefix: str = "transcripts/") -> str:
    day = conversation_day(conversation_id)
    return f"{prefix}{day:%Y/%m/%d}/{conversation_id}.json"


def _days(since: date, until: date) -> Iterator[date]:
    day = since
    while day <= until:
        yield day
        day += timedelta(days=1)


class TranscriptStore(Protocol):
    def save(self, transcript: Transcript) -> None: ...

    def load(self, conversation_id: str) -> Transcript: ...

    def conversation_ids(self, since: date, until: date) -> Iterator[str]: ...


class S3TranscriptStore:
    def __init__(self, s3_client: Any, bucket: str, prefix: str = "transcripts/") -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._prefix = prefix

    def save(self, transcript: Transcript) -> None:
        key = transcript_key(transcript.conversation_id, self._prefix)
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=transcript.model_dump_json().encode("utf-8"),
                ContentType="application/json",
            )
        except (BotoCoreError, ClientError) as error:
            raise TranscriptWriteError(f"could not write s3://{self._bucket}/{key}: {error}") from error
        log.debug("transcript.saved", store="s3", key=key, turns=len(transcript.turns))

    def load(self, conversation_id: str) -> Transcript:
        key = transcript_key(conversation_id, self._prefix)
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise TranscriptNotFoundError(conversation_id) from error
            raise
        return Transcript.model_validate_json(body)

    def conversation_ids(self, since: date, until: date) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for day in _days(since, until):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=f"{self._prefix}{day:%Y/%m/%d}/"):
                for item in page.get("Contents", []):
                    yield Path(item["Key"]).stem


class LocalTranscriptStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, conversation_id: str) -> Path:
        return self._root / transcript_key(conversation_id, prefix="")

    def save(self, transcript: Transcript) -> None:
        path = self._path(transcript.conversation_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".json.partial")
            partial.write_text(transcript.model_dump_json(), encoding="utf-8")
            os.replace(partial, path)  # readers never see half a transcript
        except OSError as error:
            raise TranscriptWriteError(f"could not write {path}: {error}") from error

    def load(self, conversation_id: str) -> Transcript:
        path = self._path(conversation_id)
        try:
            return Transcript.model_validate_json(path.read_bytes())
        except FileNotFoundError as error:
            raise TranscriptNotFoundError(conversation_id) from error
        except ValidationError:
            log.error("transcript.unreadable", path=str(path))
            raise

    def conversation_ids(self, since: date, until: date) -> Iterator[str]:
        for day in _days(since, until):
            folder = self._root / f"{day:%Y/%m/%d}"
            if folder.is_dir():
                yield from sorted(path.stem for path in folder.glob("*.json"))


def make_transcript_store(settings: Settings) -> TranscriptStore:
    if settings.transcript_store == "local":
        return LocalTranscriptStore(settings.data_dir / "transcripts")
    from chatbot.aws import client

    return S3TranscriptStore(client("s3", settings), settings.transcript_bucket, settings.transcript_prefix)
