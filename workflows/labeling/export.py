"""Export of redacted transcripts for labeling: JSON Lines, CSV, or a Ground Truth input manifest.

Flow: list the transcript objects of the date range (by the day in their key) -> read and validate each (a
bad one is reported, skipped, and the rest go on; see :mod:`chatbot.conversation.store` for the checks and
the size limit, setting ``transcript_max_bytes``, 5 MiB by default) -> build the units (conversations for
``jsonl``/``csv``; (customer question, bot answer) items for ``gt-manifest``) -> sample (see
:mod:`workflows.labeling.sampling`) -> redact what is written (:mod:`chatbot.privacy.redaction`), counting
by type -> write to a local path or ``s3://bucket/key``, all at once (a local file appears complete, by
rename; an S3 object is uploaded when the whole output is ready).

Formats:

``jsonl``
    One redacted :class:`~chatbot.conversation.transcript.Transcript` a line, every turn (withheld bot
    answers included, ``withheld: true``).
``csv``
    One row a turn (:data:`CSV_COLUMNS`), header first.
``gt-manifest``
    One line a bot answer (not an escalation's handoff message) paired with the customer message(s) before
    it, as :mod:`workflows.labeling.input_manifest` reads it: ``source`` (inline text) or, with
    ``source_ref``, ``source-ref`` pointing at an S3 object ``<prefix><conversation_id>/<turn_index>.json``
    holding the :class:`~workflows.labeling.manifest.LabelingItem`; always ``chatbot-metadata`` (the item:
    conversation id, turn index, withheld, escalated, sentiment, feedback, retrieval score) to join labels
    back.
"""

from __future__ import annotations

import contextlib
import csv
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm import tqdm

from chatbot.conversation.store import StoredTranscript, TranscriptStore
from chatbot.conversation.transcript import Rating, Role, Transcript, Turn
from chatbot.errors import InvalidTranscriptError, TranscriptExportError, TranscriptStoreUnavailableError
from chatbot.models import SentimentLabel
from chatbot.privacy.redaction import RedactionReport, Redactor
from chatbot.privacy.transcripts import redact_transcript
from workflows.labeling.input_manifest import InputManifestLine
from workflows.labeling.jsonl import dumps_line
from workflows.labeling.manifest import METADATA_KEY, CitedSource, LabelingItem
from workflows.labeling.s3uri import S3Location, is_s3_uri, parse_s3_prefix, parse_s3_uri
from workflows.labeling.sampling import RiskSignals, SampleStrategy, sample

log = structlog.get_logger(__name__)

CSV_COLUMNS = (
    "conversation_id",
    "turn_index",
    "turn_id",
    "role",
    "created_at",
    "author",
    "text",
    "withheld",
    "sentiment_label",
    "sentiment_negative",
    "escalate",
    "escalation_reason",
    "feedback",
    "sources",
    "top_source_score",
    "conversation_escalated",
)


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    GT_MANIFEST = "gt-manifest"


class ExportRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    since: date
    until: date
    format: ExportFormat = ExportFormat.JSONL
    sample: int | None = Field(None, ge=1, description="Conversations (jsonl, csv) or items (gt-manifest).")
    strategy: SampleStrategy = SampleStrategy.RANDOM
    seed: int = 0
    out: str = Field(min_length=1, description="Local path or s3://bucket/key.")
    source_ref: str | None = Field(None, description="s3://bucket/prefix/ for items; gt-manifest only.")

    @model_validator(mode="after")
    def _consistent(self) -> ExportRequest:
        if self.until < self.since:
            raise ValueError(f"until ({self.until}) is before since ({self.since})")
        if is_s3_uri(self.out):
            parse_s3_uri(self.out)
        if self.source_ref is not None:
            if self.format is not ExportFormat.GT_MANIFEST:
                raise ValueError("source_ref applies to the gt-manifest format only")
            try:
                parse_s3_prefix(self.source_ref)
            except ValueError as error:
                raise ValueError(
                    f"source_ref must be s3://bucket/prefix/, not {self.source_ref!r}"
                ) from error
        return self

    @property
    def items_prefix(self) -> S3Location | None:
        """Where gt-manifest items go: ``source_ref`` split (key empty or ending in ``/``); None: inline."""
        return None if self.source_ref is None else parse_s3_prefix(self.source_ref)


class SkippedTranscript(BaseModel):
    model_config = ConfigDict(frozen=True)

    location: str
    reason: str


class ExportSummary(BaseModel):
    out: str
    format: ExportFormat
    conversations_read: int = 0
    conversations_written: int = 0
    items_written: int = 0
    skipped: list[SkippedTranscript] = Field(default_factory=list)
    redacted: dict[str, int] = Field(default_factory=dict, description="Values replaced, by PII type.")


# --- units -----------------------------------------------------------------------------------------


def _negative(turn: Turn) -> bool:
    return turn.sentiment is not None and turn.sentiment.label is SentimentLabel.NEGATIVE


