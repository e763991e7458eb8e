"""A tiny Confluent-compatible schema registry on loopback: ``GET /schemas/ids/<id>``.

It serves the project's own schema versions, numbered 1, 2, ... in registry order, so
ClickHouse's AvroConfluent reader can resolve the 4-byte schema id of the Confluent wire
format. Our messages carry the same Avro datum behind a different header; see
``confluent_frame``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from schemas import HEADER_SIZE, MARKER, SchemaRegistry, default_registry


def schema_ids(registry: SchemaRegistry | None = None) -> dict[int, int]:
    """Confluent schema id by our CRC-64 fingerprint (aliases included)."""
    ids: dict[int, int] = {}
    for number, version in enumerate(registry or default_registry(), start=1):
        for fp in (version.fingerprint, *version.alias_fingerprints):
            ids[fp] = number
    return ids


def confluent_frame(single_object: bytes, ids: dict[int, int]) -> bytes:
    """The same datum in the Confluent wire format: ``00`` + 4-byte big-endian id + datum."""
    if single_object[:2] != MARKER:
        raise ValueError("not an Avro single-object message")
    fp = int.from_bytes(single_object[2:HEADER_SIZE], "little")
    return b"\x00" + ids[fp].to_bytes(4, "big") + single_object[HEADER_SIZE:]


class RegistryStub:
    """Serves the schemas on 127.0.0.1 from a daemon thread; ``url`` once started."""

    def __init__(self, registry: SchemaRegistry | None = None) -> None:
        bodies = {
            number: json.dumps({"schema": json.dumps(dict(version.source))}).encode()
            for number, version in enumerate(registry or default_registry(), start=1)
        }
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
