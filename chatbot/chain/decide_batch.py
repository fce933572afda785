"""``chatbot decide``: escalation decisions for a batch of opening customer messages (JSON Lines).

Each input line is ``{"id", "text"}``; each output line ``{"id", "sentiment": {"label", "score"},
"escalate", "reason"}``. A line that cannot be used becomes a :class:`LineProblem` naming its line
number, and the other lines are still decided.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatbot.chain.decision import EscalationPolicy, decide_escalation
from chatbot.chain.guard import validate_message
from chatbot.chain.signals import TurnSignals, find_human_request
from chatbot.errors import InvalidMessageError
from chatbot.models import EscalationReason, SentimentLabel
from chatbot.sentiment.judge import SentimentJudge


class DecideInputLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str | int
    text: str


class SentimentBrief(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: SentimentLabel
    score: float = Field(ge=0.0, le=1.0)


class DecideOutputLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | int
    sentiment: SentimentBrief
    escalate: bool
    reason: EscalationReason


@dataclass(frozen=True)
class LineProblem:
    line_number: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line_number}: {self.message}"


def _validation_summary(error: ValidationError) -> str:
    problems = []
    for issue in error.errors():
        field = ".".join(str(part) for part in issue["loc"]) or "line"
        if issue["type"] == "missing":
            problems.append(f"missing field {field!r}")
        else:
            problems.append(f"field {field!r}: {issue['msg']}")
    return "; ".join(problems)


def parse_line(line_number: int, line: str, max_chars: int) -> DecideInputLine | LineProblem:
    try:
        parsed = json.loads(line)
    except json.JSONDecodeError as error:
        return LineProblem(line_number, f"not valid JSON ({error.msg} at column {error.colno})")
    if not isinstance(parsed, dict):
        return LineProblem(
            line_number, f'expected a JSON object {{"id", "text"}}, got {type(parsed).__name__}'
        )
    try:
        message = DecideInputLine.model_validate(parsed)
    except ValidationError as error:
        return LineProblem(line_number, _validation_summary(error))
    try:
        return message.model_copy(update={"text": validate_message(message.text, max_chars)})
    except InvalidMessageError as error:
        return LineProblem(line_number, f"message {message.id!r} rejected: {error}")


class FirstMessageDecider:
    """Judges and decides opening messages, each as the chat would on a conversation's first turn."""

    def __init__(self, judge: SentimentJudge, policy: EscalationPolicy, max_chars: int) -> None:
        self._judge = judge
        self._policy = policy
        self._max_chars = max_chars

    def decide(self, message: DecideInputLine) -> DecideOutputLine:
        sentiment = self._judge.judge(message.text, [])
        decision = decide_escalation(
            TurnSignals(sentiment=sentiment, human_request=find_human_request(message.text)), self._policy
        )
        return DecideOutputLine(
            id=message.id,
            sentiment=SentimentBrief(label=sentiment.label, score=sentiment.score),
            escalate=decision.escalate,
            reason=decision.reason,
        )

    def decide_lines(self, lines: Iterable[str]) -> Iterator[DecideOutputLine | LineProblem]:
        """One result per non-blank line, in input order."""
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            parsed = parse_line(number, line, self._max_chars)
            yield parsed if isinstance(parsed, LineProblem) else self.decide(parsed)
