"""Routes for the verifiable trail: an event's inclusion proof, a consistency proof, the
latest signed checkpoints and the key that checks them (docs/merkle.md, "Over HTTP").

Bundles are the ones `audit-trail prove` writes, so `verify-proof` (or any RFC 6962
checker) reads them the same. An event's proof goes to whoever may read its session; a
party's bundle leaves out dead-letter rows (auditors only, like everywhere else). The row
in a bundle is the row as stored, so personal values stay sealed: the chain hashes the
sealed form, and a party cannot open the other party's values.

No ``from __future__ import annotations`` here: the caller dependency is given by the
application, and FastAPI reads these annotations when the routes are declared.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from audit_trail.api.encoding import dumps
from audit_trail.tokens import Claims
from ledger.access import NotFound, NotPermitted
from ledger.merkle import (
    NoteVerifier,
    TreeUnavailable,
    latest_checkpoints,
    prove_consistency,
    prove_event,
)
from ledger.reader import TrailReader
from ledger.store import Store
from schemas import InvalidInput

# Tree sizes are Kafka offsets' range: UInt64 in the store.
_MAX_SIZE = 2**63


@dataclass(frozen=True)
class ProofSources:
    reader: TrailReader
    store: Store
    topics: list[str]
    verifier: NoteVerifier | None  # None: this server was given no checkpoint key


def _json(body: Any) -> Response:
    return Response(dumps(body), media_type="application/json")


def event_bundle(sources: ProofSources, event_id: str, caller: Claims) -> dict[str, Any]:
    """The inclusion bundle of ``event_id`` as ``caller`` may have it."""
    viewer = caller.viewer()
    session = sources.reader.session_of_event(event_id, viewer)
    if session is not None:
        caller.check_session(session)
    elif caller.sid is not None:
        raise NotPermitted(f"not permitted: {viewer} may not read event {event_id[:64]}")
    try:
        bundle = prove_event(sources.store, event_id, sources.topics)
    except TreeUnavailable as exc:
        if session is None:  # an auditor asked about an event the trail does not hold
            raise NotFound(f"not found: {exc}") from exc
        raise
    return bundle if viewer.is_auditor else parties_bundle(bundle)


def parties_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    """``bundle`` without dead-letter rows (raw refused messages are for auditors)."""
    kept = [e for e in bundle["entries"] if e["row"].get("family") != "dead_letter"]
    return {**bundle, "entries": kept}


def proof_routes(sources: ProofSources, caller_dependency: Any) -> APIRouter:
    """The proof routes, each caller proved by ``caller_dependency`` (a ``Depends``)."""
    router = APIRouter(tags=["proofs"])

    @router.get("/v1/events/{event_id}/proof")
    def event_proof(event_id: str, caller: Annotated[Claims, caller_dependency]) -> Response:
        """The event's inclusion bundle: the row as stored, its leaf index, the RFC 6962
        path and the signed checkpoint. Whoever may read the event's session; auditors
        any event."""
        return _json(event_bundle(sources, event_id, caller))

    @router.get("/v1/proofs/consistency")
    def consistency(
        caller: Annotated[Claims, caller_dependency],
        topic: Annotated[str, Query(max_length=249)],
        partition: Annotated[int, Query(ge=0, le=65535)],
        old: Annotated[int, Query(ge=0, lt=_MAX_SIZE)],
        new: Annotated[int, Query(ge=0, lt=_MAX_SIZE)],
    ) -> Response:
        """Proof that the signed tree of ``new`` leaves extends the one of ``old``
        (tree sizes and hashes only: any signed-in caller)."""
        _known_topic(sources, topic)
        if old > new:
            raise _bad(f"old ({old}) must not exceed new ({new})")
        return _json(prove_consistency(sources.store, topic, partition, old, new))

    @router.get("/v1/checkpoints/latest")
    def checkpoints(caller: Annotated[Claims, caller_dependency]) -> Response:
        """Each partition's newest signed checkpoint (C2SP signed-note text)."""
        found = latest_checkpoints(sources.store, sources.topics)
        return _json(
            {"checkpoints": [{"topic": t, "partition": p, "note": n} for t, p, n in found]}
        )

    @router.get("/v1/checkpoints/public-key")
    def public_key() -> Response:
        """The verifier key (NAME+KEYID+BASE64) for `verify-proof` and Go's note package.
        Public by nature: no token needed to learn what checks a proof."""
        if sources.verifier is None:
            raise NotFound("not found: this server has no checkpoint key configured")
        return _json({"key": str(sources.verifier), "key_id": sources.verifier.key_id.hex()})

    return router


def _known_topic(sources: ProofSources, topic: str) -> None:
    if topic not in sources.topics:
        raise _bad(f"topic {topic[:80]!r} is not one of this trail's: {', '.join(sources.topics)}")


def _bad(detail: str) -> InvalidInput:
    return InvalidInput(detail)
