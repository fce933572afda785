"""Event shapes of the case-events Lambda, mirroring AWS's JSON (camelCase kept through aliases).

* :class:`SqsEvent` is what an SQS event source mapping hands to Lambda;
* :class:`SnsEnvelope` is the JSON body SNS puts in a queue subscribed without raw delivery;
* :class:`ExpertNotice` is the expert notification read from either, :class:`CaseEvent` the workflow's own
  messages (``workflows/escalation/events.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chatbot.conversation.ids import CONVERSATION_ID_PATTERN


class AwsShape(BaseModel):
    # AWS adds fields over time; an unknown one must not reject a real event
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class SqsMessageAttribute(AwsShape):
    data_type: str = Field(alias="dataType")
    string_value: str | None = Field(None, alias="stringValue")
    binary_value: str | None = Field(None, alias="binaryValue")
    string_list_values: list[str] = Field(default_factory=list, alias="stringListValues")
    binary_list_values: list[str] = Field(default_factory=list, alias="binaryListValues")


class SqsRecord(AwsShape):
    message_id: str = Field(alias="messageId", min_length=1)
    receipt_handle: str = Field(alias="receiptHandle")
    body: str
    attributes: dict[str, str] = Field(default_factory=dict)
    message_attributes: dict[str, SqsMessageAttribute] = Field(
        default_factory=dict, alias="messageAttributes"
    )
    md5_of_body: str | None = Field(None, alias="md5OfBody")
    event_source: Literal["aws:sqs"] = Field("aws:sqs", alias="eventSource")
    event_source_arn: str | None = Field(None, alias="eventSourceARN")
    aws_region: str | None = Field(None, alias="awsRegion")

    def attribute_text(self, name: str) -> str | None:
        attribute = self.message_attributes.get(name)
        return None if attribute is None else attribute.string_value


class SqsEvent(AwsShape):
    records: list[SqsRecord] = Field(alias="Records")


class SnsMessageAttribute(AwsShape):
    type: str = Field(alias="Type")
    value: str = Field(alias="Value")


class SnsEnvelope(AwsShape):
    type: Literal["Notification"] = Field(alias="Type")
    message_id: str = Field(alias="MessageId")
    topic_arn: str = Field(alias="TopicArn")
    subject: str | None = Field(None, alias="Subject")
    message: str = Field(alias="Message")
    timestamp: datetime = Field(alias="Timestamp")
    message_attributes: dict[str, SnsMessageAttribute] = Field(
        default_factory=dict, alias="MessageAttributes"
    )

    def attribute_texts(self) -> dict[str, str]:
        return {name: attribute.value for name, attribute in self.message_attributes.items()}


class ExpertNotice(BaseModel):
    """An expert notification of the workflow: the tier was emailed and ``task_token`` waits for an answer."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    conversation_id: str = Field(pattern=CONVERSATION_ID_PATTERN.pattern)
    escalation_number: int = Field(ge=1)
    tier: int = Field(ge=1)
    task_token: str = Field(min_length=1)
    subject: str | None = None
    message: str = ""
    topic_arn: str | None = None


class BatchItemFailure(AwsShape):
    item_identifier: str = Field(alias="itemIdentifier")


class SqsBatchResponse(AwsShape):
    """Partial batch response: only these messages go back to the queue (``ReportBatchItemFailures``)."""

    batch_item_failures: list[BatchItemFailure] = Field(default_factory=list, alias="batchItemFailures")

    def as_lambda_result(self) -> dict[str, list[dict[str, str]]]:
        return self.model_dump(by_alias=True)
