"""A moto server on loopback that serves S3, Step Functions (executing state machines), SNS, SQS, DynamoDB.

moto's state-machine interpreter calls the other services at ``localhost:$MOTO_PORT``, so the port is
exported into this process's environment before the server starts.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass

import structlog
from moto.server import ThreadedMotoServer

from infra.local.ports import free_port, wait_for_port

log = structlog.get_logger(__name__)

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}}


@dataclass
class MotoServer:
    host: str
    port: int
    _server: ThreadedMotoServer

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.stop()
        log.info("moto.stopped", endpoint=self.endpoint_url)


def configure_moto(endpoint_url: str) -> None:
    """Turn on state-machine execution (moto only records executions otherwise)."""
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL we built
        response.read()


def start_moto_server(host: str = "127.0.0.1", port: int | None = None) -> MotoServer:
    chosen_port = port or free_port(host)
    os.environ["MOTO_PORT"] = str(chosen_port)
    server = ThreadedMotoServer(ip_address=host, port=chosen_port, verbose=False)
    server.start()
    wait_for_port(host, chosen_port)
    handle = MotoServer(host=host, port=chosen_port, _server=server)
    configure_moto(handle.endpoint_url)
    log.info("moto.started", endpoint=handle.endpoint_url)
    return handle
