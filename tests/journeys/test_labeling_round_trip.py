"""Issue 4's round trip with real chats: customers chat -> transcripts in S3 (moto) -> ``chatbot transcripts
export --format gt-manifest`` -> Ground Truth's pre-annotation Lambda -> workers' annotation file (the
documented payload) -> post-annotation Lambda -> output manifest (as Ground Truth writes it) -> ``chatbot
feedback build`` -> three datasets that ``datasets.load_dataset`` reads. The numbers are checked at each step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import datasets as hf_datasets
import pytest
from typer.testing import CliRunner

from chatbot.aws import client
from chatbot.chain.turn import TurnComponents
from chatbot.cli import app as chatbot_app
from chatbot.conversation.ids import conversation_day
from chatbot.conversation.session import ChatSession
from chatbot.conversation.transcript import Rating, Role
from chatbot.models import EscalationReason
from chatbot.services import ChatServices
from infra.local.moto_server import MotoServer
from lambdas.gt_post_annotation import handler as post_handler
from lambdas.gt_pre_annotation import handler as pre_handler
from tests.journeys.chat import ask, last_answer
from tests.labeling.samples import fresh_lambda_s3_clients
from tests.local.sqs_helpers import unique
from tests.support.chat_services import services_for
from workflows.labeling.gt_task import RATING_CATEGORIES, TaskInput
from workflows.labeling.input_manifest import InputManifest, parse_input_manifest
from workflows.labeling.jsonl import write_jsonl
from workflows.labeling.output_manifest import (
    LabelStatus,
    output_line,
    parse_output_manifest,
)
from workflows.labeling.s3uri import parse_s3_uri

pytestmark = [pytest.mark.models, pytest.mark.slow]

STUDIO_QUESTION = "How do I delete a SageMaker Studio domain?"
STUDIO_QUESTION_AGAIN = "how do i delete a sagemaker studio domain"  # the same question, typed differently
EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"  # passes the Luhn check
BILLING_QUESTION = (
    f"I was billed twice on card {CARD}, email me at {EMAIL}. How are serverless endpoints billed?"
)
ANGRY_MESSAGE = "This is ridiculous, I have wasted my whole day and your useless bot keeps failing me!"

JOB = "answer-relevance-journey"
ATTRIBUTE = "answer-relevance"


@dataclass
class Chats:
    calm: ChatSession  # two answered questions, the second given a thumbs-down
    escalated: ChatSession  # handed to an expert; the bot's draft answer is withheld
    repeat: ChatSession  # the calm conversation's first question, asked again


@pytest.fixture
def chats(
    components: TurnComponents, moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Chats]:
    bucket = unique("journey-transcripts")
    services: ChatServices = services_for(
        components,
        tmp_path / "chat-data",
        transcript_store="s3",
        transcript_bucket=bucket,
        aws_endpoint_url=moto_server.endpoint_url,
    )
    client("s3", services.settings).create_bucket(Bucket=bucket)
    # what the CLI commands and the Lambdas read from their environment
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", moto_server.endpoint_url)
    monkeypatch.setenv("CHATBOT_TRANSCRIPT_BUCKET", bucket)
    try:
        calm, escalated, repeat = ChatSession(services), ChatSession(services), ChatSession(services)
        assert not ask(calm, STUDIO_QUESTION).escalation.escalate
        assert not ask(calm, BILLING_QUESTION).escalation.escalate
        calm.give_feedback(last_answer(calm).turn_id, Rating.THUMBS_DOWN)
        outcome = ask(escalated, ANGRY_MESSAGE)
        assert outcome.escalation.reason is EscalationReason.NEGATIVE_SENTIMENT
        assert not ask(repeat, STUDIO_QUESTION_AGAIN).escalation.escalate
    finally:
        services.close()  # waits for the expert's draft answer, written in the background
    yield Chats(calm, escalated, repeat)


@pytest.fixture
def lambda_s3_clients() -> Iterator[None]:
    """The Lambdas build their S3 client once per container: here, once per test."""
    with fresh_lambda_s3_clients(pre_handler.s3_client, post_handler.s3_client):
        yield


def run_cli(*arguments: str) -> Any:
    result = CliRunner().invoke(chatbot_app, list(arguments))
    assert result.exit_code == 0, result.output
    return result


def worker_answer(rating: int, comment: str = "") -> str:
    """A worker's ``crowd-form`` output, the JSON string Ground Truth puts in ``annotationData.content``."""
    return json.dumps({"relevance": {"label": RATING_CATEGORIES[rating - 1]}, "comment": comment})


