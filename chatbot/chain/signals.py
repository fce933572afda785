"""Signals of one customer turn, read from the customer's own words and the conversation so far.

Only the customer's messages are read, never a model's output, so nothing a customer writes can
switch escalation off: at most, words can *add* a signal ("escalate=false" still mentions escalate).

* **Asking for a person**: "talk to a human", "real person", "live agent", "call me", "your manager",
  "escalate"... unless negated in the same clause ("don't escalate", "no need for a human").
* **The bot did not help**: the customer says so ("that didn't help", "that's wrong", "not what I
  asked"), or repeats an earlier question (embedding cosine >= the repeat threshold). Every customer
  turn after the first is checked, so failures add up across the conversation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from chatbot.chain.guard import to_latin
from chatbot.models import Sentiment
from chatbot.rag.embedder import Embedder, Vectors

_NOUN = (
    r"(?:humans?|person|people|agents?|representatives?|reps?|operators?|someone|somebody|anyone|anybody"
    r"|engineers?|experts?|specialists?|staff|managers?|supervisors?|employees?|colleagues?|support team"
    r"|customer (?:service|support)|tech(?:nical)? support)"
)
_QUALIFIER = (
    r"(?:(?:real|actual|live|human|support|technical|tech|aws|amazon|sagemaker|qualified|competent"
    r"|knowledgeable|senior|proper|customer service|customer support)\s+)*"
)
_DETERMINER = r"(?:(?:a|an|the|your|some|one of your|any)\s+)?"
_SPEAK = r"(?:talk|speak|chat|be connected|get connected)"

HUMAN_REQUEST_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        # talk to a human / speak with someone / chat with your support team
        rf"\b{_SPEAK}\s+(?:to|with)\s+{_DETERMINER}{_QUALIFIER}{_NOUN}\b",
        # connect / transfer / put / pass / hand / forward me (through|over) to an agent; get me a person
        rf"\b(?:connect|transfer|put|pass|hand|forward|switch|route|send)\s+(?:me|us|this|it|my case)\s+"
        rf"(?:through\s+|over\s+|on\s+)?(?:to|with)\s+{_DETERMINER}{_QUALIFIER}{_NOUN}\b",
        r"\b(?:get|find|bring)\s+me\s+(?:in\s+)?" + _DETERMINER + _QUALIFIER + _NOUN + r"\b",
        r"\b(?:get|bring\s+in)\s+(?:a|an|some)\s+(?:real\s+|live\s+|actual\s+)?(?:human|representative|operator)\b",
        # I want / need / would like a human; "person", "agent", "someone" only when qualified as real
        # ("I need a person detection model", "an agent on the instance" are not requests)
        r"\b(?:want|need|like|prefer|request|demand)(?:s|ed)?\s+(?:to\s+have\s+)?(?:a|an|the|some|your)\s+"
        + _QUALIFIER
        + r"(?:human|representative|operator|manager|supervisor)\b",
        r"\b(?:want|need|like|prefer|request|demand)(?:s|ed)?\s+(?:to\s+have\s+)?(?:(?:a|an|the|some)\s+)?"
        r"(?:real|actual|live|human|support)\s+(?:person|people|agent|someone|somebody|engineer|expert)\b",
        # is there a human I can talk to? can a human look at this?
        r"\b(?:human|person|agent|representative|someone|somebody|anyone|anybody)\s+(?:i|we)\s+"
        r"(?:can|could|may)\s+(?:talk|speak|chat)\b",
        r"\b(?:can|could|would)\s+(?:a|an|any|some)\s+(?:real\s+|actual\s+|live\s+)?"
        r"(?:human|representative|support engineer|aws engineer)\b",
        # real person, live agent, human agent, someone real, human being
        r"\b(?:real|actual|live)\s+(?:human|person|people|agent|representative|operator|support person)\b",
        r"\bhuman\s+(?:being|agent|support|help|assistance|representative|operator|contact)\b",
        r"\b(?:someone|somebody|anyone|anybody)\s+(?:real|human|from\s+(?:aws|amazon|support|your\s+team))\b",
        r"\b(?:customer service|customer support)\s+(?:representative|agent|person|rep)\b",
        r"\brepresentative\b(?!\s+(?:sample|samples|data|dataset|datasets|subset|baseline|example|examples|set"
        r"|of|selection|distribution|workload|traffic))",
        r"\b(?:your|a)\s+(?:manager|supervisor)\b",
        # escalate (this|my case), escalation
        r"\bescalat(?:e|es|ed|ing|ion)\b",
        # call me (back), phone me, give me a call
        r"\b(?:call|phone|ring)\s+me\b",
        r"\bgive\s+me\s+a\s+(?:call|ring)\b",
        r"\b(?:contact|reach)\s+(?:aws\s+|amazon\s+|technical\s+|tech\s+)?support\b",
        r"\b(?:open|file|create|raise)\s+a\s+(?:support\s+)?(?:ticket|case)\b",
        # a single word: "human", "agent please", "representative!!"
        r"^\W*(?:human|agent|representative|operator|person|manager)s?(?:\s+(?:please|pls|now))?\W*$",
    )
)
NOT_A_BOT_PATTERN = re.compile(
    r"\b(?:don't|do not|dont|no longer)\s+want\s+(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?"
    r"(?:(?:a|the|this|your|any)\s+)?(?:bot|robot|chatbot|machine|ai|computer)\b"
    r"|\bno more (?:bots|robots|chatbots|machines)\b"
)
_NEGATION = re.compile(
    r"\b(?:don't|dont|do not|does not|doesn't|did not|didn't|no need|not|never|no|without|won't|will not"
    r"|wouldn't|would not|needn't|need not|rather not|instead of|stop)\b"
)
_NEGATION_REACH = 3
"""Words before a request that a negation is looked for in (within the same clause)."""
_CLAUSE_BREAK = re.compile(r"[^\w\s']|\b(?:but|however|so|then|just|and)\b")
"""Punctuation (but the apostrophe of "don't") and linking words end the reach of a negation."""

_THAT = (
    r"(?:that|this|it|the (?:answer|link)"
    r"|your (?:answer|reply|response|suggestion|solution|advice|link)s?)"
)
BOT_COMPLAINT_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        rf"\b{_THAT}\s+(?:didn't|did not|doesn't|does not|won't|will not|isn't going to)\s+"
        r"(?:help|work|answer|fix|solve|address|apply)\b",
        r"\b(?:didn't|did not|doesn't|does not|does nothing to)\s+"
        r"(?:help|answer my question|fix (?:it|anything))",
        rf"\b{_THAT}(?:'s|\s+is|\s+was)\s+(?:wrong|incorrect|not (?:right|correct|true|it|helpful|relevant"
        r"|what i (?:asked|meant|wanted|need(?:ed)?))|irrelevant|unhelpful|useless|nonsense|outdated)\b",
        r"\b(?:you're|you are)\s+(?:wrong|mistaken|not (?:listening|understanding|helping|helpful))\b",
        r"\b(?:wrong|incorrect|useless|unhelpful|irrelevant)\s+(?:answer|reply|response|link|information)\b",
        r"\bnot what i (?:asked|meant|wanted|need(?:ed)?|was asking)\b",
        r"\b(?:you (?:didn't|did not|don't|do not|haven't|have not)"
        r"|that (?:doesn't|does not|didn't|did not))\s+"
        r"(?:answer|address|understand|read)\s+(?:my|the)\s+question\b",
        r"\b(?:answer|read)\s+my\s+question\b",
        r"\b(?:not|isn't|wasn't)\s+(?:helpful|useful|relevant)\b",
        r"\byou (?:already|just) (?:said|told me|gave me) (?:that|this)\b",
        r"\byou keep (?:saying|repeating|giving|sending|telling)\b",
        r"\bsame (?:answer|reply|response|thing|link) (?:again|as before)\b",
        r"\bi (?:already|have already|just) (?:tried|did|done|read|followed) (?:that|this|it|those|these)\b",
        r"\bstill (?:doesn't|does not|isn't|is not|not) (?:work|working|help|helping|fixed|solved)\b",
        r"\bstill (?:the same|getting the same|have the same|has the same|seeing the same)\b",
        r"\b(?:that|this|it) (?:makes|made) no sense\b",
        r"\byou (?:misunderstood|misread|got it wrong)\b",
    )
)

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})


def matching_text(text: str) -> str:
    """The form patterns are matched against: NFKC, Latin letters, no invisibles, lower case, plain quotes."""
    text = to_latin(unicodedata.normalize("NFKC", text))
    text = "".join(character for character in text if unicodedata.category(character) != "Cf")
    return " ".join(text.translate(_APOSTROPHES).casefold().split())


def _negated(text: str, start: int) -> bool:
    clause = _CLAUSE_BREAK.split(text[:start])[-1]
    reach = " ".join(clause.split()[-_NEGATION_REACH:])
    return _NEGATION.search(reach) is not None


def find_human_request(text: str) -> str | None:
    """The words asking for a person, or None. Negated requests ("don't escalate") do not count."""
    normalised = matching_text(text)
    wants_no_bot = NOT_A_BOT_PATTERN.search(normalised)
    if wants_no_bot:
        return wants_no_bot.group(0)
    for pattern in HUMAN_REQUEST_PATTERNS:
        for match in pattern.finditer(normalised):
            if not _negated(normalised, match.start()):
                return match.group(0)
    return None


def find_bot_complaint(text: str) -> str | None:
    """The words saying the bot's last answer did not help, or None."""
    normalised = matching_text(text)
    for pattern in BOT_COMPLAINT_PATTERNS:
        match = pattern.search(normalised)
        if match:
            return match.group(0)
    return None


