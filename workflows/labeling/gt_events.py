"""Ground Truth's custom-workflow Lambda events and responses, as documented (camelCase kept via aliases).

Pre-annotation request (one per data object)::

    {"version": "2018-10-16", "labelingJobArn": "arn:aws:sagemaker:...:labeling-job/<name>",
     "dataObject": {<the input manifest line>}}

and its response ``{"taskInput": {...}, "isHumanAnnotationRequired": true}``.

Post-annotation (consolidation) request (one per batch)::

    {"version": "2018-10-16", "labelingJobArn": ..., "labelCategories": [...], "labelAttributeName": ...,
     "roleArn": ..., "payload": {"s3Uri": "s3://<output>/<job>/annotations/consolidated-annotation/..."}}

where the payload file is a JSON list of :class:`AnnotatedObject`; the response is a list of
:class:`ConsolidationResult`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.labeling.gt_task import TaskInput
from workflows.labeling.manifest import METADATA_KEY, LabelingItem


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class DataObject(_Event):
    """One input manifest line as Ground Truth passes it: ``source`` or ``source-ref``, and our metadata."""

    source: str | None = None
    source_ref: str | None = Field(None, alias="source-ref")
    chatbot_metadata: LabelingItem | None = Field(None, alias=METADATA_KEY)

    @model_validator(mode="after")
    def _one_data_object(self) -> DataObject:
        if (self.source is None) == (self.source_ref is None):
            raise ValueError("dataObject needs exactly one of `source` and `source-ref`")
        return self


class PreAnnotationEvent(_Event):
    version: str
    labeling_job_arn: str = Field(alias="labelingJobArn")
    data_object: DataObject = Field(alias="dataObject")


class PreAnnotationResponse(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)

    task_input: TaskInput = Field(alias="taskInput")
    is_human_annotation_required: bool = Field(True, alias="isHumanAnnotationRequired")


class Payload(_Event):
    s3_uri: str = Field(alias="s3Uri")


class PostAnnotationEvent(_Event):
    version: str
    labeling_job_arn: str = Field(alias="labelingJobArn")
    label_categories: list[str] | None = Field(None, alias="labelCategories")
    label_attribute_name: str = Field(alias="labelAttributeName", min_length=1)
    role_arn: str | None = Field(None, alias="roleArn")
    payload: Payload


class AnnotationData(_Event):
    """A worker's answer: inline ``content`` (a JSON string), or an ``s3Uri`` holding it."""

    content: str | None = None
    s3_uri: str | None = Field(None, alias="s3Uri")

    @model_validator(mode="after")
    def _content_or_uri(self) -> AnnotationData:
        if self.content is None and self.s3_uri is None:
            raise ValueError("annotationData has neither `content` nor `s3Uri`")
        return self


class WorkerAnnotation(_Event):
    worker_id: str = Field(alias="workerId", min_length=1)
    annotation_data: AnnotationData = Field(alias="annotationData")


class PayloadDataObject(_Event):
    content: str | None = None
    s3_uri: str | None = Field(None, alias="s3Uri")


class AnnotatedObject(_Event):
    """One entry of the payload file. ``annotations`` stay raw here: each is checked on its own, so one
    malformed annotation cannot take the others down with it."""

    dataset_object_id: str = Field(alias="datasetObjectId")
    data_object: PayloadDataObject | None = Field(None, alias="dataObject")
    annotations: list[Any]


class ConsolidatedAnnotation(BaseModel):
    model_config = ConfigDict(frozen=True)

    content: dict[str, dict[str, Any]]


class ConsolidationResult(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)

    dataset_object_id: str = Field(alias="datasetObjectId")
    consolidated_annotation: ConsolidatedAnnotation = Field(alias="consolidatedAnnotation")
