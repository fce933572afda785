"""Transcript stores: documented layout, upsert by turn id, conditional writes that lose no writer's turns."""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from chatbot.aws import client
from chatbot.config import Settings, load_settings
from chatbot.conversation.store import (
    LocalTranscriptStore,
    S3TranscriptStore,
    StoredTranscript,
    TranscriptStore,
    make_transcript_store,
    transcript_key,
)
from chatbot.conversation.transcript import Feedback, Rating, Role, Transcript
from chatbot.errors import InvalidTranscriptError, TranscriptNotFoundError, TranscriptStoreUnavailableError
from tests.conversation.test_store_helpers import DAY, conversation_id, fresh_bucket, turn
from tests.support.concurrency import run_at_once


@pytest.fixture
def s3(settings: Settings) -> Any:
    return client("s3", settings)


@pytest.fixture
def bucket(settings: Settings) -> str:
    return fresh_bucket(settings)


@pytest.fixture(params=["s3", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TranscriptStore:
    if request.param == "local":
        return LocalTranscriptStore(tmp_path / "transcripts")
    settings: Settings = request.getfixturevalue("settings")
    return S3TranscriptStore(client("s3", settings), fresh_bucket(settings))


def test_upsert_writes_the_documented_key_with_a_schema_version(s3: Any, bucket: str) -> None:
    store = S3TranscriptStore(s3, bucket)
    cid = conversation_id()
    store.upsert_turns(cid, [turn(Role.CUSTOMER, "hello", 0)])

    key = f"transcripts/2024/05/01/{cid}.json"
    assert transcript_key(cid) == key
    body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert body["schema_version"] == 1
    assert body["conversation_id"] == cid
    assert [t["text"] for t in body["turns"]] == ["hello"]


def test_upsert_adds_new_turns_in_time_order_and_replaces_a_known_turn_id(store: TranscriptStore) -> None:
    cid = conversation_id()
    question, answer = turn(Role.CUSTOMER, "q", 1), turn(Role.BOT, "a", 2)
    store.upsert_turns(cid, [answer])
    store.upsert_turns(cid, [question])  # arrives late (replayed from a spool): goes before the answer
    rated = answer.model_copy(update={"feedback": Feedback(rating=Rating.THUMBS_DOWN)})
    store.upsert_turns(cid, [rated])

    transcript = store.load(cid)
    assert [t.turn_id for t in transcript.turns] == [question.turn_id, answer.turn_id]
    assert transcript.turns[1].feedback is not None
    assert transcript.turns[1].feedback.rating is Rating.THUMBS_DOWN
    assert transcript.started_at <= question.created_at
    assert transcript.updated_at >= answer.created_at


def test_an_upsert_of_turns_already_there_writes_nothing(s3: Any, bucket: str) -> None:
    store = S3TranscriptStore(s3, bucket)
    cid = conversation_id()
    turns = [turn(Role.CUSTOMER, "q", 1), turn(Role.BOT, "a", 2)]
    store.upsert_turns(cid, turns)
    etag = s3.head_object(Bucket=bucket, Key=transcript_key(cid))["ETag"]
    versions_before = s3.list_objects_v2(Bucket=bucket)["KeyCount"]

    store.upsert_turns(cid, turns)

    assert s3.head_object(Bucket=bucket, Key=transcript_key(cid))["ETag"] == etag
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == versions_before


class _WriterCutsIn:
    """An S3 client whose first put comes after another writer's write: the race that If-Match catches."""

    def __init__(self, real: Any, cut_in: Any) -> None:
        self._real = real
        self._cut_in = cut_in
        self.conditions: list[dict[str, str]] = []

    def put_object(self, **kwargs: Any) -> Any:
        self.conditions.append({k: v for k, v in kwargs.items() if k in {"IfMatch", "IfNoneMatch"}})
        if self._cut_in is not None:
            cut_in, self._cut_in = self._cut_in, None
            cut_in()
        return self._real.put_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.mark.parametrize("existing", [False, True], ids=["creating", "updating"])
def test_another_writer_between_read_and_write_is_not_lost(s3: Any, bucket: str, existing: bool) -> None:
    cid = conversation_id()
    console = S3TranscriptStore(s3, bucket)
    if existing:
        console.upsert_turns(cid, [turn(Role.CUSTOMER, "first", 0)])
    expert_turn = turn(Role.EXPERT, "expert here", 2, author="Ana")
    racing = _WriterCutsIn(s3, lambda: console.upsert_turns(cid, [expert_turn]))
    app = S3TranscriptStore(racing, bucket)

    bot_turn = turn(Role.BOT, "bot answer", 1)
    written = app.upsert_turns(cid, [bot_turn])

    assert len(racing.conditions) == 2  # the first put was refused (412), the retry merged the expert's turn
    assert racing.conditions[0] == (
        {"IfMatch": racing.conditions[0]["IfMatch"]} if existing else {"IfNoneMatch": "*"}
    )
    stored = console.load(cid)
    assert stored == written
    expected = ["first", "bot answer", "expert here"] if existing else ["bot answer", "expert here"]
    assert [t.text for t in stored.turns] == expected


def test_two_writers_racing_keep_every_turn(store: TranscriptStore) -> None:
    cid = conversation_id()
    app_turns = [turn(Role.CUSTOMER, f"customer {n}", 2 * n) for n in range(12)]
    console_turns = [turn(Role.EXPERT, f"expert {n}", 2 * n + 1) for n in range(12)]

    def write(turns: list[Any]) -> None:
        for one in turns:
            store.upsert_turns(cid, [one])

    failures = run_at_once([functools.partial(write, turns) for turns in (app_turns, console_turns)])

    assert failures == []
    texts = [t.text for t in store.load(cid).turns]
    assert texts == [t.text for t in sorted(app_turns + console_turns, key=lambda t: t.created_at)]


def test_listing_and_reading_by_day(store: TranscriptStore) -> None:
    may_first, may_third = conversation_id(), conversation_id(DAY.replace(day=3))
    store.upsert_turns(may_first, [turn(Role.CUSTOMER, "one", 0)])
    store.upsert_turns(may_third, [turn(Role.CUSTOMER, "three", 0)])

    assert list(store.conversation_ids(date(2024, 5, 1), date(2024, 5, 2))) == [may_first]
    listed = list(store.list_transcripts(date(2024, 4, 30), date(2024, 5, 3)))
    assert [item.conversation_id for item in listed] == [may_first, may_third]
    assert all(item.size > 0 for item in listed)
    assert store.read(listed[1]).turns[0].text == "three"


def test_load_of_an_unknown_conversation_raises_not_found(store: TranscriptStore) -> None:
    with pytest.raises(TranscriptNotFoundError):
        store.load(conversation_id())


def _put_raw(
    store: TranscriptStore, s3: Any | None, bucket: str | None, key: str, body: bytes
) -> StoredTranscript:
    if isinstance(store, S3TranscriptStore):
        assert s3 is not None
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        return StoredTranscript(
            key.rsplit("/", 1)[-1].removesuffix(".json"), f"s3://{bucket}/{key}", len(body)
        )
    path = Path(store._root) / key.removeprefix("transcripts/")  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return StoredTranscript(path.stem, str(path), len(body))


@pytest.mark.parametrize("backend", ["s3", "local"])
def test_read_rejects_bad_objects_naming_them(backend: str, tmp_path: Path, settings: Settings) -> None:
    s3 = client("s3", settings)
    bucket = fresh_bucket(settings)
    store: TranscriptStore = (
        S3TranscriptStore(s3, bucket, max_bytes=4096)
        if backend == "s3"
        else LocalTranscriptStore(tmp_path / "t", max_bytes=4096)
    )
    good = Transcript(conversation_id=conversation_id(), turns=[turn(Role.CUSTOMER, "hi", 0)])
    body = good.model_dump_json().encode()
    other = conversation_id()
    huge = (
        good.model_copy(update={"turns": [turn(Role.CUSTOMER, "a" * 10_000, 0)]}).model_dump_json().encode()
    )
    cases = {
        "truncated": (good.conversation_id, body[: len(body) // 2], "not valid JSON"),
        "future": (
            good.conversation_id,
            body.replace(b'"schema_version":1', b'"schema_version":2'),
            "schema_version 2",
        ),
        "huge": (good.conversation_id, huge, "over the 4096-byte limit"),
        "someone else's": (other, body, "holds conversation"),
        "invalid turn": (
            good.conversation_id,
            body.replace(b'"role":"customer"', b'"role":"robot"'),
            "turns.0.role",
        ),
    }
    for label, (cid, raw, message) in cases.items():
        stored = _put_raw(store, s3, bucket, f"transcripts/2024/05/01/{cid}.json", raw)
        with pytest.raises(InvalidTranscriptError, match=message) as caught:
            store.read(stored)
        assert stored.location in str(caught.value), label
    stray = _put_raw(store, s3, bucket, "transcripts/2024/05/01/notes.txt", b"hello")
    with pytest.raises(InvalidTranscriptError, match="not a transcript name"):
        store.read(stray)


def test_an_unreachable_bucket_is_reported_as_unavailable(settings: Settings) -> None:
    store = S3TranscriptStore(client("s3", settings), "no-such-bucket-for-transcripts")
    with pytest.raises(TranscriptStoreUnavailableError, match="no-such-bucket"):
        store.upsert_turns(conversation_id(), [turn(Role.CUSTOMER, "hi", 0)])


def test_make_transcript_store_follows_the_setting(tmp_path: Path) -> None:
    local = load_settings(data_dir=tmp_path / "data", transcript_store="local")
    store = make_transcript_store(local)
    assert isinstance(store, LocalTranscriptStore)
    cid = conversation_id()
    store.upsert_turns(cid, [turn(Role.CUSTOMER, "kept locally", 0)])
    assert (tmp_path / "data" / "transcripts" / "2024" / "05" / "01" / f"{cid}.json").is_file()
    assert isinstance(make_transcript_store(load_settings(data_dir=tmp_path / "data")), S3TranscriptStore)
