"""Hand-written labeling items and manifests shared by the labeling, Lambda, UI and training tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from chatbot.aws import client
from chatbot.config import Settings
from workflows.labeling.gt_task import RATING_CATEGORIES
from workflows.labeling.manifest import METADATA_KEY, CitedSource, LabelingItem

LABELING_BUCKET = "support-chatbot-labeling"


class CachedClient(Protocol):
    """A Lambda's ``@cache``d client factory."""

    def cache_clear(self) -> None: ...


def ensure_labeling_bucket(settings: Settings) -> Any:
    """An S3 client for ``settings``, with LABELING_BUCKET created if it is missing."""
    s3 = client("s3", settings)
    if LABELING_BUCKET not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=LABELING_BUCKET)
    return s3


@contextmanager
def fresh_lambda_s3_clients(*cached_clients: CachedClient) -> Iterator[None]:
    """The Lambdas build their S3 client once per container; here the cache is cleared on entry and exit."""
    for cached in cached_clients:
        cached.cache_clear()
    try:
        yield
    finally:
        for cached in cached_clients:
            cached.cache_clear()


def sample_items() -> list[LabelingItem]:
    """Four answers; the first two answer the same question (worded differently), the third carries markup."""
    return [
        LabelingItem(
            item_id="20261120-3f9a1c2b7d4e:1",
            conversation_id="20261120-3f9a1c2b7d4e",
            turn_index=1,
            question="How do I stop a notebook instance?",
            answer="In the console choose Notebook instances, select it and choose Actions > Stop.",
            sources=[CitedSource(doc="nbi.md", title="Notebook instances", snippet="Choose Stop.")],
        ),
        LabelingItem(
            item_id="20261120-0a1b2c3d4e5f:3",
            conversation_id="20261120-0a1b2c3d4e5f",
            turn_index=3,
            question="  how do I STOP a notebook   instance ",
            answer="Notebook instances are ML compute instances running Jupyter.",
        ),
        LabelingItem(
            item_id="20261121-99aa88bb77cc:1",
            conversation_id="20261121-99aa88bb77cc",
            turn_index=1,
            question="What is <b>Ground Truth</b>?",
            answer='Ground Truth labels data.<script>alert("x")</script><img src=x onerror=alert(1)>',
            sources=[
                CitedSource(doc="sms.md", title="Ground Truth <i>", snippet="Use Ground Truth to label.")
            ],
        ),
        LabelingItem(
            item_id="20261121-1234567890ab:5",
            conversation_id="20261121-1234567890ab",
            turn_index=5,
            question="Which instance types have GPUs?",
            answer="Several do.",
        ),
    ]


def input_line(item: LabelingItem) -> dict[str, Any]:
    """An inline input manifest line as the exporter writes it."""
    return {
        "source": f"Question: {item.question}\nAnswer: {item.answer}",
        METADATA_KEY: item.model_dump(mode="json"),
    }


def write_input_manifest(path: Path, items: list[LabelingItem]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(input_line(item)) + "\n" for item in items), encoding="utf-8")
    return path


def worker_content(rating: int, comment: str | None = None) -> str:
    """A worker's crowd-form output for ``rating``, as Ground Truth passes it (a JSON string)."""
    answer: dict[str, Any] = {"relevance": {"label": RATING_CATEGORIES[rating - 1]}}
    if comment is not None:
        answer["comment"] = comment
    return json.dumps(answer)
