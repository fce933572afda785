"""Transcript export: formats, redaction, sampling, bad objects skipped and named, outputs local or on S3."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from chatbot.aws import client
from chatbot.config import Settings, load_settings
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.store import LocalTranscriptStore, S3TranscriptStore, transcript_key
from chatbot.conversation.transcript import Role, Transcript, Turn
from chatbot.errors import TranscriptExportError
from chatbot.models import EscalationDecision, EscalationReason, Source
from chatbot.privacy.redaction import Redactor
from infra.local.ports import free_port
from tests.labeling.test_export_helpers import (
    MAY_1,
    Bucket,
    empty_and_delete,
    fresh_bucket,
    support_transcript,
)
from workflows.labeling.export import (
    CSV_COLUMNS,
    ExportFormat,
    ExportRequest,
    SkippedTranscript,
    conversation_signals,
    export_transcripts,
    labeling_items,
)
from workflows.labeling.input_manifest import parse_input_manifest
from workflows.labeling.manifest import LabelingItem
from workflows.labeling.sampling import SampleStrategy

MAY_2 = MAY_1 + timedelta(days=1)
MAY_5 = MAY_1 + timedelta(days=4)
# Whole PII strings: a bare "555" also turns up in random hex ids and timestamps.
PII = ("jane@example.com", "(555) 010-9999", "010-9999")


@pytest.fixture
def bucket(settings: Settings) -> Iterator[Bucket]:
    """Two conversations on May 1 (one escalated), one on May 2, one on May 5; bad objects on May 1."""
    filled = fresh_bucket(settings)
    filled.add(support_transcript(MAY_1))
    filled.add(support_transcript(MAY_1, escalated=True, thumbs_down=True))
    filled.add(support_transcript(MAY_2, withheld=False))
    filled.add(support_transcript(MAY_5))
    yield filled
    empty_and_delete(filled)


def in_key_order(transcripts: list[Transcript]) -> list[Transcript]:
    return sorted(transcripts, key=lambda transcript: transcript_key(transcript.conversation_id))


def export(bucket: Bucket, out: str, **options: Any) -> tuple[Any, list[SkippedTranscript]]:
    request = ExportRequest(since=date(2024, 5, 1), until=date(2024, 5, 2), out=out, **options)
    skipped: list[SkippedTranscript] = []
    summary = export_transcripts(
        request, bucket.store, Redactor(), s3=bucket.s3, on_skip=skipped.append, progress=False
    )
    return summary, skipped


def test_jsonl_has_every_transcript_of_the_range_redacted(bucket: Bucket, tmp_path: Path) -> None:
    out = tmp_path / "out" / "transcripts.jsonl"
    summary, skipped = export(bucket, str(out))

    lines = out.read_text(encoding="utf-8").splitlines()
    exported = [Transcript.model_validate_json(line) for line in lines]
    in_range = in_key_order(bucket.transcripts[:3])
    assert [t.conversation_id for t in exported] == [t.conversation_id for t in in_range]
    assert [len(t.turns) for t in exported] == [len(t.turns) for t in in_range]
    assert not any(secret in out.read_text(encoding="utf-8") for secret in PII)
    assert exported[0].turns[0].text == "My endpoint fails. I am [EMAIL]"
    assert [any(turn.withheld for turn in t.turns) for t in exported] == [  # withheld answers kept, marked
        any(turn.withheld for turn in t.turns) for t in in_range
    ]
    assert summary.redacted == {"EMAIL": 3, "PHONE": 3}
    assert (summary.conversations_read, summary.conversations_written, summary.items_written) == (3, 3, 3)
    assert skipped == summary.skipped == []


def test_bad_objects_are_skipped_named_and_the_rest_exported(bucket: Bucket, tmp_path: Path) -> None:
    bucket.add_bad_objects(MAY_1)
    out = tmp_path / "transcripts.jsonl"

    summary, skipped = export(bucket, str(out))

    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    assert [skip.location for skip in skipped] == sorted(bucket.bad_locations)
    reasons = {skip.location: skip.reason for skip in skipped}
    truncated, future, huge, stray = bucket.bad_locations
    assert "not valid JSON" in reasons[truncated]
    assert "unknown schema_version 2" in reasons[future]
    assert "over the 5242880-byte limit" in reasons[huge]
    assert "not a transcript name" in reasons[stray]
    assert all(skip.location in skip.reason for skip in skipped)
    assert summary.skipped == skipped


def test_csv_has_a_row_per_turn(bucket: Bucket, tmp_path: Path) -> None:
    out = tmp_path / "turns.csv"
    summary, _ = export(bucket, str(out), format=ExportFormat.CSV)

    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    in_range = in_key_order(bucket.transcripts[:3])
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == sum(len(t.turns) for t in in_range) == summary.items_written
    first = in_range[0]
    assert [row["turn_id"] for row in rows[: len(first.turns)]] == [turn.turn_id for turn in first.turns]
    assert rows[0]["text"] == "My endpoint fails. I am [EMAIL]"
    assert rows[1]["sources"] == "logs.md" and float(rows[1]["top_source_score"]) == 0.8
    assert [row["withheld"] == "True" for row in rows] == [
        turn.withheld for t in in_range for turn in t.turns
    ]
    assert {row["role"] for row in rows} == {"customer", "bot", "system", "expert"}
    assert not any(secret in out.read_text(encoding="utf-8") for secret in PII)


def test_gt_manifest_items_join_back_to_their_transcripts(bucket: Bucket, tmp_path: Path) -> None:
    out = tmp_path / "manifest.jsonl"
    summary, _ = export(bucket, str(out), format=ExportFormat.GT_MANIFEST)

    manifest = parse_input_manifest(out.read_text(encoding="utf-8"), str(out))
    assert manifest.errors == []
    items = manifest.items
    # each transcript: the cited answer, and the withheld one where there is one
    assert len(items) == 2 + 2 + 1 == summary.items_written
    stored = {t.conversation_id: t for t in bucket.transcripts}
    for entry in manifest.entries:
        item = entry.item
        answer = stored[item.conversation_id].turns[item.turn_index]
        assert answer.role is Role.BOT
        assert item.item_id == f"{item.conversation_id}:{item.turn_index}"
        assert item.withheld == answer.withheld
        assert entry.line.source is not None and item.answer in entry.line.source
        assert ("withheld" in entry.line.source) == item.withheld
        assert not any(secret in entry.line.source for secret in PII)
    quiet = [item for item in items if item.conversation_id == bucket.transcripts[0].conversation_id]
    cited, withheld = quiet
    assert (cited.turn_index, cited.retrieval_score, cited.feedback, cited.escalated) == (1, 0.8, "up", False)
    assert cited.sources[0].doc == "logs.md"
    assert cited.question == "My endpoint fails. I am [EMAIL]" and cited.sentiment_label is None
    assert withheld.withheld and withheld.retrieval_score is None and withheld.turn_index == 3
    assert withheld.question == "Still failing, call [PHONE]" and withheld.sentiment_label == "neutral"
    escalated = [item for item in items if item.escalated]
    assert {item.conversation_id for item in escalated} == {bucket.transcripts[1].conversation_id}
    assert escalated[0].feedback == "down" and escalated[1].sentiment_label == "negative"


def test_gt_manifest_with_source_ref_puts_items_on_s3(bucket: Bucket) -> None:
    out = f"s3://{bucket.name}/manifests/input.manifest"
    summary, _ = export(
        bucket, out, format=ExportFormat.GT_MANIFEST, source_ref=f"s3://{bucket.name}/manifests/items"
    )

    text = bucket.s3.get_object(Bucket=bucket.name, Key="manifests/input.manifest")["Body"].read().decode()
    manifest = parse_input_manifest(text, out)
    assert manifest.errors == [] and len(manifest.entries) == summary.items_written == 5
    for entry in manifest.entries:
        assert entry.line.source is None and entry.line.source_ref is not None
        item = entry.item
        assert (
            entry.line.source_ref
            == f"s3://{bucket.name}/manifests/items/{item.conversation_id}/{item.turn_index}.json"
        )
        key = entry.line.source_ref.removeprefix(f"s3://{bucket.name}/")
        held = LabelingItem.model_validate_json(
            bucket.s3.get_object(Bucket=bucket.name, Key=key)["Body"].read()
        )
        assert held == item
        assert "jane@" not in held.question


@pytest.mark.parametrize("root", ["", "/"])
def test_gt_manifest_with_source_ref_at_the_bucket_root(bucket: Bucket, tmp_path: Path, root: str) -> None:
    out = tmp_path / "input.manifest"
    summary, _ = export(
        bucket, str(out), format=ExportFormat.GT_MANIFEST, source_ref=f"s3://{bucket.name}{root}"
    )

    manifest = parse_input_manifest(out.read_text(encoding="utf-8"), str(out))
    assert manifest.errors == [] and len(manifest.entries) == summary.items_written == 5
    for entry in manifest.entries:
        item = entry.item
        key = f"{item.conversation_id}/{item.turn_index}.json"
        assert entry.line.source_ref == f"s3://{bucket.name}/{key}"
        held = bucket.s3.get_object(Bucket=bucket.name, Key=key)["Body"].read()
        assert LabelingItem.model_validate_json(held) == item


def test_jsonl_to_s3(bucket: Bucket) -> None:
    summary, _ = export(bucket, f"s3://{bucket.name}/exports/all.jsonl")
    body = bucket.s3.get_object(Bucket=bucket.name, Key="exports/all.jsonl")["Body"].read().decode()
    assert len(body.splitlines()) == summary.conversations_written == 3


def test_a_seeded_sample_repeats(bucket: Bucket, tmp_path: Path) -> None:
    for extra in range(6):
        bucket.add(support_transcript(MAY_1 + timedelta(hours=extra)))

    def sampled(seed: int) -> list[str]:
        out = tmp_path / f"sample-{seed}.jsonl"
        summary, _ = export(bucket, str(out), sample=3, seed=seed)
        assert summary.conversations_written == 3
        return [json.loads(line)["conversation_id"] for line in out.read_text(encoding="utf-8").splitlines()]

    assert sampled(5) == sampled(5)
    assert len({tuple(sampled(seed)) for seed in range(6)}) > 1


def test_a_risk_sample_over_represents_escalated_conversations(tmp_path: Path) -> None:
    store = LocalTranscriptStore(tmp_path / "store")  # fast reads: this runs 40 exports
    for index in range(20):  # 4 of 20 escalated; fixed ids, so the pool order and the samples are fixed
        transcript = support_transcript(
            MAY_1, escalated=index % 5 == 0, withheld=False, conversation_id=f"20240501-{index:012x}"
        )
        store.save(transcript)
    escalated_items = dict.fromkeys(SampleStrategy, 0)
    for strategy in SampleStrategy:
        for seed in range(20):
            out = tmp_path / f"{strategy}-{seed}.jsonl"
            request = ExportRequest(
                since=date(2024, 5, 1),
                until=date(2024, 5, 1),
                out=str(out),
                format=ExportFormat.GT_MANIFEST,
                sample=4,
                strategy=strategy,
                seed=seed,
            )
            export_transcripts(request, store, Redactor(), progress=False)
            items = parse_input_manifest(out.read_text(encoding="utf-8"), str(out)).items
            assert len(items) == 4
            escalated_items[strategy] += sum(item.escalated for item in items)
    # random expects 20 * 4 * 4/20 = 16; risk weighs escalated (and negative) items 7 against 1
    assert 8 <= escalated_items[SampleStrategy.RANDOM] <= 26
    assert escalated_items[SampleStrategy.RISK] > 2 * escalated_items[SampleStrategy.RANDOM]


def test_labeling_items_pair_answers_with_the_questions_before_them() -> None:
    cid = new_conversation_id(MAY_1)
    turns = [
        Turn(role=Role.BOT, text="Hello! Ask me about SageMaker."),  # no question: not an item
        Turn(role=Role.CUSTOMER, text="hi"),
        Turn(role=Role.CUSTOMER, text="how do I stop a notebook?"),
        Turn(role=Role.BOT, text="draft", withheld=True),
        Turn(role=Role.BOT, text="Choose Stop."),
        Turn(role=Role.EXPERT, text="Also check lifecycle configs."),
        Turn(role=Role.CUSTOMER, text="thanks"),
        Turn(role=Role.BOT, text="You're welcome."),
    ]
    items = labeling_items(Transcript(conversation_id=cid, turns=turns))

    assert [(item.turn_index, item.question, item.answer) for item in items] == [
        (3, "hi\nhow do I stop a notebook?", "draft"),
        (4, "hi\nhow do I stop a notebook?", "Choose Stop."),
        (7, "thanks", "You're welcome."),
    ]
    assert [item.withheld for item in items] == [True, False, False]


LOGS = Source(doc="logs.md", title="Logs", section="Endpoints", score=0.8, snippet="Logs...")


def test_an_escalations_handoff_message_is_not_an_item_but_the_withheld_draft_is() -> None:
    """As the chat session writes an escalation: the handoff is a bot turn carrying the decision."""
    decision = EscalationDecision(escalate=True, reason=EscalationReason.NEGATIVE_SENTIMENT)
    turns = [
        Turn(role=Role.CUSTOMER, text="Nothing works, this is useless!", escalation=decision),
        Turn(role=Role.BOT, text="I'm bringing in a support expert.", escalation=decision),
        Turn(role=Role.BOT, text="Check the endpoint's logs.", withheld=True, sources=[LOGS]),
        Turn(role=Role.EXPERT, text="Hi, Ana here.", author="Ana"),
    ]
    transcript = Transcript(conversation_id=new_conversation_id(MAY_1), turns=turns)

    items = labeling_items(transcript)

    assert [(item.turn_index, item.answer, item.withheld) for item in items] == [
        (2, "Check the endpoint's logs.", True)
    ]
    assert not conversation_signals(transcript).uncited_answer  # the handoff cites nothing, by design


def test_an_unreachable_store_fails_the_export_and_writes_nothing(tmp_path: Path) -> None:
    unreachable = load_settings(aws_endpoint_url=f"http://127.0.0.1:{free_port()}")
    store = S3TranscriptStore(client("s3", unreachable), "any-bucket")
    out = tmp_path / "never.jsonl"
    request = ExportRequest(since=date(2024, 5, 1), until=date(2024, 5, 1), out=str(out))

    with pytest.raises(TranscriptExportError, match="could not read transcripts"):
        export_transcripts(request, store, Redactor(), progress=False)
    assert not out.exists()


def test_a_failing_output_leaves_no_partial_file(bucket: Bucket, tmp_path: Path) -> None:
    out = tmp_path / "manifest.jsonl"
    with pytest.raises(TranscriptExportError, match="no-such-labeling-bucket"):
        export(
            bucket,
            str(out),
            format=ExportFormat.GT_MANIFEST,
            source_ref="s3://no-such-labeling-bucket/items/",
        )
    assert not out.exists()
    assert not [path for path in tmp_path.iterdir() if "manifest" in path.name]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"until": date(2024, 4, 30)}, "before since"),
        ({"source_ref": "s3://b/items/"}, "gt-manifest format only"),
        ({"format": ExportFormat.GT_MANIFEST, "source_ref": "/local/items"}, "must be s3://bucket/prefix/"),
        ({"out": "s3://bucket-only"}, "needs a bucket and a key"),
        ({"sample": 0}, "greater than or equal to 1"),
    ],
)
def test_inconsistent_requests_are_refused(options: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {
        "since": date(2024, 5, 1),
        "until": date(2024, 5, 1),
        "out": "x.jsonl",
        **options,
    }
    with pytest.raises(ValueError, match=message):
        ExportRequest(**fields)
