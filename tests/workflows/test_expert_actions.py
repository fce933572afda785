"""Expert actions turn Step Functions' token errors into named errors.

moto never answers ``TaskTimedOut`` or ``TaskDoesNotExist`` (it only knows ``InvalidToken``, tested against
the real server in ``test_escalation_workflow.py``), so a botocore ``Stubber`` plays those answers here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.stub import Stubber

from chatbot.aws import client
from chatbot.config import load_settings
from workflows.escalation import expert_actions
from workflows.escalation.errors import (
    ExpertActionError,
    ExpertActionUnavailableError,
    InvalidTaskTokenError,
    TaskDoesNotExistError,
    TaskTimedOutError,
)
from workflows.escalation.events import EXPERT_DECLINED_ERROR


@pytest.mark.parametrize(
    ("code", "named"),
    [
        ("TaskTimedOut", TaskTimedOutError),
        ("TaskDoesNotExist", TaskDoesNotExistError),
        ("InvalidToken", InvalidTaskTokenError),
        ("ThrottlingException", ExpertActionUnavailableError),
        ("AccessDeniedException", ExpertActionError),
    ],
)
def test_token_errors_are_named(code: str, named: type[ExpertActionError], tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    stepfunctions = client("stepfunctions", settings)
    with Stubber(stepfunctions) as stub:
        stub.add_client_error("send_task_success", service_error_code=code)
        with pytest.raises(named) as raised:
            expert_actions.accept("token", "Ana", settings=settings, stepfunctions=stepfunctions)
    assert type(raised.value) is named
    assert code in str(raised.value)


def test_decline_sends_the_contract_error_and_a_readable_cause(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    stepfunctions = client("stepfunctions", settings)
    with Stubber(stepfunctions) as stub:
        stub.add_response(
            "send_task_failure",
            {},
            {"taskToken": "token", "error": EXPERT_DECLINED_ERROR, "cause": "Bo declined: in a meeting"},
        )
        expert_actions.decline(
            "token", "Bo", "  in a\nmeeting ", settings=settings, stepfunctions=stepfunctions
        )
        stub.assert_no_pending_responses()
    assert expert_actions.decline_cause("Bo", "") == "Bo declined: no reason given"
    assert len(expert_actions.decline_cause("Bo", "x" * 40_000)) == expert_actions.MAX_CAUSE_CHARS
