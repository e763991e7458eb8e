"""A small Confluent-REST schema registry for tests, served over real HTTP in-process.

Not a real registry: Karapace is not on PyPI, and Apicurio (Maven Central) needs Java 21
for 3.x while its 2.x server depends on artifacts only Confluent's own Maven repository
serves; neither can be had on this workplace (docs/wire-formats.md). It speaks the
endpoints Confluent's clients call, as the Confluent API reference documents them, so the
independent serializer (confluent-kafka's AvroSerializer) talks to it unchanged.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from fastavro.schema import to_parsing_canonical_form


@dataclass
class RegistryState:
    user: str | None = None
    password: str | None = None
    failing: bool = False  # answer 503 to everything (an outage)
    schemas: list[str] = field(default_factory=list)  # id - 1 -> schema text
    subjects: dict[str, list[int]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)  # "METHOD path" of each request
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, subject: str, text: str) -> int:
        """Register ``text`` under ``subject`` (the same schema keeps its id)."""
        with self.lock:
            schema_id = self._id_of(text) or self._new(text)
            versions = self.subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id

    def _new(self, text: str) -> int:
        self.schemas.append(text)
        return len(self.schemas)

    def _id_of(self, text: str) -> int | None:
        canonical = _canonical(text)
        for index, known in enumerate(self.schemas):
            if _canonical(known) == canonical:
                return index + 1
        return None

    def lookup(self, subject: str, text: str) -> int | None:
        with self.lock:
            schema_id = self._id_of(text)
            return schema_id if schema_id in self.subjects.get(subject, []) else None


def _canonical(text: str) -> str:
    try:
        return str(to_parsing_canonical_form(json.loads(text)))
    except Exception:
        return text


class _Handler(BaseHTTPRequestHandler):
    state: RegistryState

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        state = self.state
        path = self.path.split("?", 1)[0]
        state.hits.append(f"{method} {path}")
        if state.failing:
            return self._reply(503, {"error_code": 50301, "message": "unavailable"})
        if state.user is not None and not self._authorized():
            return self._reply(401, {"error_code": 401, "message": "Unauthorized"})
        parts = [unquote(p) for p in path.strip("/").split("/")]
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        if method == "GET" and parts[:2] == ["schemas", "ids"] and len(parts) == 3:
            index = int(parts[2]) - 1
            if 0 <= index < len(state.schemas):
                return self._reply(200, {"schema": state.schemas[index]})
            return self._reply(404, {"error_code": 40403, "message": "Schema not found"})
        if method == "POST" and parts[0] == "subjects" and len(parts) == 3:
            return self._reply(200, {"id": state.add(parts[1], body["schema"])})
        if method == "POST" and parts[0] == "subjects" and len(parts) == 2:
            found = state.lookup(parts[1], body["schema"])
            if found is None:
                return self._reply(404, {"error_code": 40403, "message": "Schema not found"})
            return self._reply(200, {"subject": parts[1], "id": found, "version": 1})
        return self._reply(404, {"error_code": 404, "message": f"no route {path}"})

    def _authorized(self) -> bool:
        expected = base64.b64encode(f"{self.state.user}:{self.state.password}".encode())
        return self.headers.get("Authorization", "") == f"Basic {expected.decode()}"

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def running_registry(
    user: str | None = None, password: str | None = None
) -> Iterator[tuple[str, RegistryState]]:
    """A registry on a free loopback port: its URL and its state (to inspect or break)."""
    state = RegistryState(user=user, password=password)
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
