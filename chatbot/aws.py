"""boto3 clients built from settings: the moto server locally, real AWS otherwise; no branches elsewhere.

Also :func:`error_code`, the one way to read the code of a failed AWS call.
"""

from __future__ import annotations

import os
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from chatbot.config import Settings

_RETRIES = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=30)


def client(service: str, settings: Settings, **kwargs: Any) -> Any:
    """A boto3 client for ``service``; against the configured endpoint when one is set (moto locally)."""
    options: dict[str, Any] = {"region_name": settings.aws_region, "config": _RETRIES}
    if settings.aws_endpoint_url:
        options["endpoint_url"] = settings.aws_endpoint_url
        if not os.environ.get("AWS_ACCESS_KEY_ID"):
            # moto accepts any credentials; a laptop without an AWS profile must still work
            options["aws_access_key_id"] = "testing"
            options["aws_secret_access_key"] = "testing"  # noqa: S105 - moto's documented dummy value
    options.update(kwargs)
    import boto3  # here, not at the top: modules that only need error_code() do not pay for boto3

    make_client: Any = boto3.client  # the stubs' overloads need a literal service name
    return make_client(service, **options)


def error_code(error: ClientError) -> str:
    """The AWS error code of a failed call (``"NoSuchKey"``, ``"404"``...); ``""`` when it carries none."""
    return str(error.response.get("Error", {}).get("Code", ""))
