"""Prompt messages from (system text, chat history, user text).

The chat models shape them for their family (:func:`chatbot.llm.families.adapt_messages`) as they read them.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from chatbot.conversation.transcript import Role, Turn


def history_from_turns(turns: Sequence[Turn]) -> list[BaseMessage]:
    """The turns the customer saw, as chat messages: theirs as user, the bot's and experts' as assistant.

    Withheld bot answers were never shown and system notes are not conversation, so both are left out.
    """
    history: list[BaseMessage] = []
    for turn in turns:
        if turn.role is Role.CUSTOMER:
            history.append(HumanMessage(content=turn.text))
        elif turn.role in (Role.BOT, Role.EXPERT) and not turn.withheld:
            history.append(AIMessage(content=turn.text))
    return history


def build_chat_messages(
    system_text: str, history: Sequence[BaseMessage], user_text: str
) -> list[BaseMessage]:
    """System prompt, earlier turns and the new user message.

    Chat APIs want the conversation to open with a user message, so assistant turns before the first
    customer message (a greeting) are dropped.
    """
    conversation = list(history)
    while conversation and not isinstance(conversation[0], HumanMessage):
        conversation.pop(0)
    messages: list[BaseMessage] = []
    if system_text:
        messages.append(SystemMessage(content=system_text))
    messages.extend(conversation)
    messages.append(HumanMessage(content=user_text))
    return messages
