"""A tiny Confluent-compatible schema registry on loopback: ``GET /schemas/ids/<id>``.

Standard library only: it runs inside the Kafka-engine worker, whose interpreter has
nothing but chDB installed (see ``contender_env``). ClickHouse's AvroConfluent reader
asks it for the schema behind each message's 4-byte id, once per id (then cached).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RegistryStub:
    """Serves ``schemas`` (id -> Avro schema JSON text) on 127.0.0.1 from a daemon thread."""

    def __init__(self, schemas: Mapping[int, str]) -> None:
        bodies = {int(i): json.dumps({"schema": text}).encode() for i, text in schemas.items()}
        self.requests = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.requests += 1
                tail = self.path.rstrip("/").rsplit("/", 1)[-1]
                body = bodies.get(int(tail)) if tail.isdigit() else None
                if body is None or not self.path.startswith("/schemas/ids/"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RegistryStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
