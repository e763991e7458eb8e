"""The ASGI application: routes, each a thin call into the same readers the CLI uses.

Route functions are plain ``def``: the store is blocking, so the framework runs them in
its thread pool. Who may do what is decided in ``ledger.reader`` / ``ledger.access`` and
``audit_trail.tokens``, never here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse

from audit_trail.api import problems, viewer_page
from audit_trail.api.encoding import csv_lines, dumps, jsonl_lines
from audit_trail.api.proof_routes import ProofSources, parties_bundle, proof_routes
from audit_trail.tokens import Claims, TokenRefused, VerifyKey, verify
from ledger import verify as verify_trail
from ledger.access import NotPermitted, session_uuid
from ledger.merkle import NoteVerifier, TreeUnavailable, prove_event
from ledger.reader import TrailReader
from ledger.retention import RetentionPolicy
from ledger.row_integrity import session_integrity
from ledger.session_search import SessionQuery, search_sessions
from ledger.sql_guard import MAX_SQL_CHARS, run_readonly
from ledger.store import Store


@dataclass(frozen=True)
class ApiContext:
    reader: TrailReader
    store: Store
    keys: dict[str, VerifyKey]
    topics: list[str]
    policy: RetentionPolicy
    registry: CollectorRegistry
    readiness: Callable[[], list[str]]  # what is not ready; empty when ready
    verifier: NoteVerifier | None = None  # checks the trail's signed checkpoints


class SqlRequest(BaseModel):
    query: str = Field(max_length=MAX_SQL_CHARS, description="One SELECT of the analyst views")


_BEARER = HTTPBearer(auto_error=False, description="A viewer token (JWT) from the platform")


def claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Claims:
    """Who is asking, proved by the bearer token (401 otherwise)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise TokenRefused("no bearer token: send Authorization: Bearer <viewer token>")
    keys: dict[str, VerifyKey] = request.app.state.keys
    return verify(credentials.credentials, keys)


# Module level: the framework resolves these annotations by name.
Caller = Annotated[Claims, Depends(claims)]


