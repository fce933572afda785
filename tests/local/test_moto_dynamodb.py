"""The local moto server keeps DynamoDB's promise: a failed transaction takes no one else's write with it."""

from __future__ import annotations

import functools
import uuid

from botocore.exceptions import ClientError

from chatbot.aws import client, error_code
from chatbot.config import Settings
from tests.support.concurrency import run_at_once

FILLER_ITEMS = 2000


def test_failed_transactions_never_undo_concurrent_writes(settings: Settings) -> None:
    dynamodb = client("dynamodb", settings)
    table = f"isolation-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "taken"}})
    for batch in range(0, FILLER_ITEMS, 25):  # a table worth copying: moto copies it for each transaction
        dynamodb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"pk": {"S": f"filler-{n}"}, "body": {"S": "x" * 200}}}}
                    for n in range(batch, batch + 25)
                ]
            }
        )
    writers, writes_each = 4, 15

    def write(writer: int) -> None:
        for index in range(writes_each):
            dynamodb.put_item(TableName=table, Item={"pk": {"S": f"w{writer}-{index}"}})

    def lose_races() -> None:  # transactions that always fail their condition, so moto rolls them back
        for _ in range(writes_each):
            try:
                dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": table,
                                "Item": {"pk": {"S": "taken"}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        }
                    ]
                )
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise

    calls = [functools.partial(write, writer) for writer in range(writers)]
    unexpected = run_at_once([*calls, *[lose_races] * writers])

    stored: set[str] = set()
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        stored.update(item["pk"]["S"] for item in page["Items"])
    assert unexpected == []
    expected = {f"w{writer}-{index}" for writer in range(writers) for index in range(writes_each)}
    assert expected - stored == set()  # every write survived the rollbacks
    dynamodb.delete_table(TableName=table)
