"""A real HTTP server on loopback that speaks enough of the bedrock-runtime REST protocol for our tests.

Serves ``POST /model/{modelId}/converse``, ``/converse-stream`` (AWS event-stream binary framing: prelude,
headers, payload, CRC32s, so botocore's own parser decodes it) and ``/invoke`` (Titan Text Embeddings v2).
Every request is recorded; replies are scripted per test with :meth:`FakeBedrock.reply_with` and fall back
to a default text answer (or a deterministic embedding for ``invoke``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import threading
import uuid
from binascii import crc32
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

DEFAULT_ANSWER = (
    "SageMaker is a managed service for building, training and deploying machine learning models."
)
_PATH = re.compile(r"^/model/(?P<model_id>[^/]+)/(?P<operation>converse|converse-stream|invoke)$")


@dataclass(frozen=True)
class TextReply:
    """An assistant text answer; streamed as one delta per word."""

    text: str = DEFAULT_ANSWER


@dataclass(frozen=True)
class ToolUseReply:
    """The model calls tool ``name`` with ``arguments`` (structured output through tool use)."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ErrorReply:
    status: int = 500
    error_type: str = "InternalServerException"
    message: str = "scripted failure"


@dataclass(frozen=True)
class StallReply:
    """Answer nothing for ``seconds`` (the client's read timeout should fire first)."""

    seconds: float = 5.0


Reply = TextReply | ToolUseReply | ErrorReply | StallReply


@dataclass(frozen=True)
class RecordedRequest:
    operation: str
    model_id: str
    body: dict[str, Any]
    headers: dict[str, str]


def encode_event(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (total and headers lengths, CRC), headers, payload, message CRC."""
    encoded_headers = b""
    for name, value in headers.items():
        name_bytes, value_bytes = name.encode(), value.encode()
        # header: name length (1 byte), name, value type (7 = string), value length (2 bytes), value
        encoded_headers += struct.pack("!B", len(name_bytes)) + name_bytes
        encoded_headers += struct.pack("!BH", 7, len(value_bytes)) + value_bytes
    total_length = 12 + len(encoded_headers) + len(payload) + 4
    prelude = struct.pack("!II", total_length, len(encoded_headers))
    prelude += struct.pack("!I", crc32(prelude) & 0xFFFFFFFF)
    message = prelude + encoded_headers + payload
    return message + struct.pack("!I", crc32(message) & 0xFFFFFFFF)


def _event(event_type: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_event(headers, json.dumps(body).encode())


def _usage(request: dict[str, Any], output_text: str) -> dict[str, int]:
    input_tokens = len(json.dumps(request.get("messages", [])).split())
    output_tokens = len(output_text.split())
    return {
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "totalTokens": input_tokens + output_tokens,
    }


def converse_body(reply: TextReply | ToolUseReply, request: dict[str, Any]) -> dict[str, Any]:
    if isinstance(reply, TextReply):
        content: dict[str, Any] = {"text": reply.text}
        stop_reason, output_text = "end_turn", reply.text
    else:
        tool_use = {
            "toolUseId": f"tooluse_{uuid.uuid4().hex[:12]}",
            "name": reply.name,
            "input": reply.arguments,
        }
        content = {"toolUse": tool_use}
        stop_reason, output_text = "tool_use", json.dumps(reply.arguments)
    return {
        "output": {"message": {"role": "assistant", "content": [content]}},
        "stopReason": stop_reason,
        "usage": _usage(request, output_text),
        "metrics": {"latencyMs": 1},
    }


def converse_stream_events(reply: TextReply | ToolUseReply, request: dict[str, Any]) -> Iterator[bytes]:
    yield _event("messageStart", {"role": "assistant"})
    if isinstance(reply, TextReply):
        output_text = reply.text
        for index, word in enumerate(reply.text.split(" ")):
            delta = word if index == 0 else f" {word}"
            yield _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": delta}})
        stop_reason = "end_turn"
    else:
        output_text = json.dumps(reply.arguments)
        start = {"toolUse": {"toolUseId": f"tooluse_{uuid.uuid4().hex[:12]}", "name": reply.name}}
        yield _event("contentBlockStart", {"contentBlockIndex": 0, "start": start})
        yield _event(
            "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": output_text}}}
        )
        stop_reason = "tool_use"
    yield _event("contentBlockStop", {"contentBlockIndex": 0})
    yield _event("messageStop", {"stopReason": stop_reason})
    yield _event("metadata", {"usage": _usage(request, output_text), "metrics": {"latencyMs": 1}})


def titan_embedding(request: dict[str, Any]) -> dict[str, Any]:
    """A deterministic Titan v2 response: the same text always maps to the same vector."""
    text = str(request["inputText"])
    dimensions = int(request.get("dimensions", 1024))
    seed = hashlib.sha256(text.encode()).digest()
    values = [((seed[i % 32] ^ (i * 37 % 251)) - 127.5) / 127.5 for i in range(dimensions)]
    if request.get("normalize", True):
        norm = math.sqrt(sum(value * value for value in values)) or 1.0
        values = [value / norm for value in values]
    return {
        "embedding": values,
        "embeddingsByType": {"float": values},
        "inputTextTokenCount": len(text.split()),
    }


@dataclass
class FakeBedrock:
    host: str = "127.0.0.1"
    requests: list[RecordedRequest] = field(default_factory=list)
    _replies: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://{self.host}:{self._server.server_address[1]}"

    def reply_with(self, *replies: Reply) -> None:
        """Queue replies for the next converse/converse-stream calls, in order."""
        with self._lock:
            self._replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._replies.clear()

    def requests_for(self, operation: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.operation == operation]

    def start(self) -> FakeBedrock:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self)

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-bedrock", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- request handling ----------------------------------------------------------------------
    def _next_reply(self) -> Reply:
        with self._lock:
            return self._replies.popleft() if self._replies else TextReply()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        match = _PATH.match(handler.path)
        length = int(handler.headers.get("Content-Length", "0"))
        raw_body = handler.rfile.read(length)
        if match is None:
            self._send_json(
                handler, 404, {"message": f"no route {handler.path}"}, "UnknownOperationException"
            )
            return
        body = json.loads(raw_body or b"{}")
        operation, model_id = match["operation"], unquote(match["model_id"])
        with self._lock:
            self.requests.append(RecordedRequest(operation, model_id, body, dict(handler.headers.items())))

        if operation == "invoke":
            self._send_json(handler, 200, titan_embedding(body))
            return
        reply = self._next_reply()
        if isinstance(reply, StallReply):
            self._stopping.wait(reply.seconds)
            reply = TextReply()
        try:
            if isinstance(reply, ErrorReply):
                self._send_json(handler, reply.status, {"message": reply.message}, reply.error_type)
            elif operation == "converse":
                self._send_json(handler, 200, converse_body(reply, body))
            else:
                self._send_stream(handler, converse_stream_events(reply, body))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a read timeout): nothing to answer to

    @staticmethod
    def _send_json(
        handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any], error_type: str | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_type:
            handler.send_header("x-amzn-ErrorType", error_type)
        handler.end_headers()
        handler.wfile.write(payload)

    @staticmethod
    def _send_stream(handler: BaseHTTPRequestHandler, events: Iterator[bytes]) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/vnd.amazon.eventstream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        handler.end_headers()
        for event in events:
            handler.wfile.write(f"{len(event):X}\r\n".encode() + event + b"\r\n")
            handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()
