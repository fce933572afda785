"""Ground Truth calls this with a batch of workers' annotations; it returns one consolidated label per object.

The annotations are in the S3 file ``payload.s3Uri`` (under the job's output path, which is all the
function's role may read). A malformed annotation is logged and left out; the item keeps its valid ratings,
and an item with none is returned with an "unrated" label listing why, so it is reported, never dropped.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from chatbot.aws import client
from chatbot.errors import InvalidLambdaEventError, MalformedAnnotationError
from lambdas import runtime
from workflows.labeling.consolidation import AnnotationReader, consolidate_payload
from workflows.labeling.gt_events import ConsolidationResult, PostAnnotationEvent
from workflows.labeling.s3uri import read_s3_text

log = structlog.get_logger(__name__)


def read_payload(s3: Any, uri: str) -> Any:
    try:
        text = read_s3_text(s3, uri)
    except (ClientError, BotoCoreError, ValueError) as error:
        raise InvalidLambdaEventError(f"cannot read annotation payload {uri}: {error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidLambdaEventError(f"annotation payload {uri} is not JSON ({error.msg})") from None


def annotation_reader(s3: Any) -> AnnotationReader:
    """Reads annotations stored in S3; one that cannot be read is a malformed annotation, not a crash."""

    def read(uri: str) -> str:
        try:
            return read_s3_text(s3, uri)
        except (ClientError, BotoCoreError, ValueError) as error:
            raise MalformedAnnotationError(f"cannot read annotation {uri}: {error}") from error

    return read


def consolidate_event(event: PostAnnotationEvent, s3: Any) -> list[ConsolidationResult]:
    outcome = consolidate_payload(read_payload(s3, event.payload.s3_uri), annotation_reader(s3))
    log.info(
        "labeling.batch_consolidated",
        labeling_job_arn=event.labeling_job_arn,
        items=len(outcome.items),
        unrated=[item.dataset_object_id for item in outcome.unrated],
        rejected_annotations=sum(len(item.problems) for item in outcome.items if item.label is not None),
        unusable_entries=len(outcome.unusable),
    )
    return outcome.response(event.label_attribute_name)


def parse_event(event: Any) -> PostAnnotationEvent:
    return runtime.parse_event(PostAnnotationEvent, event, "not a Ground Truth post-annotation event")


@cache
def s3_client() -> Any:
    return client("s3", runtime.lambda_settings())


def lambda_handler(event: dict[str, Any], context: Any) -> list[dict[str, Any]]:
    results = consolidate_event(parse_event(event), s3_client())
    return [result.model_dump(mode="json") for result in results]
