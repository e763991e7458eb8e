"""`audit-trail consume`, `verify`, `timeline` and `counts`: the trail side."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer

from audit_trail import logs, wiring
from audit_trail.settings import Settings
from consumers import IngestMetrics
from ledger import verify as verify_trail
from ledger.access import NotFound, session_uuid
from ledger.erasure_audit import check_erasure_records
from ledger.expiry import ExpiryGate
from ledger.merkle.audit import check_trees
from ledger.privacy import record_notices


def consume(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit once every partition is stored to its end")
    ] = False,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on 127.0.0.1:PORT")
    ] = None,
) -> None:
    """Consume both event topics into the trail. SIGTERM/SIGINT drain and exit."""
    # Progress and warnings on stderr: an operator must tell progress from a stall.
    # (AUDIT_LOG_LEVEL/FORMAT still rule; kafka-python's reconnect noise stays quiet.)
    logs.configure(default_level="INFO")
    settings = Settings()
    metrics = IngestMetrics()
    port = metrics_port if metrics_port is not None else settings.metrics_port
    if port is not None:
        metrics.serve(port, settings.metrics_address)
    trail = wiring.store(settings, create=True)
    try:
        # Every erasure published so far is loaded before the first row is sealed.
        erasures = wiring.erasure_feed(settings)
        # Erasures made elsewhere (a store rebuilt from Kafka) are audit data here too.
        record_notices(trail, erasures.index.notices())
        service = wiring.ingest_service(settings, trail, metrics, erasures)

        def stop(signum: int, _frame: FrameType | None) -> None:
            typer.echo(f"signal {signum}: draining", err=True)
            service.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        with erasures:
            service.run(until_idle=until_idle)
        stats = service.stats
        repeats = service.dedup.counts
        gate = service.sealer if isinstance(service.sealer, ExpiryGate) else None
        dropped = sum(gate.expired.values()) if gate is not None else 0
        typer.echo(
            f"stored {stats.rows - dropped} rows in {stats.batches} batches "
            f"({stats.dead_letters} dead letters, {repeats.repeats} duplicates of a stored "
            f"event_id, {repeats.conflicts} event_id conflicts)"
        )
        if gate is not None and dropped:
            typer.echo(gate.report())
    finally:
        trail.close()


def verify() -> None:
    """Recompute every hash chain, check offsets are contiguous and event_id unique, and
    that each partition's leaves still give its signed Merkle root."""
    settings = Settings()
    # The erasures topic's name is also the chain of the erasure records in the trail.
    topics = [settings.topic_session, settings.topic_transaction, settings.topic_erasures]
    trail = wiring.read_store(settings)
    try:
        report = verify_trail(trail, topics, policy=wiring.retention_policy(settings))
        trees = check_trees(trail, topics)
        records = check_erasure_records(
            trail, settings.topic_erasures, wiring.checkpoint_signer(settings).verifier
        )
    finally:
        trail.close()
    typer.echo(str(report))
    for tree in trees:
        typer.echo(f"  {tree}")
    for record in records:
        typer.echo(f"  {record}")
    if not report.ok or any(t.problem for t in trees) or any(r.problem for r in records):
        raise typer.Exit(1)


def timeline(
    session_id: Annotated[str | None, typer.Argument(help="Default: the busiest session")] = None,
) -> None:
    """A session's events in order (auditor's view)."""
    sid = session_uuid(session_id) if session_id is not None else None  # before any store
    settings = Settings()
    trail = wiring.read_store(settings)
    try:
        if sid is None:
            busiest = trail.query(
                "SELECT session_id FROM trail WHERE family NOT IN ('dead_letter', 'duplicate') "
                "GROUP BY session_id ORDER BY count() DESC, session_id LIMIT 1"
            )
            if not busiest:
                typer.echo("the trail is empty")
                return
            sid = session_uuid(str(busiest[0][0]))
        rows = trail.query(
            "SELECT occurred_at, event_type, actor_role, actor_id, device_kind, device_os, "
            "envelope_flags FROM v_session_timeline WHERE session_id = {sid:UUID} "
            "AND family != 'duplicate' "
            "ORDER BY occurred_at",
            {"sid": sid},
        )
    finally:
        trail.close()
    if not rows:  # an auditor's view: existence may be told (as `trail --as auditor`)
        raise NotFound(f"not found: the trail holds no session {sid}")
    typer.echo(f"session {sid}: {len(rows)} events")
    for at, event_type, role, actor, kind, os_name, flags in rows:
        device = f"{kind or '-'}/{os_name or '-'}"
        line = f"  {at:%Y-%m-%d %H:%M:%S.%f}  {event_type:<26} {role:<10} {actor:<14} {device}"
        # Keyed or placed apart from its session: its order here rests on occurred_at.
        typer.echo(f"{line}  [{flags}]" if flags else line)


def counts() -> None:
    """Stored events per type (each event once; repeats of an event_id counted apart)."""
    trail = wiring.read_store(Settings())
    try:
        rows = trail.query(
            "SELECT event_type, count() FROM trail WHERE family != 'duplicate' "
            "GROUP BY event_type ORDER BY event_type"
        )
        ((repeats,),) = trail.query("SELECT count() FROM trail WHERE family = 'duplicate'")
    finally:
        trail.close()
    for event_type, n in rows:
        typer.echo(f"  {event_type:<26} {n:>8}")
    typer.echo(f"  {'total':<26} {sum(n for _, n in rows):>8}")
    if repeats:
        typer.echo(f"  ({repeats} repeated deliveries of a stored event_id, not counted)")
