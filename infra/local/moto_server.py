"""A moto server on loopback that serves S3, Step Functions (executing state machines), SNS, SQS, DynamoDB.

moto's state-machine interpreter calls the other services at ``localhost:$MOTO_PORT``, so the port is
exported into this process's environment before the server starts.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

import structlog
from moto.server import ThreadedMotoServer

from infra.local.ports import free_port, wait_for_port

log = structlog.get_logger(__name__)

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}}


@dataclass
class MotoServer:
    host: str
    port: int
    _server: ThreadedMotoServer
    _previous_moto_port: str | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.stop()
        # state machines of servers still running in this process call back on their own port
        if os.environ.get("MOTO_PORT") == str(self.port):
            if self._previous_moto_port is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = self._previous_moto_port
        log.info("moto.stopped", endpoint=self.endpoint_url)


def configure_moto(endpoint_url: str) -> None:
    """Turn on state-machine execution (moto only records executions otherwise)."""
    request = urllib.request.Request(  # noqa: S310 - a loopback URL we built
        f"{endpoint_url}/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL we built
        response.read()


def _run_under_lock(
    backend: type, method_names: tuple[str, ...], lock: threading.Lock | threading.RLock
) -> None:
    """Replace each named method of a moto backend class with one that holds ``lock`` while it runs."""

    def locked(original: Any) -> Any:
        @functools.wraps(original)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return call

    for name in method_names:
        setattr(backend, name, locked(getattr(backend, name)))


@functools.cache  # patch once per process
def _serialise_execution_starts() -> None:
    """moto checks for an existing execution name and then appends, unlocked; AWS makes names atomic.

    Serialising starts gives the local stack the guarantee AWS gives: one execution per name.
    """
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    _run_under_lock(StepFunctionsParserBackend, ("start_execution",), threading.Lock())


# Every DynamoDB backend call that reads or writes items; the transactional ones call the others.
DYNAMODB_ITEM_CALLS = (
    "put_item",
    "get_item",
    "query",
    "scan",
    "update_item",
    "delete_item",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)


@functools.cache  # patch once per process
def _isolate_dynamodb_calls() -> None:
    """moto rolls a failed transaction back by restoring a copy of the table taken when it began.

    Under concurrent requests that wiped writes other requests had made meanwhile (a conditional append
    that lost its race took a winner's message with it), and copying a table while another request
    changed it failed with "dictionary changed size during iteration". DynamoDB applies each call
    atomically; one lock around moto's item calls gives the local stack that guarantee.
    """
    from moto.dynamodb.models import DynamoDBBackend

    # reentrant: transact_write_items calls put_item and the others
    _run_under_lock(DynamoDBBackend, DYNAMODB_ITEM_CALLS, threading.RLock())


@functools.cache  # patch once per process
def _keep_early_task_answers() -> None:
    """moto sets up a task's heartbeat after publishing its token; an answer arriving in between was lost.

    Its wait loop only looked at the outcome after a heartbeat, so an expert who answered within
    milliseconds of the notification was taken for a heartbeat timeout minutes later. AWS has no such gap.
    The loop below is moto's own, reading the outcome before the first wait.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimedOut

    StateTaskServiceCallback = state_task_service_callback.StateTaskServiceCallback  # noqa: N806 - a class

    def wait_for_task_token_heartbeat(
        self: Any, env: Any, callback_endpoint: Any, heartbeat_endpoint: Any
    ) -> Any:
        outcome = callback_endpoint.get_outcome()
        while env.is_running() and outcome is None:
            received = heartbeat_endpoint.clear_and_wait()
            if not received and env.is_running():
                outcome = HeartbeatTimedOut()
            else:
                outcome = callback_endpoint.get_outcome()
        return outcome

    StateTaskServiceCallback._wait_for_task_token_heartbeat = wait_for_task_token_heartbeat  # type: ignore[method-assign]


def start_moto_server(host: str = "127.0.0.1", port: int | None = None) -> MotoServer:
    chosen_port = port or free_port(host)
    # werkzeug logs every request moto serves; the local stack makes several a second
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    previous_moto_port = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(chosen_port)
    _serialise_execution_starts()
    _keep_early_task_answers()
    _isolate_dynamodb_calls()
    server = ThreadedMotoServer(ip_address=host, port=chosen_port, verbose=False)
    server.start()
    wait_for_port(host, chosen_port)
    handle = MotoServer(host=host, port=chosen_port, _server=server, _previous_moto_port=previous_moto_port)
    configure_moto(handle.endpoint_url)
    log.info("moto.started", endpoint=handle.endpoint_url)
    return handle