def _top_score(turn: Turn) -> float | None:
    return max((source.score for source in turn.sources), default=None)


def is_handoff(turn: Turn) -> bool:
    """The bot's fixed "an expert will join" message: the session marks it with the escalation decision."""
    return turn.role is Role.BOT and turn.escalation is not None and turn.escalation.escalate


def is_answer(turn: Turn) -> bool:
    """A bot turn the model wrote (shown or withheld); handoff messages are canned text, not answers."""
    return turn.role is Role.BOT and not is_handoff(turn)


def labeling_items(transcript: Transcript) -> list[LabelingItem]:
    """One item per bot answer that follows a customer message; all answers to one question share it.

    Handoff messages are not items: rating "an expert will join" for relevance teaches nothing, and paired
    with the withheld draft of the same question it would make a false preference pair."""
    items = []
    question: list[Turn] = []
    answered = False
    for index, turn in enumerate(transcript.turns):
        if turn.role is Role.CUSTOMER:
            if answered:
                question, answered = [], False
            question.append(turn)
        elif is_answer(turn) and question:
            answered = True
            judged = [asked for asked in question if asked.sentiment is not None]
            items.append(
                LabelingItem(
                    item_id=f"{transcript.conversation_id}:{index}",
                    conversation_id=transcript.conversation_id,
                    turn_index=index,
                    question="\n".join(asked.text for asked in question),
                    answer=turn.text,
                    sources=[CitedSource(doc=s.doc, title=s.title, snippet=s.snippet) for s in turn.sources],
                    withheld=turn.withheld,
                    escalated=transcript.escalated,
                    sentiment_label=judged[-1].sentiment.label.value
                    if judged and judged[-1].sentiment
                    else None,
                    feedback=turn.feedback.rating.value if turn.feedback else None,
                    retrieval_score=_top_score(turn),
                )
            )
    return items


def item_signals(item: LabelingItem) -> RiskSignals:
    return RiskSignals(
        escalated=item.escalated,
        thumbs_down=item.feedback == Rating.THUMBS_DOWN.value,
        negative_sentiment=item.sentiment_label == SentimentLabel.NEGATIVE.value,
        uncited_answer=not item.sources,
        lowest_retrieval_score=item.retrieval_score,
    )


def conversation_signals(transcript: Transcript) -> RiskSignals:
    answers = [turn for turn in transcript.turns if is_answer(turn)]
    scores = [score for score in map(_top_score, answers) if score is not None]
    return RiskSignals(
        escalated=transcript.escalated,
        thumbs_down=any(
            t.feedback is not None and t.feedback.rating is Rating.THUMBS_DOWN for t in transcript.turns
        ),
        negative_sentiment=any(_negative(t) for t in transcript.turns if t.role is Role.CUSTOMER),
        uncited_answer=any(not answer.sources for answer in answers),
        lowest_retrieval_score=min(scores, default=None),
    )


def source_text(item: LabelingItem) -> str:
    """The inline ``source`` a worker reads."""
    label = "Answer (withheld: not shown to the customer)" if item.withheld else "Answer"
    return f"Question: {item.question}\n{label}: {item.answer}"


def redact_item(item: LabelingItem, redactor: Redactor, report: RedactionReport) -> LabelingItem:
    return item.model_copy(
        update={
            "question": redactor.redact(item.question, report).text,
            "answer": redactor.redact(item.answer, report).text,
        }
    )


def csv_rows(transcript: Transcript) -> Iterator[dict[str, object]]:
    for index, turn in enumerate(transcript.turns):
        yield {
            "conversation_id": transcript.conversation_id,
            "turn_index": index,
            "turn_id": turn.turn_id,
            "role": turn.role.value,
            "created_at": turn.created_at.isoformat(),
            "author": turn.author or "",
            "text": turn.text,
            "withheld": turn.withheld,
            "sentiment_label": turn.sentiment.label.value if turn.sentiment else "",
            "sentiment_negative": turn.sentiment.negative if turn.sentiment else "",
            "escalate": turn.escalation.escalate if turn.escalation else "",
            "escalation_reason": turn.escalation.reason.value if turn.escalation else "",
            "feedback": turn.feedback.rating.value if turn.feedback else "",
            "sources": ";".join(source.doc for source in turn.sources),
            "top_source_score": _top_score(turn) if turn.sources else "",
            "conversation_escalated": transcript.escalated,
        }


# --- output ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def open_output(out: str, s3: Any | None) -> Iterator[IO[str]]:
    """A text stream whose content appears at ``out`` only when the block completes."""
    if is_s3_uri(out):
        location = parse_s3_uri(out)
        if s3 is None:
            raise TranscriptExportError(f"writing {out} needs an S3 client")
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as buffer:
            yield buffer
            buffer.flush()
            buffer.seek(0)
            try:
                s3.put_object(Bucket=location.bucket, Key=location.key, Body=buffer.read().encode("utf-8"))
            except (BotoCoreError, ClientError) as error:
                raise TranscriptExportError(f"could not write {out}: {error}") from error
        return
    path = Path(out)
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        partial.replace(path)
    except OSError as error:
        raise TranscriptExportError(f"could not write {out}: {error}") from error
    finally:
        partial.unlink(missing_ok=True)


