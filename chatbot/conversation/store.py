"""Where transcripts live: S3 (moto locally, real S3 in AWS) or a local directory.

Layout: one JSON object per conversation, ``<prefix>YYYY/MM/DD/<conversation_id>.json`` (default prefix
``transcripts/``), the day being the conversation's start day as its id carries it. The body is a
:class:`~chatbot.conversation.transcript.Transcript` with ``schema_version`` (1).

Write protocol (:meth:`TranscriptStore.upsert_turns`): several processes write turns of one conversation (the
customer's app its customer, bot and system turns; the expert console its expert turns), so a write is a
read-merge-conditional-put loop:

1. GET the object and its ETag (absent: start an empty transcript);
2. merge the new turns by ``turn_id``: a known id is replaced in place (a later feedback update of the same
   turn), a new one is added; turns are kept ordered by ``created_at`` (stable, so ties keep arrival order),
   which puts a turn replayed late from a spool back where it happened;
3. if nothing changed, stop (a replay of turns already there writes nothing);
4. PUT with ``If-Match: <etag>`` (or ``If-None-Match: *`` when creating); when another writer got there
   first S3 answers 412 PreconditionFailed (or 409 ConditionalRequestConflict, or 404 if it was deleted):
   go back to 1, up to :data:`MAX_WRITE_ATTEMPTS` times with jittered backoff.

moto 5.2 honours both headers on ``put_object`` (``moto/s3/responses.py``: 412 for a stale ETag or an existing
key under ``If-None-Match: *``, 404 NoSuchKey for ``If-Match`` on a missing key), so the tests exercise the
real protocol. (moto checks and stores without a lock, so only real S3 makes the check-and-put atomic.)

The local store does the same under an exclusive lock (:func:`chatbot.file_lock.exclusive_lock`) and
replaces files atomically.

Reading for export (:meth:`TranscriptStore.read`) validates strictly: objects over ``max_bytes`` (setting
``transcript_max_bytes``, default 5 MiB) are refused without being downloaded, as are bodies that are not JSON
(truncated), have an unknown ``schema_version``, fail validation, or belong to another conversation. Each
raises :class:`~chatbot.errors.InvalidTranscriptError` naming the object.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from chatbot.aws import client, error_code
from chatbot.config import Settings
from chatbot.conversation.ids import conversation_day, is_conversation_id
from chatbot.conversation.transcript import TRANSCRIPT_SCHEMA_VERSION, Transcript, Turn
from chatbot.errors import (
    InvalidTranscriptError,
    TranscriptNotFoundError,
    TranscriptStoreUnavailableError,
    TranscriptWriteError,
)
from chatbot.file_lock import exclusive_lock

log = structlog.get_logger(__name__)

MAX_WRITE_ATTEMPTS = 8
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409", "404"}
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}


def transcript_key(conversation_id: str, prefix: str = "transcripts/") -> str:
    day = conversation_day(conversation_id)
    return f"{prefix}{day:%Y/%m/%d}/{conversation_id}.json"


def _days(since: date, until: date) -> Iterator[date]:
    day = since
    while day <= until:
        yield day
        day += timedelta(days=1)


@dataclass(frozen=True)
class StoredTranscript:
    """A transcript object as listed: the id its name gives, where it is (for messages) and its size."""

    conversation_id: str
    location: str
    size: int


def merge_turns(transcript: Transcript, turns: Sequence[Turn]) -> Transcript:
    """A copy of ``transcript`` with ``turns`` upserted by ``turn_id`` and ordered by ``created_at``."""
    merged = transcript.model_copy(deep=True)
    positions = {turn.turn_id: index for index, turn in enumerate(merged.turns)}
    for turn in turns:
        if turn.turn_id in positions:
            merged.turns[positions[turn.turn_id]] = turn
        else:
            positions[turn.turn_id] = len(merged.turns)
            merged.turns.append(turn)
    merged.turns.sort(key=lambda turn: turn.created_at)
    if merged.turns:
        merged.started_at = min(merged.started_at, merged.turns[0].created_at)
        merged.updated_at = max(merged.updated_at, *(turn.created_at for turn in merged.turns))
    return merged


def parse_transcript(body: bytes, location: str, conversation_id: str | None = None) -> Transcript:
    """Validate a stored body; every problem raises :class:`InvalidTranscriptError` naming ``location``."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        detail = (
            f"{error.msg}, character {error.pos}" if isinstance(error, json.JSONDecodeError) else str(error)
        )
        raise InvalidTranscriptError(f"{location}: not valid JSON, truncated? ({detail})") from error
    if not isinstance(data, dict):
        raise InvalidTranscriptError(f"{location}: not a JSON object but {type(data).__name__}")
    version = data.get("schema_version")
    if version != TRANSCRIPT_SCHEMA_VERSION:
        raise InvalidTranscriptError(
            f"{location}: unknown schema_version {version!r} (this version reads {TRANSCRIPT_SCHEMA_VERSION})"
        )
    try:
        transcript = Transcript.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'transcript'}: {issue['msg']}"
            for issue in error.errors()[:5]
        )
        raise InvalidTranscriptError(f"{location}: not a valid transcript ({problems})") from error
    if conversation_id is not None and transcript.conversation_id != conversation_id:
        raise InvalidTranscriptError(
            f"{location}: holds conversation {transcript.conversation_id!r}, not {conversation_id!r}"
        )
    return transcript


