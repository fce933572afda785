"""``s3://bucket/key`` locations, and reading a manifest from a local path or S3 alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

S3_SCHEME = "s3://"


class S3Location(NamedTuple):
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.key}"


def is_s3_uri(location: str) -> bool:
    return location.startswith(S3_SCHEME)


def parse_s3_uri(uri: str) -> S3Location:
    """Split ``s3://bucket/key``; a URI without a bucket or a key raises :class:`ValueError`."""
    if not is_s3_uri(uri):
        raise ValueError(f"not an S3 URI (expected s3://bucket/key): {uri!r}")
    bucket, _, key = uri[len(S3_SCHEME) :].partition("/")
    if not bucket or not key:
        raise ValueError(f"S3 URI needs a bucket and a key: {uri!r}")
    return S3Location(bucket, key)


def parse_s3_prefix(uri: str) -> S3Location:
    """Split ``s3://bucket/prefix/``: the key is a prefix, empty at the bucket's root and otherwise ending
    in ``/`` (one is added). A URI without a bucket raises :class:`ValueError`."""
    if not is_s3_uri(uri):
        raise ValueError(f"not an S3 URI (expected s3://bucket/prefix/): {uri!r}")
    bucket, _, prefix = uri[len(S3_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"S3 URI needs a bucket: {uri!r}")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return S3Location(bucket, prefix)


def read_s3_text(s3: Any, uri: str) -> str:
    location = parse_s3_uri(uri)
    response = s3.get_object(Bucket=location.bucket, Key=location.key)
    body: bytes = response["Body"].read()
    return body.decode("utf-8")


def read_text(location: str, s3: Any | None = None) -> str:
    """The text of a local file, or of an S3 object when ``location`` is an ``s3://`` URI (needs ``s3``)."""
    if is_s3_uri(location):
        if s3 is None:
            raise ValueError(f"reading {location} needs an S3 client")
        return read_s3_text(s3, location)
    return Path(location).read_text(encoding="utf-8")
