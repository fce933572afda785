"""The fake endpoint's event-stream framing, checked by botocore's own decoder."""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from tests.support.fake_bedrock import encode_event

HEADERS = {":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event"}
PAYLOAD = json.dumps({"contentBlockIndex": 0, "delta": {"text": "Hello"}}).encode()


def test_botocore_decodes_what_the_fake_encodes() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(encode_event(HEADERS, PAYLOAD) + encode_event(HEADERS, b"{}"))

    first, second = list(buffer)

    assert first.headers == HEADERS
    assert first.payload == PAYLOAD
    assert second.payload == b"{}"


def test_a_corrupted_byte_fails_the_message_checksum() -> None:
    message = bytearray(encode_event(HEADERS, PAYLOAD))
    message[-10] ^= 0xFF
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(message))

    with pytest.raises(ChecksumMismatch):
        list(buffer)