def _is_transcript_name(stored: StoredTranscript) -> bool:
    """Named ``<conversation_id>.json`` as transcripts are (other objects may share the days' folders)."""
    return stored.location.endswith(".json") and is_conversation_id(stored.conversation_id)


def _check_name(stored: StoredTranscript) -> None:
    if not _is_transcript_name(stored):
        raise InvalidTranscriptError(f"{stored.location}: not a transcript name (<conversation_id>.json)")


def _too_large(location: str, size: int, max_bytes: int) -> InvalidTranscriptError:
    return InvalidTranscriptError(
        f"{location}: {size} bytes, over the {max_bytes}-byte limit (transcript_max_bytes)"
    )


class TranscriptStore(Protocol):
    def save(self, transcript: Transcript) -> None:
        """Overwrite the whole transcript (tools and tests; live writers use :meth:`upsert_turns`)."""
        ...

    def load(self, conversation_id: str) -> Transcript: ...

    def upsert_turns(self, conversation_id: str, turns: Sequence[Turn]) -> Transcript:
        """Merge ``turns`` into the stored transcript without losing other writers' turns; returns it."""
        ...

    def conversation_ids(self, since: date, until: date) -> Iterator[str]:
        """The ids of the days' transcripts: the listed objects with a transcript name."""
        for stored in self.list_transcripts(since, until):
            if _is_transcript_name(stored):
                yield stored.conversation_id

    def list_transcripts(self, since: date, until: date) -> Iterator[StoredTranscript]:
        """Every object under the days' folders, in key order, whether or not it is a valid transcript."""
        ...

    def read(self, stored: StoredTranscript) -> Transcript:
        """The validated transcript; :class:`InvalidTranscriptError` naming the object otherwise."""
        ...


class S3TranscriptStore(TranscriptStore):
    def __init__(
        self, s3_client: Any, bucket: str, prefix: str = "transcripts/", max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._prefix = prefix
        self._max_bytes = max_bytes

    def _uri(self, key: str) -> str:
        return f"s3://{self._bucket}/{key}"

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
            raise TranscriptStoreUnavailableError(f"could not write {self._uri(key)}: {error}") from error
        log.debug("transcript.saved", store="s3", key=key, turns=len(transcript.turns))

    def _get(self, key: str) -> tuple[bytes, str] | None:
        """Body and ETag, or None when there is no such object."""
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key)
            return response["Body"].read(), str(response["ETag"])
        except ClientError as error:
            if error_code(error) in _NOT_FOUND_CODES:
                return None
            raise TranscriptStoreUnavailableError(f"could not read {self._uri(key)}: {error}") from error
        except BotoCoreError as error:
            raise TranscriptStoreUnavailableError(f"could not read {self._uri(key)}: {error}") from error

    def load(self, conversation_id: str) -> Transcript:
        key = transcript_key(conversation_id, self._prefix)
        found = self._get(key)
        if found is None:
            raise TranscriptNotFoundError(conversation_id)
        return parse_transcript(found[0], self._uri(key), conversation_id)

    def upsert_turns(self, conversation_id: str, turns: Sequence[Turn]) -> Transcript:
        key = transcript_key(conversation_id, self._prefix)
        for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
            found = self._get(key)
            if found is None:
                current, condition = Transcript(conversation_id=conversation_id), {"IfNoneMatch": "*"}
            else:
                current = parse_transcript(found[0], self._uri(key), conversation_id)
                condition = {"IfMatch": found[1]}
            merged = merge_turns(current, turns)
            if found is not None and merged.turns == current.turns:
                return current
            body = merged.model_dump_json().encode("utf-8")
            try:
                self._s3.put_object(
                    Bucket=self._bucket, Key=key, Body=body, ContentType="application/json", **condition
                )
            except ClientError as error:
                if error_code(error) not in _CONFLICT_CODES:
                    raise TranscriptStoreUnavailableError(
                        f"could not write {self._uri(key)}: {error}"
                    ) from error
                log.info("transcript.write_conflict", key=key, attempt=attempt, code=error_code(error))
                time.sleep(random.uniform(0, min(1.0, 0.02 * 2**attempt)))  # noqa: S311 - jitter, not crypto
                continue
            except BotoCoreError as error:
                raise TranscriptStoreUnavailableError(f"could not write {self._uri(key)}: {error}") from error
            if len(body) > self._max_bytes:
                log.warning("transcript.over_export_limit", key=key, size=len(body), limit=self._max_bytes)
            log.debug("transcript.upserted", store="s3", key=key, turns=len(merged.turns), attempt=attempt)
            return merged
        raise TranscriptWriteError(
            f"could not write {self._uri(key)}: still conflicting after {MAX_WRITE_ATTEMPTS} attempts"
        )

    def list_transcripts(self, since: date, until: date) -> Iterator[StoredTranscript]:
        paginator = self._s3.get_paginator("list_objects_v2")
        try:
            for day in _days(since, until):
                for page in paginator.paginate(Bucket=self._bucket, Prefix=f"{self._prefix}{day:%Y/%m/%d}/"):
                    for item in page.get("Contents", []):
                        key = str(item["Key"])
                        name = key.rsplit("/", 1)[-1]
                        stem = name.removesuffix(".json")
                        yield StoredTranscript(
                            conversation_id=stem, location=self._uri(key), size=int(item["Size"])
                        )
        except (BotoCoreError, ClientError) as error:
            raise TranscriptStoreUnavailableError(
                f"could not list s3://{self._bucket}/{self._prefix}: {error}"
            ) from error

    def read(self, stored: StoredTranscript) -> Transcript:
        if stored.size > self._max_bytes:
            raise _too_large(stored.location, stored.size, self._max_bytes)
        _check_name(stored)
        key = stored.location.removeprefix(f"s3://{self._bucket}/")
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error_code(error) in _NOT_FOUND_CODES:
                raise InvalidTranscriptError(f"{stored.location}: gone since it was listed") from error
            raise TranscriptStoreUnavailableError(f"could not read {stored.location}: {error}") from error
        except BotoCoreError as error:
            raise TranscriptStoreUnavailableError(f"could not read {stored.location}: {error}") from error
        with contextlib.closing(response["Body"]) as body:
            size = int(response.get("ContentLength", 0))
            if size > self._max_bytes:  # grew since it was listed: do not download it
                raise _too_large(stored.location, size, self._max_bytes)
            return parse_transcript(body.read(), stored.location, stored.conversation_id)


