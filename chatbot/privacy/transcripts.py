"""Redaction applied to turns and transcripts: the text of every turn; sources are documentation, kept."""

from __future__ import annotations

from chatbot.conversation.transcript import Transcript, Turn
from chatbot.privacy.redaction import RedactionReport, Redactor


def redact_turn(turn: Turn, redactor: Redactor, report: RedactionReport | None = None) -> Turn:
    redacted = redactor.redact(turn.text, report)
    if not redacted.findings:
        return turn
    return turn.model_copy(update={"text": redacted.text})


def redact_transcript(
    transcript: Transcript, redactor: Redactor, report: RedactionReport | None = None
) -> Transcript:
    return transcript.model_copy(
        update={"turns": [redact_turn(turn, redactor, report) for turn in transcript.turns]}
    )
