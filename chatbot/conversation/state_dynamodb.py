"""Conversation state in one DynamoDB table (AWS, or the moto server locally).

Layout (string keys ``pk``/``sk``)::

    pk = CONV#<conversation_id>  sk = STATE               body (JSON of ConversationState), version, status,
                                                          owner, escalation_number; while open also
                                                          open_case = "OPEN" and escalated_at (GSI keys)
    pk = CONV#<conversation_id>  sk = MSG#<seq, 12 digits> body (JSON of LiveMessage), seq, turn_id
    pk = CONV#<conversation_id>  sk = TURN#<turn_id>       seq (makes append_message idempotent)

GSI ``open-cases``: partition ``open_case``, sort ``escalated_at``, projection ALL. It is sparse: only
waiting or expert-owned conversations carry ``open_case``, so :meth:`open_cases` reads just those.

State changes are optimistic: read (consistent), decide with :mod:`state_transitions`, put on condition
that ``version`` is unchanged, and on a lost race read again. A message and its turn marker are written in
one transaction on condition that neither exists, so seqs are unique, gapless and retries return the same
message.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from chatbot.aws import error_code
from chatbot.conversation import state_transitions as rules
from chatbot.conversation.state import (
    OPEN_STATUSES,
    ConversationNotFoundError,
    ConversationState,
    LiveMessage,
    StateStoreError,
)
from chatbot.conversation.transcript import Role

log = structlog.get_logger(__name__)

STATE_SK = "STATE"
MESSAGE_PREFIX = "MSG#"
TURN_PREFIX = "TURN#"
SEQ_DIGITS = 12
OPEN_CASES_INDEX = "open-cases"
OPEN_CASE_MARKER = "OPEN"
MAX_ATTEMPTS = 60


def table_definition(table_name: str) -> dict[str, Any]:
    """``create_table`` arguments; the CloudFormation template declares the same table."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "open_case", "AttributeType": "S"},
            {"AttributeName": "escalated_at", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": OPEN_CASES_INDEX,
                "KeySchema": [
                    {"AttributeName": "open_case", "KeyType": "HASH"},
                    {"AttributeName": "escalated_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def create_state_table(dynamodb_client: Any, table_name: str) -> None:
    """Create the table (local stack, tests) and wait until it is active; an existing table is kept."""
    try:
        dynamodb_client.create_table(**table_definition(table_name))
    except ClientError as error:
        if error_code(error) != "ResourceInUseException":
            raise
    dynamodb_client.get_waiter("table_exists").wait(TableName=table_name)


class _MessageNotVisibleYetError(Exception):
    """A turn marker whose message is not readable yet."""


def _pk(conversation_id: str) -> dict[str, str]:
    return {"S": f"CONV#{conversation_id}"}


def _message_sk(seq: int) -> str:
    return f"{MESSAGE_PREFIX}{seq:0{SEQ_DIGITS}d}"


def _backoff(attempt: int) -> None:
    # spreads racing writers apart; tiny because a lost race means the winner already wrote
    time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.1)))  # noqa: S311 - jitter, not security


