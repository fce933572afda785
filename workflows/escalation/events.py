"""What the escalation workflow tells the rest of the system, on the wire.

Two kinds of messages reach the case-events SQS queue:

* the **expert notification**, published by the state machine to an experts topic with
  ``sns:publish.waitForTaskToken``; the queue is subscribed to the topics, so it receives SNS's JSON envelope
  whose ``MessageAttributes`` carry :data:`NOTIFICATION_ATTRIBUTES` (the email subscribers receive only the
  ``Message`` text);
* a **case event**, sent by the state machine with ``sqs:sendMessage``: the body is a :class:`CaseEvent`.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# MessageAttributes of every expert notification (SNS publish), names as they appear on the wire
ATTR_CONVERSATION_ID = "conversation_id"
ATTR_ESCALATION_NUMBER = "escalation_number"
ATTR_TIER = "tier"
ATTR_TASK_TOKEN = "task_token"  # noqa: S105 - a message attribute name, not a secret
NOTIFICATION_ATTRIBUTES = (ATTR_CONVERSATION_ID, ATTR_ESCALATION_NUMBER, ATTR_TIER, ATTR_TASK_TOKEN)

# error name an expert's decline sends with SendTaskFailure
EXPERT_DECLINED_ERROR = "ExpertDeclined"


class CaseEventKind(StrEnum):
    ASSIGNED = "assigned"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    NO_EXPERT_AVAILABLE = "no_expert_available"
    FAILED = "failed"


class CaseEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: CaseEventKind
    conversation_id: str
    escalation_number: int = Field(ge=1)
    tier: int | None = Field(None, ge=1)
    expert: str | None = None
    detail: str = ""