def _json(body: Any) -> Response:
    return Response(dumps(body), media_type="application/json")


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        title="audit-trail",
        version=version("audit-trail"),
        description="Role-scoped reads of the tamper-evident audit trail.",
    )
    problems.install(app)
    viewer_page.install(app)
    app.state.keys = ctx.keys

    def only(caller: Claims, *roles: str, what: str) -> None:
        if caller.role not in roles or caller.sid is not None:
            raise NotPermitted(f"not permitted: {caller.role}:{caller.sub} may not {what}")

    @app.get("/v1/sessions/{session_id}/trail", tags=["trail"])
    def session_trail(
        session_id: str, caller: Caller, integrity: bool = False, own_network: bool = True
    ) -> Response:
        """A session's events in order, as the caller may see them. With
        ``?integrity=true`` each event also carries its chain check (ledger.row_integrity);
        ``?own_network=false`` leaves out a party's own IP and location (the viewer's ask)."""
        caller.check_session(session_id)
        viewer = caller.viewer()
        rows = ctx.reader.session_trail(session_id, viewer, own_network=own_network)
        if integrity:
            checked = session_integrity(
                ctx.store, session_uuid(session_id), auditor=viewer.is_auditor
            )
            for row in rows:
                where = (row["kafka_topic"], int(row["kafka_partition"]), int(row["kafka_offset"]))
                found = checked.get(where)
                row["integrity"] = (
                    found.as_json()
                    if found is not None
                    else {"status": "broken_link", "detail": "the row was not found to check"}
                )
        return _json({"session_id": session_id, "events": rows})

    @app.get("/v1/sessions", tags=["trail"])
    def sessions(
        caller: Caller,
        person: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        event_type: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> Response:
        """Sessions by person, time range (since inclusive, until exclusive) and event
        type, newest first, paged (auditors)."""
        only(caller, "auditor", what="search sessions")
        query = SessionQuery(person, since, until, event_type, page, page_size)
        found = search_sessions(ctx.store, query)
        return _json(
            {
                "sessions": [s.as_json() for s in found.sessions],
                "page": found.page,
                "page_size": page_size,
                "more": found.more,
            }
        )

    @app.get("/v1/payments", tags=["trail"])
    def payments(
        caller: Caller, booking: str | None = None, transaction: str | None = None
    ) -> Response:
        """Payment attempts, outcomes and refunds of one booking or one transaction."""
        if (booking is None) == (transaction is None):
            return problems.problem(400, "give exactly one of ?booking= or ?transaction=")
        viewer = caller.viewer()
        rows = ctx.reader.payment_trail(viewer, booking_id=booking, transaction_id=transaction)
        if caller.sid is not None and any(str(r["session_id"]) != str(caller.sid) for r in rows):
            what = (
                f"booking_id {session_uuid(booking, 'booking id')}"
                if booking
                else f"transaction_id {session_uuid(str(transaction), 'transaction id')}"
            )
            raise NotPermitted(f"not permitted: {viewer} may not read {what}")
        return _json({"events": rows})

    @app.get("/v1/subjects/{subject_id}/export", tags=["subjects"])
    def export(
        subject_id: str,
        caller: Caller,
        format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
        include_proofs: bool = False,
    ) -> Response:
        """Everything the trail holds about one person (their access request), streamed.
        The person themself or an auditor. ``include_proofs=true`` (JSON lines only)
        adds each event's inclusion bundle as ``proof``."""
        mine = caller.sub == subject_id and caller.role in ("client", "specialist")
        if not (mine or caller.role == "auditor") or caller.sid is not None:
            raise NotPermitted(
                f"not permitted: {caller.role}:{caller.sub} may not export {subject_id[:64]}"
            )
        if include_proofs and format == "csv":
            return problems.problem(400, "include_proofs needs format=jsonl (a bundle is JSON)")
        rows = ctx.reader.subject_rows(subject_id)
        first = next(rows, None)  # a bad id is refused before the response starts

        def all_rows() -> Iterator[dict[str, Any]]:
            if first is not None:
                yield first
                yield from rows

        if format == "csv":
            return StreamingResponse(csv_lines(all_rows()), media_type="text/csv")
        if include_proofs:
            return StreamingResponse(
                jsonl_lines(with_proofs(all_rows())), media_type="application/x-ndjson"
            )
        return StreamingResponse(jsonl_lines(all_rows()), media_type="application/x-ndjson")

    def with_proofs(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        # The subject's own events: every stored place of each (about six small reads).
        for row in rows:
            try:
                proof: Any = parties_bundle(
                    prove_event(ctx.store, str(row["event_id"]), ctx.topics)
                )
            except TreeUnavailable as exc:  # not signed yet: say so, keep the row
                proof = {"unavailable": str(exc)}
            yield {**row, "proof": proof}

    @app.post("/v1/sql", tags=["analysis"])
    def sql(request: SqlRequest, caller: Caller) -> Response:
        """One read-only query of the analyst views (analysts and auditors)."""
        only(caller, "analyst", "auditor", what="run SQL")
        result = run_readonly(ctx.store, request.query)
        return _json(
            {"columns": result.columns, "rows": result.rows, "truncated": result.truncated}
        )

    @app.get("/v1/verify", tags=["analysis"])
    def verify_chain(caller: Caller) -> Response:
        """Recompute every hash chain (auditors)."""
        only(caller, "auditor", what="verify the trail")
        report = verify_trail(ctx.store, ctx.topics, policy=ctx.policy)
        return _json(
            {
                "ok": report.ok,
                "rows_checked": report.rows_checked,
                "problem_count": report.problem_count,
                "problems": [str(p) for p in report.problems],
                "report": str(report),
            }
        )

    sources = ProofSources(ctx.reader, ctx.store, ctx.topics, ctx.verifier)
    app.include_router(proof_routes(sources, Depends(claims)))

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> Response:
        """The process is alive."""
        return _json({"status": "alive"})

    @app.get("/readyz", tags=["operations"])
    def readyz() -> Response:
        """Store open, Kafka reachable, consumer lag under the configured bound."""
        missing = ctx.readiness()
        if missing:
            return problems.problem(503, "; ".join(missing))
        return _json({"status": "ready"})

    return app