class DynamoDbStateStore(rules.TransitionStore):
    def __init__(self, dynamodb_client: Any, table_name: str) -> None:
        self._dynamodb = dynamodb_client
        self._table = table_name

    @property
    def table_name(self) -> str:
        return self._table

    # --- plumbing ---------------------------------------------------------------------------

    def _call(self, operation: str, **arguments: Any) -> Any:
        """Run one DynamoDB call; failures other than lost conditions become :class:`StateStoreError`."""
        try:
            return getattr(self._dynamodb, operation)(**arguments)
        except ClientError as error:
            if error_code(error) in {"ConditionalCheckFailedException", "TransactionCanceledException"}:
                raise
            raise StateStoreError(f"DynamoDB {operation} on {self._table} failed: {error}") from error
        except BotoCoreError as error:
            raise StateStoreError(f"DynamoDB {operation} on {self._table} failed: {error}") from error

    def _state_item(self, conversation_id: str) -> dict[str, Any] | None:
        response = self._call(
            "get_item",
            TableName=self._table,
            Key={"pk": _pk(conversation_id), "sk": {"S": STATE_SK}},
            ConsistentRead=True,
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    @staticmethod
    def _encode_state(state: ConversationState) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": _pk(state.conversation_id),
            "sk": {"S": STATE_SK},
            "body": {"S": state.model_dump_json()},
            "version": {"N": str(state.version)},
            "status": {"S": state.status.value},
            "escalation_number": {"N": str(state.escalation_number)},
            "workflow_stage": {"S": state.workflow_stage.value},
        }
        if state.owner:
            item["owner"] = {"S": state.owner}
        if state.status in OPEN_STATUSES and state.escalated_at is not None:
            item["open_case"] = {"S": OPEN_CASE_MARKER}
            item["escalated_at"] = {"S": rules.sortable_timestamp(state.escalated_at)}
        return item

    def _apply(
        self, conversation_id: str, transition: rules.Transition, *, create: bool = False
    ) -> ConversationState:
        for attempt in range(MAX_ATTEMPTS):
            item = self._state_item(conversation_id)
            if item is None:
                if not create:
                    raise ConversationNotFoundError(f"no conversation state for {conversation_id}")
                current = rules.new_state(conversation_id)
                condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
            else:
                current = ConversationState.model_validate_json(item["body"]["S"])
                condition = {
                    "ConditionExpression": "version = :version",
                    "ExpressionAttributeValues": {":version": {"N": str(current.version)}},
                }
            changed = transition(current)
            if changed is current:
                return current
            written = rules.stamped(changed, current.version)
            try:
                self._call("put_item", TableName=self._table, Item=self._encode_state(written), **condition)
            except ClientError:  # someone else wrote first: decide again on what they wrote
                _backoff(attempt)
                continue
            log.info(
                "state.changed",
                conversation_id=conversation_id,
                status=written.status.value,
                stage=written.workflow_stage.value,
                owner=written.owner,
                version=written.version,
            )
            return written
        raise StateStoreError(f"conversation {conversation_id}: gave up after {MAX_ATTEMPTS} write conflicts")

    def _message_of_turn(self, conversation_id: str, turn_id: str) -> LiveMessage | None:
        marker = self._call(
            "get_item",
            TableName=self._table,
            Key={"pk": _pk(conversation_id), "sk": {"S": f"{TURN_PREFIX}{turn_id}"}},
            ConsistentRead=True,
        ).get("Item")
        if marker is None:
            return None
        stored = self._call(
            "get_item",
            TableName=self._table,
            Key={"pk": _pk(conversation_id), "sk": {"S": _message_sk(int(marker["seq"]["N"]))}},
            ConsistentRead=True,
        ).get("Item")
        if stored is None:
            # both items commit together in DynamoDB; moto writes them one after the other
            raise _MessageNotVisibleYetError(turn_id)
        return LiveMessage.model_validate_json(stored["body"]["S"])

    def _last_seq(self, conversation_id: str) -> int:
        response = self._call(
            "query",
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": _pk(conversation_id), ":prefix": {"S": MESSAGE_PREFIX}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response.get("Items", [])
        return int(items[0]["seq"]["N"]) if items else 0

    def _pages(self, operation: str, **arguments: Any) -> Iterator[dict[str, Any]]:
        while True:
            response = self._call(operation, **arguments)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # --- ConversationStateStore -------------------------------------------------------------

    def get(self, conversation_id: str) -> ConversationState | None:
        item = self._state_item(conversation_id)
        return None if item is None else ConversationState.model_validate_json(item["body"]["S"])

    def open_cases(self) -> list[ConversationState]:
        items = self._pages(
            "query",
            TableName=self._table,
            IndexName=OPEN_CASES_INDEX,
            KeyConditionExpression="open_case = :open",
            ExpressionAttributeValues={":open": {"S": OPEN_CASE_MARKER}},
        )
        states = [ConversationState.model_validate_json(item["body"]["S"]) for item in items]
        # the index is eventually consistent: drop anything it still lists after the case closed
        return [state for state in states if state.status in OPEN_STATUSES]

    def append_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        turn_id: str,
        author: str | None = None,
        withheld: bool = False,
    ) -> LiveMessage:
        for attempt in range(MAX_ATTEMPTS):
            try:
                existing = self._message_of_turn(conversation_id, turn_id)
            except _MessageNotVisibleYetError:
                _backoff(attempt)
                continue
            if existing is not None:
                return existing
            message = LiveMessage(
                conversation_id=conversation_id,
                seq=self._last_seq(conversation_id) + 1,
                role=role,
                author=author,
                text=text,
                turn_id=turn_id,
                withheld=withheld,
            )
            seq = {"N": str(message.seq)}
            try:
                self._call(
                    "transact_write_items",
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": {
                                    "pk": _pk(conversation_id),
                                    "sk": {"S": _message_sk(message.seq)},
                                    "body": {"S": message.model_dump_json()},
                                    "seq": seq,
                                    "turn_id": {"S": turn_id},
                                },
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": {
                                    "pk": _pk(conversation_id),
                                    "sk": {"S": f"{TURN_PREFIX}{turn_id}"},
                                    "seq": seq,
                                },
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ],
                )
            except ClientError as error:  # the seq or the turn was taken meanwhile: look again
                log.debug("state.append_conflict", conversation_id=conversation_id, reasons=_reasons(error))
                _backoff(attempt)
                continue
            return message
        raise StateStoreError(f"conversation {conversation_id}: no append after {MAX_ATTEMPTS} conflicts")

    def messages_after(self, conversation_id: str, seq: int) -> list[LiveMessage]:
        items = self._pages(
            "query",
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": _pk(conversation_id),
                ":first": {"S": _message_sk(max(seq, 0) + 1)},
                ":last": {"S": _message_sk(10**SEQ_DIGITS - 1)},
            },
            ConsistentRead=True,
        )
        return [LiveMessage.model_validate_json(item["body"]["S"]) for item in items]


def _reasons(error: ClientError) -> str:
    reasons = error.response.get("CancellationReasons") or []
    return json.dumps([reason.get("Code") for reason in reasons])