def _item_location(prefix: S3Location, item: LabelingItem) -> S3Location:
    """Where an item goes under ``prefix`` (from :func:`parse_s3_prefix`: empty or ending in ``/``)."""
    return S3Location(prefix.bucket, f"{prefix.key}{item.conversation_id}/{item.turn_index}.json")


# --- the export ------------------------------------------------------------------------------------


def read_transcripts(
    store: TranscriptStore,
    since: date,
    until: date,
    skipped: list[SkippedTranscript],
    on_skip: Callable[[SkippedTranscript], None],
    progress: bool,
) -> list[Transcript]:
    """Every valid transcript of the range; each invalid one goes to ``skipped`` and ``on_skip``."""
    listed: list[StoredTranscript] = list(store.list_transcripts(since, until))
    transcripts = []
    for stored in tqdm(listed, desc="reading", unit="transcript", disable=not progress, file=sys.stderr):
        try:
            transcripts.append(store.read(stored))
        except InvalidTranscriptError as error:
            skip = SkippedTranscript(location=stored.location, reason=str(error))
            skipped.append(skip)
            on_skip(skip)
            log.debug("export.transcript_skipped", location=stored.location)  # on_skip reports it
    return transcripts


def export_transcripts(
    request: ExportRequest,
    store: TranscriptStore,
    redactor: Redactor,
    *,
    s3: Any | None = None,
    on_skip: Callable[[SkippedTranscript], None] = lambda skip: None,
    progress: bool = True,
) -> ExportSummary:
    """Run one export; raises :class:`TranscriptExportError` when the store or the output fails."""
    summary = ExportSummary(out=request.out, format=request.format)
    report = RedactionReport()
    try:
        transcripts = read_transcripts(
            store, request.since, request.until, summary.skipped, on_skip, progress
        )
    except TranscriptStoreUnavailableError as error:
        raise TranscriptExportError(f"could not read transcripts: {error}") from error
    summary.conversations_read = len(transcripts)
    items_prefix = request.items_prefix

    with open_output(request.out, s3) as output:
        if request.format is ExportFormat.GT_MANIFEST:
            items = [item for transcript in transcripts for item in labeling_items(transcript)]
            chosen = sample(items, request.sample, request.strategy, request.seed, item_signals)
            for item in tqdm(chosen, desc="writing", unit="item", disable=not progress, file=sys.stderr):
                redacted = redact_item(item, redactor, report)
                output.write(_manifest_line(redacted, items_prefix, s3) + "\n")
            summary.items_written = len(chosen)
            summary.conversations_written = len({item.conversation_id for item in chosen})
        else:
            chosen_transcripts = sample(
                transcripts, request.sample, request.strategy, request.seed, conversation_signals
            )
            writer = csv.DictWriter(output, fieldnames=CSV_COLUMNS, lineterminator="\n")
            if request.format is ExportFormat.CSV:
                writer.writeheader()
            for transcript in chosen_transcripts:
                redacted_transcript = redact_transcript(transcript, redactor, report)
                if request.format is ExportFormat.CSV:
                    writer.writerows(csv_rows(redacted_transcript))
                    summary.items_written += len(redacted_transcript.turns)
                else:
                    output.write(redacted_transcript.model_dump_json() + "\n")
                    summary.items_written += 1
            summary.conversations_written = len(chosen_transcripts)
    summary.redacted = report.as_dict()
    log.info(
        "export.done",
        out=request.out,
        format=request.format.value,
        conversations=summary.conversations_written,
        items=summary.items_written,
        skipped=len(summary.skipped),
    )
    return summary


def _manifest_line(item: LabelingItem, items_prefix: S3Location | None, s3: Any | None) -> str:
    metadata = item.model_dump(mode="json")
    if items_prefix is None:
        line: dict[str, object] = {"source": source_text(item), METADATA_KEY: metadata}
    else:
        location = _item_location(items_prefix, item)
        if s3 is None:
            raise TranscriptExportError(f"writing items under {items_prefix.uri} needs an S3 client")
        try:
            s3.put_object(
                Bucket=location.bucket,
                Key=location.key,
                Body=item.model_dump_json().encode("utf-8"),
                ContentType="application/json",
            )
        except (BotoCoreError, ClientError) as error:
            raise TranscriptExportError(f"could not write {location.uri}: {error}") from error
        line = {"source-ref": location.uri, METADATA_KEY: metadata}
    InputManifestLine.model_validate(line)  # the reader's own model: what we write, it reads
    return dumps_line(line)
