"""Lambda handlers the invoker tests run by import path, as the local stack runs ``triggerWorkflow``.

``put_event_in_s3`` is a real function against the moto server named by ``CHATBOT_AWS_ENDPOINT_URL`` (read
at call time, like a Lambda reads its environment): it fails while that server is down.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from chatbot.aws import client
from chatbot.config import load_settings
from chatbot.errors import InvalidLambdaEventError

EVENTS_BUCKET = "invoker-test-events"

calls: list[dict[str, Any]] = []
_calls_lock = threading.Lock()


def put_event_in_s3(event: dict[str, Any], context: Any) -> dict[str, str]:
    s3 = client("s3", load_settings())
    s3.create_bucket(Bucket=EVENTS_BUCKET)
    key = f"{event['conversation_id']}/{event['escalation_number']}.json"
    s3.put_object(
        Bucket=EVENTS_BUCKET, Key=key, Body=json.dumps({"event": event, "request": context.aws_request_id})
    )
    return {"key": key}


def record_call(event: dict[str, Any], context: Any) -> None:
    with _calls_lock:
        calls.append({"event": event, "function": context.function_name})


def reject_event(event: dict[str, Any], context: Any) -> None:
    raise InvalidLambdaEventError("this event is never valid")


def always_fail(event: dict[str, Any], context: Any) -> None:
    raise ConnectionError("downstream unreachable")