class FailureKind(StrEnum):
    COMPLAINT = "complaint"
    REPEAT = "repeat"


class BotFailure(BaseModel):
    """A customer turn showing that the bot's previous answer did not help."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    turn: int = Field(ge=1, description="Index among the customer's messages (0 is the first).")
    kind: FailureKind
    evidence: str = Field(description="The complaint's words, or the similarity to the repeated message.")


class TurnSignals(BaseModel):
    """Everything the escalation decision looks at, for one customer turn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sentiment: Sentiment | None = Field(
        None, description="The judged sentiment; None if it could not be judged."
    )
    human_request: str | None = Field(None, description="The customer's words asking for a person.")
    failures: tuple[BotFailure, ...] = Field((), description="Turns so far where the bot did not help.")
    chain_error: str | None = Field(None, description="What went wrong when the chain failed this turn.")
    timed_out: bool = Field(False, description="The turn ran past its time limit.")


def bot_failures(
    customer_messages: Sequence[str], vectors: Vectors | None, repeat_similarity_threshold: float
) -> list[BotFailure]:
    """Failures over the whole conversation: each customer message after the first is checked.

    ``vectors`` holds one L2-normalised embedding per message (None skips repeat detection).
    """
    if vectors is not None and len(vectors) != len(customer_messages):
        raise ValueError(f"{len(customer_messages)} messages but {len(vectors)} vectors")
    failures: list[BotFailure] = []
    for turn in range(1, len(customer_messages)):
        complaint = find_bot_complaint(customer_messages[turn])
        if complaint is not None:
            failures.append(BotFailure(turn=turn, kind=FailureKind.COMPLAINT, evidence=complaint))
            continue
        if vectors is None:
            continue
        similarities = vectors[:turn] @ vectors[turn]
        closest = int(np.argmax(similarities))
        if similarities[closest] >= repeat_similarity_threshold:
            failures.append(
                BotFailure(
                    turn=turn,
                    kind=FailureKind.REPEAT,
                    evidence=f"cosine {float(similarities[closest]):.2f} with customer message {closest}",
                )
            )
    return failures


