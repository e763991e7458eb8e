"""Errors as ``application/problem+json`` (RFC 9457), one mapping from the product's
exceptions to statuses. "Not permitted" has one status and one shape whatever is behind
it, so a refusal never tells whether the thing exists."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from audit_trail.tokens import TokenRefused
from ledger import StoreError, StoreNotReady, StoreUnavailable
from ledger.access import NotFound, NotPermitted
from ledger.merkle import TreeUnavailable
from schemas import AuditTrailError, InvalidInput

log = logging.getLogger("audit_trail.api")
PROBLEM = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Not permitted",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    500: "Internal error",
    503: "Unavailable",
}


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status}
    body["detail"] = detail
    return Response(json.dumps(body), status, headers=headers, media_type=PROBLEM)


def status_of(exc: AuditTrailError) -> int:
    if isinstance(exc, TokenRefused):
        return 401
    if isinstance(exc, NotPermitted):
        return 403
    if isinstance(exc, NotFound):  # told only to auditors, who may know what exists
        return 404
    if isinstance(exc, TreeUnavailable):  # no signed tree covers it (yet): ours to say
        return 404
    if isinstance(exc, StoreUnavailable | StoreNotReady):
        return 503
    if isinstance(exc, InvalidInput) and not isinstance(exc, StoreError):
        return 400
    return 500


def install(app: FastAPI) -> None:
    @app.exception_handler(AuditTrailError)
    async def _product(_request: Request, exc: AuditTrailError) -> Response:
        status = status_of(exc)
        if status == 401:
            return problem(401, str(exc), {"WWW-Authenticate": 'Bearer realm="audit-trail"'})
        if status == 500:
            # The engine's words may name tables and paths: logged, not sent.
            log.error("request failed: %s", exc)
            return problem(500, "the request failed; the server log says why")
        return problem(status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return problem(400, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail))
