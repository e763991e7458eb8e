"""A client of a Confluent-compatible schema registry's REST API (Confluent Schema
Registry, Karapace, Apicurio's ccompat API), over the standard library's HTTP.

Only three calls are needed: a schema by id (the consumer), register a schema under a
subject (`audit-trail schemas register`) and look one up (a producer that emits the
Confluent framing). Ids are immutable in a registry, so lookups by id are cached forever.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from schemas.errors import RegistryRefused, RegistryUnavailable, UnknownSchemaId

_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_NOT_FOUND_CODES = {40401, 40403}  # subject not found, schema not found


class SchemaRegistryClient:
    """``url``: the registry's base URL; ``user``/``password``: HTTP basic auth, if any.

    A server error or no answer is retried ``attempts`` times with backoff, then raised as
    ``RegistryUnavailable``: an outage, never a reason to dead-letter a message.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
        attempts: int = 5,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RegistryRefused("the schema registry URL is not an http(s) URL")
        if parts.username is not None:
            # Credentials in the URL: used, then dropped, so no message ever shows them.
            user = user if user is not None else urllib.parse.unquote(parts.username)
            if password is None and parts.password is not None:
                password = urllib.parse.unquote(parts.password)
            host = parts.netloc.rsplit("@", 1)[1]
            parts = parts._replace(netloc=host)
        self.url = urllib.parse.urlunsplit(parts).rstrip("/")
        self._auth: str | None = None
        if user is not None:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._auth = f"Basic {token}"
        self._timeout_s = timeout_s
        self._attempts = max(1, attempts)
        self._by_id: dict[int, str] = {}
        self._lock = threading.Lock()

    def schema_text(self, schema_id: int) -> str:
        """The schema registered under ``schema_id`` (JSON text); cached."""
        with self._lock:
            cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached
        body = self._call("GET", f"/schemas/ids/{schema_id}", None, f"schema id {schema_id}")
        schema_type = body.get("schemaType", "AVRO")
        text = body.get("schema")
        if schema_type != "AVRO" or not isinstance(text, str):
            raise UnknownSchemaId(f"schema id {schema_id} is a {schema_type} schema, not Avro")
        with self._lock:
            self._by_id[schema_id] = text
        return text

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        """Register ``schema`` under ``subject`` (the registry's own compatibility rules
        apply); the id, the same one again if it was registered before."""
        path = f"/subjects/{urllib.parse.quote(subject, safe='')}/versions"
        body = self._call("POST", path, {"schema": json.dumps(schema)}, f"subject {subject}")
        return _schema_id(body, subject)

    def lookup(self, subject: str, schema: dict[str, Any]) -> int | None:
        """The id of ``schema`` if it is registered under ``subject``, else None."""
        path = f"/subjects/{urllib.parse.quote(subject, safe='')}"
        try:
            body = self._call("POST", path, {"schema": json.dumps(schema)}, f"subject {subject}")
        except UnknownSchemaId:
            return None
        return _schema_id(body, subject)

    def _call(self, method: str, path: str, payload: Any, what: str) -> dict[str, Any]:
        delay = 0.2
        for attempt in range(1, self._attempts + 1):
            try:
                return self._once(method, path, payload, what)
            except RegistryUnavailable:
                if attempt == self._attempts:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")

    def _once(self, method: str, path: str, payload: Any, what: str) -> dict[str, Any]:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", _CONTENT_TYPE)
        if data is not None:
            request.add_header("Content-Type", _CONTENT_TYPE)
        if self._auth is not None:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                return _json_object(response.read(), what)
        except urllib.error.HTTPError as exc:
            error = _error_body(exc)
            code = error.get("error_code")
            detail = str(error.get("message") or exc.reason)[:300]
            if exc.code >= 500:
                raise RegistryUnavailable(
                    f"schema registry {self.url} failed on {what}: HTTP {exc.code} {detail}"
                ) from exc
            if exc.code == 404 and code in _NOT_FOUND_CODES:
                raise UnknownSchemaId(f"schema registry {self.url} has no {what}") from exc
            raise RegistryRefused(
                f"schema registry {self.url} refused {what}: HTTP {exc.code} {detail}"
            ) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RegistryUnavailable(
                f"schema registry {self.url} does not answer ({what}): {reason}"
            ) from exc


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise RegistryUnavailable(f"schema registry answered {what} with non-JSON") from exc
    if not isinstance(body, dict):
        raise RegistryUnavailable(f"schema registry answered {what} with {type(body).__name__}")
    return body


def _schema_id(body: dict[str, Any], subject: str) -> int:
    schema_id = body.get("id")
    if not isinstance(schema_id, int) or isinstance(schema_id, bool):
        raise RegistryUnavailable(f"schema registry gave no schema id for subject {subject}")
    return schema_id


def _error_body(exc: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        parsed = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        return {}
    return parsed if isinstance(parsed, dict) else {}