class SignalReader:
    """Reads :class:`TurnSignals` for a turn; embeds the customer's messages for repeat detection.

    Pass an embedder that remembers vectors (:class:`chatbot.chain.embedding_cache.CachedEmbedder`) so
    that earlier messages are not embedded again on every turn.
    """

    def __init__(self, embedder: Embedder | None, repeat_similarity_threshold: float) -> None:
        self._embedder = embedder
        self._repeat_similarity_threshold = repeat_similarity_threshold

    def read(
        self,
        message: str,
        previous_customer_messages: Sequence[str],
        sentiment: Sentiment | None,
        *,
        chain_error: str | None = None,
        timed_out: bool = False,
    ) -> TurnSignals:
        messages = [*previous_customer_messages, message]
        vectors = None
        if self._embedder is not None and len(messages) > 1:
            # Each message alone, as it was (or will be) embedded on its own turn: with a CachedEmbedder
            # only the new message costs anything, and vectors do not depend on batch composition.
            vectors = np.vstack([self._embedder.embed_documents([text]) for text in messages])
        return TurnSignals(
            sentiment=sentiment,
            human_request=find_human_request(message),
            failures=tuple(bot_failures(messages, vectors, self._repeat_similarity_threshold)),
            chain_error=chain_error,
            timed_out=timed_out,
        )
