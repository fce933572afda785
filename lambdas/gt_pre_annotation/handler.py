"""Ground Truth calls this once per data object before showing it to a worker; it returns ``taskInput``.

Inline lines (``source``) carry the item in ``chatbot-metadata``; ``source-ref`` lines point at an S3 object
holding the item as JSON, read with the function's role (it may read the manifests prefix only).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from chatbot.aws import client
from chatbot.errors import InvalidLambdaEventError
from lambdas import runtime
from workflows.labeling.gt_events import DataObject, PreAnnotationEvent, PreAnnotationResponse
from workflows.labeling.gt_task import task_input_for
from workflows.labeling.jsonl import describe_validation_error
from workflows.labeling.manifest import METADATA_KEY, LabelingItem
from workflows.labeling.s3uri import read_s3_text

log = structlog.get_logger(__name__)


def item_for(data_object: DataObject, s3: Any) -> LabelingItem:
    """The item to show: from the ``source-ref`` object when there is one, else from ``chatbot-metadata``."""
    if data_object.source_ref is not None:
        uri = data_object.source_ref
        try:
            text = read_s3_text(s3, uri)
        except (ClientError, BotoCoreError, ValueError) as error:
            raise InvalidLambdaEventError(f"cannot read source-ref {uri}: {error}") from error
        try:
            return LabelingItem.model_validate_json(text)
        except ValidationError as error:
            raise InvalidLambdaEventError(
                f"source-ref {uri} is not a labeling item: {describe_validation_error(error)}"
            ) from None
    if data_object.chatbot_metadata is None:
        raise InvalidLambdaEventError(f"dataObject has inline `source` but no `{METADATA_KEY}` to show")
    return data_object.chatbot_metadata


def pre_annotate(event: PreAnnotationEvent, s3: Any) -> PreAnnotationResponse:
    item = item_for(event.data_object, s3)
    log.info("labeling.task_prepared", labeling_job_arn=event.labeling_job_arn, item_id=item.item_id)
    return PreAnnotationResponse(task_input=task_input_for(item))


def parse_event(event: Any) -> PreAnnotationEvent:
    return runtime.parse_event(PreAnnotationEvent, event, "not a Ground Truth pre-annotation event")


@cache
def s3_client() -> Any:
    return client("s3", runtime.lambda_settings())


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = pre_annotate(parse_event(event), s3_client())
    return response.model_dump(mode="json")
