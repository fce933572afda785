"""The in-process Lambda invoker: durable outbox, worker thread, retries across a moto outage, restarts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from chatbot.conversation.escalation import EscalationRequest, MessageExcerpt
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.lambda_escalator import LambdaEscalator
from chatbot.conversation.state import ConversationStatus, WorkflowStage
from chatbot.conversation.state_sqlite import SqliteStateStore
from chatbot.conversation.transcript import Role
from chatbot.errors import ConfigError, EscalationError
from chatbot.models import EscalationReason, Sentiment, SentimentLabel
from infra.local.lambda_invoker import InProcessLambdaInvoker
from infra.local.moto_server import MotoServer, start_moto_server
from infra.local.ports import free_port
from tests.local import handlers
from tests.local.sqs_helpers import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
PUT_EVENT_IN_S3 = "tests.local.handlers.put_event_in_s3"


def stored_events(server: MotoServer, conversation_id: str) -> dict[str, dict[str, object]]:
    # moto keeps its backends per process: every moto server here sees the same buckets
    s3 = boto3.client("s3", endpoint_url=server.endpoint_url, region_name="us-east-1")
    listing = s3.list_objects_v2(Bucket=handlers.EVENTS_BUCKET, Prefix=f"{conversation_id}/").get(
        "Contents", []
    )
    return {
        item["Key"]: json.loads(s3.get_object(Bucket=handlers.EVENTS_BUCKET, Key=item["Key"])["Body"].read())
        for item in listing
    }


def escalation_request(conversation_id: str) -> EscalationRequest:
    return EscalationRequest(
        conversation_id=conversation_id,
        reason=EscalationReason.NEGATIVE_SENTIMENT,
        detail="P(negative)=0.93",
        sentiment=Sentiment(label=SentimentLabel.NEGATIVE, score=0.93, negative=0.93, judged_by="test"),
        summary="Training job keeps failing; customer is upset.",
        last_messages=[
            MessageExcerpt(
                role=Role.CUSTOMER, text="It fails <script>alert(1)</script>", at=datetime.now(UTC)
            )
        ],
    )


@pytest.fixture
def own_moto_port(monkeypatch: pytest.MonkeyPatch) -> int:
    """A port for this test's own moto server; the session server's MOTO_PORT comes back afterwards."""
    monkeypatch.setenv("MOTO_PORT", os.environ.get("MOTO_PORT", "0"))
    port = free_port()
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    return port


@pytest.fixture
def recorder_invoker(tmp_path: Path) -> Iterator[InProcessLambdaInvoker]:
    invoker = InProcessLambdaInvoker(
        tmp_path / "outbox.sqlite3", {"recorder": handlers.record_call}, confirm_within_s=10
    )
    yield invoker
    invoker.stop()


def test_the_worker_runs_the_handler_and_empties_the_outbox(recorder_invoker: InProcessLambdaInvoker) -> None:
    receipt = recorder_invoker.invoke_async("recorder", {"conversation_id": "c", "n": 1})

    assert receipt.queued is False
    assert receipt.reference.startswith("outbox:outbox.sqlite3#")
    assert handlers.calls == [{"event": {"conversation_id": "c", "n": 1}, "function": "recorder"}]
    assert recorder_invoker.entries() == []


def test_an_event_waits_in_the_outbox_until_a_worker_runs(tmp_path: Path) -> None:
    invoker = InProcessLambdaInvoker(
        tmp_path / "outbox.sqlite3", {"recorder": handlers.record_call}, start=False
    )

    receipt = invoker.invoke_async("recorder", {"n": 1})
    pending = invoker.entries()
    invoker.start()
    try:
        wait_until(lambda: invoker.entries() == [])
    finally:
        invoker.stop()

    assert receipt.queued is True
    assert [entry.payload for entry in pending] == [{"n": 1}]
    assert [call["event"] for call in handlers.calls] == [{"n": 1}]


def test_an_unknown_function_is_refused_before_anything_is_queued(
    recorder_invoker: InProcessLambdaInvoker,
) -> None:
    with pytest.raises(EscalationError, match="no local handler for Lambda triggerWorkflow"):
        recorder_invoker.invoke_async("triggerWorkflow", {})

    assert recorder_invoker.entries() == []


@pytest.mark.parametrize("path", ["nodots", "no_such_module_xyz.handler", "tests.local.handlers.missing"])
def test_a_handler_path_that_does_not_resolve_is_a_config_error(tmp_path: Path, path: str) -> None:
    with pytest.raises(ConfigError, match="handler"):
        InProcessLambdaInvoker(tmp_path / "outbox.sqlite3", {"f": path}, start=False)


def test_an_event_the_handler_calls_invalid_becomes_a_dead_letter_at_once(tmp_path: Path) -> None:
    with InProcessLambdaInvoker(
        tmp_path / "outbox.sqlite3", {"f": handlers.reject_event}, confirm_within_s=10
    ) as invoker:
        receipt = invoker.invoke_async("f", {"n": 1})
        [dead] = invoker.entries(dead=True)

    assert receipt.queued is True
    assert (dead.attempts, dead.payload) == (1, {"n": 1})
    assert dead.last_error is not None and "InvalidLambdaEventError" in dead.last_error


def test_retries_back_off_and_stop_after_max_attempts(tmp_path: Path) -> None:
    with InProcessLambdaInvoker(
        tmp_path / "outbox.sqlite3",
        {"f": handlers.always_fail},
        base_backoff_s=0.05,
        max_attempts=3,
        confirm_within_s=0,
    ) as invoker:
        invoker.invoke_async("f", {"n": 1})
        wait_until(lambda: len(invoker.entries(dead=True)) == 1)
        [dead] = invoker.entries()

    assert dead.attempts == 3
    assert dead.last_error == "ConnectionError: downstream unreachable"


def test_two_invokers_sharing_an_outbox_run_each_event_once(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.sqlite3"
    first = InProcessLambdaInvoker(outbox, {"recorder": handlers.record_call}, confirm_within_s=0)
    second = InProcessLambdaInvoker(outbox, {"recorder": handlers.record_call}, confirm_within_s=0)
    try:
        for number in range(20):
            (first if number % 2 else second).invoke_async("recorder", {"n": number})
        wait_until(lambda: len(handlers.calls) >= 20 and first.entries() == [])
    finally:
        first.stop()
        second.stop()

    assert sorted(call["event"]["n"] for call in handlers.calls) == list(range(20))


def test_an_escalation_during_a_moto_outage_is_delivered_after_the_restart(
    tmp_path: Path, own_moto_port: int
) -> None:
    outage = start_moto_server(port=own_moto_port)
    outage.stop()  # Step Functions (here: S3) is unreachable from now on
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    invoker = InProcessLambdaInvoker(
        tmp_path / "outbox.sqlite3",
        {"triggerWorkflow": PUT_EVENT_IN_S3},
        base_backoff_s=0.2,
        max_backoff_s=1.0,
        confirm_within_s=5,
    )
    escalator = LambdaEscalator(invoker, "triggerWorkflow", "http://localhost:8502", state_store=store)
    conversation_id = new_conversation_id()
    restarted: MotoServer | None = None
    try:
        receipt = escalator.escalate(escalation_request(conversation_id))
        [pending] = invoker.entries()
        waiting = store.get(conversation_id)

        restarted = start_moto_server(port=own_moto_port)
        wait_until(lambda: invoker.entries() == [])
        delivered = stored_events(restarted, conversation_id)
    finally:
        invoker.stop()
        if restarted is not None:
            restarted.stop()

    assert receipt.queued is True  # the customer is still told that help is coming
    assert pending.attempts >= 1 and pending.last_error is not None
    assert waiting is not None and waiting.status is ConversationStatus.WAITING_FOR_EXPERT
    assert list(delivered) == [f"{conversation_id}/1.json"]
    event = delivered[f"{conversation_id}/1.json"]["event"]
    assert isinstance(event, dict)
    assert event["conversation_id"] == conversation_id
    assert event["escalation_number"] == 1
    assert event["console_link"] == f"http://localhost:8502/?conversation_id={conversation_id}"


def test_a_new_process_delivers_what_a_stopped_one_queued(tmp_path: Path, own_moto_port: int) -> None:
    outbox = tmp_path / "outbox.sqlite3"
    conversation_id = new_conversation_id()
    payload = {"conversation_id": conversation_id, "escalation_number": 1}
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from infra.local.lambda_invoker import InProcessLambdaInvoker\n"
        f"invoker = InProcessLambdaInvoker(Path(sys.argv[1]), {{'triggerWorkflow': '{PUT_EVENT_IN_S3}'}},\n"
        "                                 confirm_within_s=3)\n"
        "print(invoker.invoke_async('triggerWorkflow', json.loads(sys.argv[2])).model_dump_json())\n"
        "invoker.stop()\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    finished = subprocess.run(
        [sys.executable, "-c", script, str(outbox), json.dumps(payload)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    receipt = json.loads(finished.stdout.strip().splitlines()[-1])

    server = start_moto_server(port=own_moto_port)
    invoker = InProcessLambdaInvoker(outbox, {"triggerWorkflow": PUT_EVENT_IN_S3}, base_backoff_s=0.1)
    try:
        wait_until(lambda: invoker.entries() == [])
        delivered = stored_events(server, conversation_id)
    finally:
        invoker.stop()
        server.stop()

    assert receipt["queued"] is True
    assert list(delivered) == [f"{conversation_id}/1.json"]


def test_an_escalation_that_cannot_be_queued_goes_back_to_the_bot(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    invoker = InProcessLambdaInvoker(
        tmp_path / "outbox.sqlite3", {"recorder": handlers.record_call}, start=False
    )
    escalator = LambdaEscalator(invoker, "triggerWorkflow", "http://localhost:8502", state_store=store)
    conversation_id = new_conversation_id()

    with pytest.raises(EscalationError, match=conversation_id):
        escalator.escalate(escalation_request(conversation_id))

    state = store.get(conversation_id)
    assert state is not None
    assert (state.status, state.workflow_stage) == (ConversationStatus.BOT, WorkflowStage.FAILED)
