"""Driving a real chat session as the customer's page does (no tests here)."""

from __future__ import annotations

from chatbot.chain.runner import TurnOutcome
from chatbot.conversation.session import BotTurn, ChatSession
from chatbot.conversation.transcript import Role, Turn


def ask(session: ChatSession, text: str) -> TurnOutcome:
    """Send a message the bot handles, read the streamed answer to its end, finish the turn."""
    turn = session.send(text)
    assert isinstance(turn, BotTurn), f"the bot did not take {text!r}: {turn}"
    streamed = "".join(turn.text())
    outcome = turn.finish()
    assert streamed == ("" if outcome.escalation.escalate else outcome.response)
    return outcome


def last_answer(session: ChatSession) -> Turn:
    """The latest bot turn the customer saw."""
    return next(turn for turn in reversed(session.visible_turns()) if turn.role is Role.BOT)
