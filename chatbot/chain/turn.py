"""The chain of one customer turn, as LCEL runnables.

Output keys (the seeds' contract plus what the rest of the product needs): ``response`` (the text the
customer sees), ``sentiment`` (:class:`~chatbot.models.Sentiment`), ``sources`` (cited documents) and
``escalation`` (:class:`~chatbot.models.EscalationDecision`).

The escalation decision does not need the answer, so it is made first, from the sentiment and the
conversation's signals; when it says escalate, generation is skipped and ``response`` is the handoff
message. Streaming the chain therefore yields the decision before any answer text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableBranch, RunnableLambda, RunnablePassthrough

from chatbot.chain.decision import EscalationPolicy, decide_escalation
from chatbot.chain.prompts import (
    ANSWER_STOP_SEQUENCES,
    SYSTEM_PROMPT,
    format_context,
    handoff_message,
    user_prompt,
)
from chatbot.chain.signals import SignalReader, TurnSignals
from chatbot.config import Settings
from chatbot.llm.messages import build_chat_messages
from chatbot.models import EscalationDecision, Sentiment
from chatbot.rag.knowledge_base import RetrievalResult
from chatbot.sentiment.judge import SentimentJudge

# the small local model follows better with little history: the last exchanges only
HISTORY_MESSAGES = 4


class Retriever(Protocol):
    def search(self, query: str, k: int) -> RetrievalResult: ...


@dataclass(frozen=True)
class TurnComponents:
    """Everything a turn needs, loaded once per process."""

    settings: Settings
    retriever: Retriever
    judge: SentimentJudge
    signal_reader: SignalReader
    policy: EscalationPolicy
    chat_model: BaseChatModel


def turn_input(
    message: str, previous_customer_messages: Sequence[str], history: Sequence[BaseMessage]
) -> dict[str, Any]:
    """The chain's input: the (already validated) message and what came before it."""
    return {
        "message": message,
        "previous_customer_messages": list(previous_customer_messages),
        "history": list(history),
    }


def build_answer_chain(components: TurnComponents) -> Runnable[dict[str, Any], dict[str, Any]]:
    """Retrieval and generation: ``{message, history}`` -> adds ``retrieval``, ``sources``, ``response``."""
    settings = components.settings

    def retrieve(inputs: dict[str, Any]) -> RetrievalResult:
        return components.retriever.search(inputs["message"], settings.retrieval_k)

    def prompt_messages(inputs: dict[str, Any]) -> list[BaseMessage]:
        retrieval: RetrievalResult = inputs["retrieval"]
        context = format_context(
            [(chunk.title, chunk.section, chunk.text) for chunk in retrieval.chunks],
            settings.context_max_chars,
        )
        history = inputs["history"][-HISTORY_MESSAGES:]
        return build_chat_messages(SYSTEM_PROMPT, history, user_prompt(inputs["message"], context))

    model = components.chat_model.bind(stop=ANSWER_STOP_SEQUENCES)
    generate = RunnableLambda(prompt_messages) | model | StrOutputParser()
    return (
        RunnablePassthrough.assign(retrieval=RunnableLambda(retrieve))
        .assign(sources=RunnableLambda(lambda inputs: inputs["retrieval"].sources))
        .assign(response=generate)
    )


def build_turn_chain(components: TurnComponents) -> Runnable[dict[str, Any], dict[str, Any]]:
    def judge(inputs: dict[str, Any]) -> Sentiment:
        return components.judge.judge(inputs["message"], inputs["previous_customer_messages"])

    def read_signals(inputs: dict[str, Any]) -> TurnSignals:
        return components.signal_reader.read(
            inputs["message"], inputs["previous_customer_messages"], inputs["sentiment"]
        )

    def decide(inputs: dict[str, Any]) -> EscalationDecision:
        return decide_escalation(inputs["signals"], components.policy)

    def escalating(inputs: dict[str, Any]) -> bool:
        decision: EscalationDecision = inputs["escalation"]
        return decision.escalate

    handoff = RunnablePassthrough.assign(
        sources=RunnableLambda(lambda _: []),
        response=RunnableLambda(lambda inputs: handoff_message(inputs["escalation"].reason)),
    )
    return (
        RunnablePassthrough.assign(sentiment=RunnableLambda(judge))
        .assign(signals=RunnableLambda(read_signals))
        .assign(escalation=RunnableLambda(decide))
        | RunnableBranch((RunnableLambda(escalating), handoff), build_answer_chain(components))
    ).with_config(run_name="customer_turn")
