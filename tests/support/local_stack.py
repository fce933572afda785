"""The local stack (its own moto server, SMTP server and event pump, no Streamlit apps), run for one test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from chatbot.aws import client
from chatbot.config import load_settings
from infra.local.ports import free_port
from infra.local.stack import LocalStack
from lambdas.trigger_workflow import handler as trigger_handler
from tests.local.sqs_helpers import unique


def stop_running_executions(stack: LocalStack) -> None:
    """An execution waits minutes for an expert; moto would keep running it after the test."""
    if stack.moto is None or stack.resources is None:
        return
    stepfunctions = client("stepfunctions", stack.settings)
    running = stepfunctions.list_executions(
        stateMachineArn=stack.resources.state_machine_arn, statusFilter="RUNNING"
    )["executions"]
    for execution in running:
        stepfunctions.stop_execution(executionArn=execution["executionArn"])


@contextmanager
def running_local_stack(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, name_prefix: str, *, stop_executions: bool = False
) -> Iterator[LocalStack]:
    """A started stack named ``name_prefix-<random>`` over ``data_dir``; its CHATBOT_* variables are set.

    On exit: the running executions are stopped first when ``stop_executions``, then the stack; the
    in-process triggerWorkflow's cached runtime is cleared on entry and exit.
    """
    # the stack's moto server sets MOTO_PORT (where moto's state machines call SNS); the session server's
    # must come back afterwards, or later executions on it publish to this stopped server
    monkeypatch.setenv("MOTO_PORT", os.environ.get("MOTO_PORT", ""))
    name = unique(name_prefix)
    settings = load_settings(
        data_dir=data_dir,
        local_aws_port=0,
        smtp_port=free_port(),
        transcript_bucket=f"{name}-transcripts",
        state_table=f"{name}-state",
    )
    stack = LocalStack(settings, with_apps=False, stack_name=name).start()
    for variable, value in stack.child_environment().items():
        if variable.startswith("CHATBOT_"):  # what the in-process triggerWorkflow reads, as in Lambda
            monkeypatch.setenv(variable, value)
    trigger_handler._runtime.cache_clear()
    try:
        yield stack
    finally:
        if stop_executions:
            stop_running_executions(stack)
        stack.stop()
        trigger_handler._runtime.cache_clear()
