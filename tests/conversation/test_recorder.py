"""The transcript recorder: every turn lands in S3 exactly once and in order, through outages and crashes."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chatbot.aws import client
from chatbot.config import Settings, load_settings
from chatbot.conversation.recorder import RecordOutcome, TranscriptRecorder
from chatbot.conversation.spool import TurnSpool
from chatbot.conversation.store import S3TranscriptStore, transcript_key
from chatbot.conversation.transcript import Feedback, Rating, Role, Turn
from chatbot.errors import InvalidMessageError
from infra.local.moto_server import MotoServer, start_moto_server
from infra.local.ports import free_port
from tests.conversation.test_store_helpers import conversation_id, fresh_bucket, turn


def _settings(tmp_path: Path, endpoint: str, bucket: str, **overrides: Any) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data", aws_endpoint_url=endpoint, transcript_bucket=bucket, **overrides
    )


def _create_bucket(settings: Settings) -> None:
    try:
        client("s3", settings).create_bucket(Bucket=settings.transcript_bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


def _stored_turns(settings: Settings, cid: str) -> list[Turn]:
    return S3TranscriptStore(client("s3", settings), settings.transcript_bucket).load(cid).turns


def test_turns_recorded_while_s3_is_down_are_written_once_and_in_order_when_it_returns(
    tmp_path: Path, own_moto: list[MotoServer]
) -> None:
    server = own_moto[0]
    settings = _settings(tmp_path, server.endpoint_url, "outage-transcripts")
    _create_bucket(settings)
    recorder = TranscriptRecorder.from_settings(settings)
    cid = conversation_id()
    question, answer = turn(Role.CUSTOMER, "How do I stop an endpoint?", 0), turn(Role.BOT, "Delete it.", 1)
    assert [recorder.record(cid, one) for one in (question, answer)] == [RecordOutcome.STORED] * 2

    server.stop()
    during = [
        turn(Role.CUSTOMER, "That did not help, I want a human", 2),
        turn(Role.SYSTEM, "An expert will join shortly.", 3),
        turn(Role.BOT, "(withheld draft)", 4, withheld=True),
        answer.model_copy(
            update={"feedback": Feedback(rating=Rating.THUMBS_DOWN)}
        ),  # feedback on a stored turn
    ]
    started = time.monotonic()
    outcomes = [recorder.record(cid, one) for one in during]  # no exception reaches the caller
    assert outcomes == [RecordOutcome.SPOOLED] * len(during)
    assert time.monotonic() - started < 10  # fails fast: the spool is the retry
    assert recorder.pending() == len(during)

    restarted = start_moto_server(port=server.port)
    own_moto.append(restarted)
    _create_bucket(settings)  # moto may come back empty; in-process servers share state, so it may not
    after = turn(Role.EXPERT, "Hi, I am Ana from support.", 5, author="Ana")
    assert recorder.record(cid, after) is RecordOutcome.STORED
    assert recorder.pending() == 0

    stored = _stored_turns(settings, cid)
    expected = [question, answer, *during[:3], after]
    assert [one.turn_id for one in stored] == [one.turn_id for one in expected]  # each once, in order
    assert [one.text for one in stored] == [one.text for one in expected]
    assert stored[1].feedback is not None and stored[1].feedback.rating is Rating.THUMBS_DOWN
    assert stored[4].withheld


def test_a_recorder_started_after_a_crash_replays_what_the_dead_one_spooled(
    tmp_path: Path, settings: Settings
) -> None:
    bucket = fresh_bucket(settings)
    unreachable = _settings(tmp_path, f"http://127.0.0.1:{free_port()}", bucket)
    crashed = TranscriptRecorder.from_settings(unreachable)
    cid = conversation_id()
    turns = [turn(Role.CUSTOMER, "first", 0), turn(Role.BOT, "second", 1)]
    assert [crashed.record(cid, one) for one in turns] == [RecordOutcome.SPOOLED] * 2
    del crashed  # the process dies here; only the spool folder remains

    reachable = _settings(tmp_path, settings.aws_endpoint_url or "", bucket)
    revived = TranscriptRecorder.from_settings(reachable)
    report = revived.replay()

    assert (report.written, report.pending, report.store_unavailable) == (2, 0, False)
    assert [one.turn_id for one in _stored_turns(reachable, cid)] == [one.turn_id for one in turns]


def test_a_replay_of_turns_already_stored_duplicates_nothing(tmp_path: Path, settings: Settings) -> None:
    reachable = _settings(tmp_path, settings.aws_endpoint_url or "", fresh_bucket(settings))
    recorder = TranscriptRecorder.from_settings(reachable)
    cid = conversation_id()
    turns = [turn(Role.CUSTOMER, "q", 0), turn(Role.BOT, "a", 1)]
    for one in turns:
        recorder.record(cid, one)
    # a crash after the S3 write but before the spool entries were removed leaves them behind
    spool = TurnSpool(reachable.transcript_spool_dir)
    for one in turns:
        spool.append(cid, one)

    assert recorder.replay().written == 2

    assert [one.turn_id for one in _stored_turns(reachable, cid)] == [one.turn_id for one in turns]
    assert recorder.pending() == 0


def test_the_app_and_the_console_write_one_transcript_together(tmp_path: Path, settings: Settings) -> None:
    bucket = fresh_bucket(settings)
    app = TranscriptRecorder.from_settings(
        _settings(tmp_path / "app", settings.aws_endpoint_url or "", bucket)
    )
    console = TranscriptRecorder.from_settings(
        _settings(tmp_path / "console", settings.aws_endpoint_url or "", bucket)
    )
    cid = conversation_id()
    script = [
        (app, turn(Role.CUSTOMER, "my endpoint fails", 0)),
        (app, turn(Role.SYSTEM, "escalated", 1)),
        (console, turn(Role.EXPERT, "looking into it", 2, author="Ana")),
        (app, turn(Role.CUSTOMER, "thanks", 3)),
        (console, turn(Role.EXPERT, "fixed: raise the timeout", 4, author="Ana")),
    ]
    for recorder, one in script:
        assert recorder.record(cid, one) is RecordOutcome.STORED

    stored = _stored_turns(_settings(tmp_path, settings.aws_endpoint_url or "", bucket), cid)
    assert [one.text for one in stored] == [one.text for _, one in script]
    assert app.transcript(cid).turns == console.transcript(cid).turns == stored


def test_a_corrupt_transcript_blocks_only_its_own_conversation(tmp_path: Path, settings: Settings) -> None:
    reachable = _settings(tmp_path, settings.aws_endpoint_url or "", fresh_bucket(settings))
    s3 = client("s3", reachable)
    broken, healthy = conversation_id(), conversation_id()
    s3.put_object(
        Bucket=reachable.transcript_bucket, Key=transcript_key(broken), Body=b'{"schema_version": 1, "tur'
    )
    recorder = TranscriptRecorder.from_settings(reachable)

    assert recorder.record(broken, turn(Role.CUSTOMER, "kept in the spool", 0)) is RecordOutcome.SPOOLED
    assert recorder.record(healthy, turn(Role.CUSTOMER, "written", 0)) is RecordOutcome.STORED

    assert recorder.pending() == 1
    assert [one.text for one in _stored_turns(reachable, healthy)] == ["written"]
    assert (
        s3.get_object(Bucket=reachable.transcript_bucket, Key=transcript_key(broken))["Body"]
        .read()
        .endswith(b"tur")
    )


def test_a_background_replay_writes_spooled_turns_without_another_record(
    tmp_path: Path, settings: Settings
) -> None:
    bucket = f"later-{os.urandom(6).hex()}"
    later = _settings(tmp_path, settings.aws_endpoint_url or "", bucket)
    recorder = TranscriptRecorder.from_settings(later)
    cid = conversation_id()
    assert recorder.record(cid, turn(Role.CUSTOMER, "before the bucket exists", 0)) is RecordOutcome.SPOOLED

    replayer = recorder.start_background_replay(interval_s=0.05)
    try:
        _create_bucket(later)
        deadline = time.monotonic() + 10
        while recorder.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        replayer.stop()

    assert recorder.pending() == 0
    assert [one.text for one in _stored_turns(later, cid)] == ["before the bucket exists"]


def test_redact_at_write_keeps_pii_off_disk_and_out_of_s3(tmp_path: Path, settings: Settings) -> None:
    bucket = f"redacted-{os.urandom(6).hex()}"
    redacting = _settings(tmp_path, settings.aws_endpoint_url or "", bucket, redact_at_write=True)
    recorder = TranscriptRecorder.from_settings(redacting)
    cid = conversation_id()
    text = "I am jane.doe+aws@mail.example.com, card 4111 1111 1111 1111"

    assert recorder.record(cid, turn(Role.CUSTOMER, text, 0)) is RecordOutcome.SPOOLED  # no bucket yet
    spooled = b"".join(path.read_bytes() for path in redacting.transcript_spool_dir.glob("*.json"))
    assert b"jane.doe" not in spooled and b"4111 1111" not in spooled  # whole strings: ids hold digits too

    _create_bucket(redacting)
    recorder.replay()
    assert [one.text for one in _stored_turns(redacting, cid)] == ["I am [EMAIL], card [CARD]"]


def test_the_local_store_records_too(tmp_path: Path) -> None:
    local = load_settings(data_dir=tmp_path / "data", transcript_store="local")
    recorder = TranscriptRecorder.from_settings(local)
    cid = conversation_id()
    first = turn(Role.CUSTOMER, "local question", 0)

    assert recorder.record(cid, first) is RecordOutcome.STORED
    assert recorder.record(cid, first.model_copy(update={"text": "edited"})) is RecordOutcome.STORED

    path = tmp_path / "data" / "transcripts" / transcript_key(cid, prefix="")
    assert path.is_file()
    assert [one.text for one in recorder.store.load(cid).turns] == ["edited"]


def test_transcript_includes_turns_still_waiting_in_the_spool(tmp_path: Path) -> None:
    local = load_settings(data_dir=tmp_path / "data", transcript_store="local")
    recorder = TranscriptRecorder.from_settings(local)
    cid = conversation_id()
    recorder.record(cid, turn(Role.CUSTOMER, "stored", 0))
    TurnSpool(local.transcript_spool_dir).append(cid, turn(Role.BOT, "waiting", 1))

    assert [one.text for one in recorder.transcript(cid).turns] == ["stored", "waiting"]


def test_a_bad_conversation_id_is_refused_and_nothing_is_spooled(tmp_path: Path) -> None:
    recorder = TranscriptRecorder.from_settings(
        load_settings(data_dir=tmp_path / "data", transcript_store="local")
    )

    with pytest.raises(InvalidMessageError, match="not a conversation id"):
        recorder.record("../../etc/passwd", turn(Role.CUSTOMER, "x", 0))

    assert recorder.pending() == 0