class LocalTranscriptStore(TranscriptStore):
    """Files ``<root>/YYYY/MM/DD/<conversation_id>.json``; writers serialise on ``<root>/.lock``."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._root = root
        self._max_bytes = max_bytes

    def _path(self, conversation_id: str) -> Path:
        return self._root / transcript_key(conversation_id, prefix="")

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return exclusive_lock(self._root / ".lock")  # other processes write the same files

    def _write(self, transcript: Transcript) -> None:
        path = self._path(transcript.conversation_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        with partial.open("wb") as handle:
            handle.write(transcript.model_dump_json().encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)  # readers never see half a transcript

    def save(self, transcript: Transcript) -> None:
        try:
            with self._locked():
                self._write(transcript)
        except OSError as error:
            path = self._path(transcript.conversation_id)
            raise TranscriptWriteError(f"could not write {path}: {error}") from error

    def load(self, conversation_id: str) -> Transcript:
        path = self._path(conversation_id)
        try:
            body = path.read_bytes()
        except FileNotFoundError as error:
            raise TranscriptNotFoundError(conversation_id) from error
        return parse_transcript(body, str(path), conversation_id)

    def upsert_turns(self, conversation_id: str, turns: Sequence[Turn]) -> Transcript:
        path = self._path(conversation_id)
        try:
            with self._locked():
                try:
                    current = parse_transcript(path.read_bytes(), str(path), conversation_id)
                except FileNotFoundError:
                    current = Transcript(conversation_id=conversation_id)
                merged = merge_turns(current, turns)
                if merged.turns != current.turns or not path.exists():
                    self._write(merged)
        except OSError as error:
            raise TranscriptWriteError(f"could not write {path}: {error}") from error
        return merged

    def list_transcripts(self, since: date, until: date) -> Iterator[StoredTranscript]:
        for day in _days(since, until):
            folder = self._root / f"{day:%Y/%m/%d}"
            if folder.is_dir():
                for path in sorted(folder.iterdir()):
                    if path.is_file() and not path.name.endswith(".partial"):
                        yield StoredTranscript(
                            path.name.removesuffix(".json"), str(path), path.stat().st_size
                        )

    def read(self, stored: StoredTranscript) -> Transcript:
        _check_name(stored)
        path = Path(stored.location)
        try:
            size = path.stat().st_size
            if size > self._max_bytes:
                raise _too_large(stored.location, size, self._max_bytes)
            body = path.read_bytes()
        except OSError as error:
            raise InvalidTranscriptError(f"{stored.location}: cannot be read ({error})") from error
        return parse_transcript(body, stored.location, stored.conversation_id)


def make_transcript_store(settings: Settings, s3_config: Any | None = None) -> TranscriptStore:
    """The configured store; ``s3_config`` (a botocore ``Config``) overrides the S3 client's retries."""
    if settings.transcript_store == "local":
        return LocalTranscriptStore(settings.data_dir / "transcripts", settings.transcript_max_bytes)
    options = {} if s3_config is None else {"config": s3_config}
    return S3TranscriptStore(
        client("s3", settings, **options),
        settings.transcript_bucket,
        settings.transcript_prefix,
        settings.transcript_max_bytes,
    )