def annotations(*answers: str) -> list[dict[str, Any]]:
    return [
        {"workerId": f"private.us-east-1.{number:016x}", "annotationData": {"content": answer}}
        for number, answer in enumerate(answers, start=1)
    ]


def export_manifest(chats: Chats, out: Path) -> tuple[InputManifest, str]:
    days = sorted(
        conversation_day(session.conversation_id) for session in (chats.calm, chats.escalated, chats.repeat)
    )
    until = datetime.now(UTC).date()
    result = run_cli(
        "transcripts", "export", "--since", days[0].isoformat(), "--until", until.isoformat(),
        "--format", "gt-manifest", "--out", str(out), "--no-progress",
    )  # fmt: skip
    text = out.read_text(encoding="utf-8")
    return parse_input_manifest(text, str(out)), result.stdout


def test_chats_become_labels_and_training_datasets(
    chats: Chats, tmp_path: Path, lambda_s3_clients: None
) -> None:
    # 1. the transcripts in S3: every turn, the thumbs-down and the withheld draft with them
    s3 = client("s3", chats.calm.services.settings)
    recorder = chats.calm.services.recorder
    assert recorder.pending() == 0
    stored = {
        session.conversation_id: recorder.store.load(session.conversation_id)
        for session in (chats.calm, chats.escalated, chats.repeat)
    }
    calm, escalated, repeat = (
        stored[session.conversation_id] for session in (chats.calm, chats.escalated, chats.repeat)
    )
    assert [turn.role for turn in calm.turns] == [Role.CUSTOMER, Role.BOT, Role.CUSTOMER, Role.BOT]
    assert calm.turns[3].feedback is not None and calm.turns[3].feedback.rating is Rating.THUMBS_DOWN
    assert [(turn.role, turn.withheld) for turn in escalated.turns] == [
        (Role.CUSTOMER, False),
        (Role.BOT, False),  # the handoff message
        (Role.BOT, True),  # the draft for the expert
    ]
    assert [turn.role for turn in repeat.turns] == [Role.CUSTOMER, Role.BOT]
    studio_answers = {calm.turns[1].text.strip(), repeat.turns[1].text.strip()}
    assert len(studio_answers) == 2, "the model gave the same answer twice: no preference pair can form"

    # 2. the export: one item per answer (the handoff message is not one), PII redacted
    manifest, export_output = export_manifest(chats, tmp_path / "input.manifest")
    assert manifest.errors == []
    assert "wrote 3 conversations, 4 items (gt-manifest)" in export_output
    assert re.search(r"redacted: .*EMAIL=\d", export_output) and re.search(r"CARD=\d", export_output)
    manifest_text = (tmp_path / "input.manifest").read_text(encoding="utf-8")
    assert EMAIL not in manifest_text and CARD not in manifest_text
    assert CARD.replace(" ", "") not in manifest_text
    items = {(item.conversation_id, item.turn_index): item for item in manifest.items}
    assert set(items) == {
        (chats.calm.conversation_id, 1),
        (chats.calm.conversation_id, 3),
        (chats.escalated.conversation_id, 2),
        (chats.repeat.conversation_id, 1),
    }
    billing = items[chats.calm.conversation_id, 3]
    assert "[EMAIL]" in billing.question and "[CARD]" in billing.question
    assert billing.feedback == Rating.THUMBS_DOWN.value
    draft = items[chats.escalated.conversation_id, 2]
    assert draft.withheld and draft.escalated and draft.sentiment_label == "negative"
    assert draft.question == ANGRY_MESSAGE

    # 3. Ground Truth shows each object to workers through the pre-annotation Lambda
    labeling_bucket = unique("journey-labeling")
    s3.create_bucket(Bucket=labeling_bucket)
    job_arn = f"arn:aws:sagemaker:us-east-1:111122223333:labeling-job/{JOB}"
    for entry in manifest.entries:
        event = {"version": "2018-10-16", "labelingJobArn": job_arn, "dataObject": entry.raw}
        task = TaskInput.model_validate(pre_handler.lambda_handler(event, None)["taskInput"])
        assert (task.item_id, task.question, task.answer) == (
            entry.item.item_id,
            entry.item.question,
            entry.item.answer,
        )

    # 4. three workers rate each object; one answer came back malformed
    first_studio, second_studio = items[chats.calm.conversation_id, 1], items[chats.repeat.conversation_id, 1]
    truncated = '{"relevance": {"lab'
    answers_by_item = {
        first_studio.item_id: [worker_answer(5), worker_answer(5), worker_answer(4)],
        billing.item_id: [worker_answer(3, "ignores the double charge"), worker_answer(3), truncated],
        draft.item_id: [worker_answer(4), worker_answer(5), worker_answer(4, "fine for a draft")],
        second_studio.item_id: [worker_answer(2), worker_answer(1), worker_answer(2)],
    }
    payload = [
        {
            "datasetObjectId": str(index),
            "dataObject": {"content": entry.raw["source"]},
            "annotations": annotations(*answers_by_item[entry.item.item_id]),
        }
        for index, entry in enumerate(manifest.entries)
    ]
    payload_uri = (
        f"s3://{labeling_bucket}/labels/{JOB}/annotations/consolidated-annotation/"
        "consolidation-request/iteration-1/2026-11-21_10:15:42.json"
    )
    payload_location = parse_s3_uri(payload_uri)
    s3.put_object(Bucket=payload_location.bucket, Key=payload_location.key, Body=json.dumps(payload).encode())

    # 5. the consolidation Lambda, with the event Ground Truth sends
    post_event = {
        "version": "2018-10-16",
        "labelingJobArn": job_arn,
        "labelCategories": list(RATING_CATEGORIES),
        "labelAttributeName": ATTRIBUTE,
        "roleArn": "arn:aws:iam::111122223333:role/support-chatbot-labeling-job",
        "payload": {"s3Uri": payload_uri},
    }
    response = post_handler.lambda_handler(post_event, None)
    assert [entry["datasetObjectId"] for entry in response] == [str(i) for i in range(len(manifest.entries))]
    labels = [entry["consolidatedAnnotation"]["content"][ATTRIBUTE] for entry in response]
    by_item = {entry.item.item_id: label for entry, label in zip(manifest.entries, labels, strict=True)}
    assert by_item[billing.item_id]["consolidated_rating"] == 3.0
    assert len(by_item[billing.item_id]["ratings"]) == 2 and len(by_item[billing.item_id]["problems"]) == 1
    assert sorted(label["consolidated_rating"] for label in labels) == [2.0, 3.0, 4.0, 5.0]
    assert sum(len(label["ratings"]) for label in labels) == 11

    # 6. Ground Truth joins each label to its input line in the output manifest, in the job's output
    created = datetime(2026, 11, 21, 10, 16, tzinfo=UTC)
    output_path = tmp_path / JOB / "manifests" / "output" / "output.manifest"
    written = write_jsonl(
        output_path,
        [
            output_line(entry.raw, ATTRIBUTE, label, JOB, created)
            for entry, label in zip(manifest.entries, labels, strict=True)
        ],
    )
    assert written == 4
    output_key = f"labels/{JOB}/manifests/output/output.manifest"
    s3.put_object(Bucket=labeling_bucket, Key=output_key, Body=output_path.read_bytes())
    output = parse_output_manifest(output_path.read_text(encoding="utf-8"), str(output_path))
    assert output.errors == [] and output.count(LabelStatus.LABELED) == 4

    # 7. the dataset builder, reading the output manifest from S3
    out_dir = tmp_path / "datasets"
    build_output = run_cli(
        "feedback", "build", "--input", f"s3://{labeling_bucket}/{output_key}", "--out", str(out_dir)
    ).stdout
    assert "read 4 lines: 4 labeled, 0 without a valid rating" in build_output
    assert re.search(r"ratings:\s+4\b", build_output)
    assert re.search(r"preferences:\s+1\b", build_output)
    assert re.search(r"kto:\s+3\b.*\(2 desirable, 1 undesirable, 1 rated 3-3.5 left out\)", build_output)

    cache = tmp_path / "hf-cache"
    ratings, pairs, kto = (
        hf_datasets.load_dataset("json", data_files=str(out_dir / name), split="train", cache_dir=str(cache))
        for name in ("ratings.jsonl", "preferences.jsonl", "kto.jsonl")
    )
    assert ratings.num_rows == 4
    assert sorted(ratings["rating"]) == [2.0, 3.0, 4.0, 5.0]
    assert sorted(ratings["reward"]) == [-0.5, 0.0, 0.5, 1.0]
    assert pairs.num_rows == 1
    (pair,) = pairs
    assert pair["prompt"] in {STUDIO_QUESTION, STUDIO_QUESTION_AGAIN}  # as first asked in the manifest
    assert pair["margin"] == 3.0
    assert (pair["chosen"], pair["rejected"]) == (first_studio.answer, second_studio.answer)
    assert kto.num_rows == 3
    assert sorted(zip(kto["rating"], kto["label"], strict=True)) == [(2.0, False), (4.0, True), (5.0, True)]
    for name in ("ratings.jsonl", "preferences.jsonl", "kto.jsonl"):
        text = (out_dir / name).read_text(encoding="utf-8")
        assert EMAIL not in text and CARD not in text
