"""`audit-trail serve`: the consumer (exactly as `consume`) and the HTTP API in one process.

On the embedded store one process owns the directory, so this is how the trail is read
while it is written: the API's readers share the consumer's store. uvicorn owns the main
thread and its signals; SIGTERM/SIGINT stop the server, then the consumer drains (flushes
its batches, commits offsets) and the process exits 0. If the consumer stops on its own
(an error it cannot get past), the server is stopped too and the process exits 1.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

import uvicorn
from prometheus_client import Gauge, ProcessCollector

from audit_trail import token_config, wiring
from audit_trail.api import ApiContext, create_app
from audit_trail.settings import Settings
from consumers import ErasureFeed, IngestMetrics, IngestService
from ledger import StoreError
from ledger.privacy import record_notices
from ledger.store import Store
from schemas import AuditTrailError

log = logging.getLogger("audit_trail.serve")


class IngestFailed(AuditTrailError):
    """The consumer inside `serve` stopped with an error."""


@dataclass
class Ingest:
    """The consumer running beside the API, and how it ended."""

    service: IngestService
    bootstrap: str
    thread: threading.Thread | None = None
    error: BaseException | None = None

    def start(self, on_exit: threading.Event) -> None:
        def run() -> None:
            try:
                self.service.run()
            except BaseException as exc:  # reported by serve(), which exits 1
                self.error = exc
            finally:
                on_exit.set()

        self.thread = threading.Thread(target=run, name="ingest", daemon=True)
        self.thread.start()

    def drain(self) -> None:
        self.service.stop()
        if self.thread is not None:
            self.thread.join()


def kafka_reachable(bootstrap: str, timeout_s: float = 1.0) -> bool:
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
                return True
        except (OSError, ValueError):
            continue
    return False


def readiness(
    settings: Settings, trail: Store, metrics: IngestMetrics, ingest: Ingest | None
) -> Callable[[], list[str]]:
    def check() -> list[str]:
        missing: list[str] = []
        try:
            trail.ping()
        except StoreError as exc:
            missing.append(f"store: {exc}")
        if ingest is None:
            return missing
        if ingest.thread is None or not ingest.thread.is_alive():
            missing.append("ingest: the consumer is not running")
        if not kafka_reachable(ingest.bootstrap):
            missing.append(f"kafka: no broker answers at {ingest.bootstrap}")
        lag = sum(
            sample.value for family in metrics.consumer_lag.collect() for sample in family.samples
        )
        if lag > settings.ready_max_lag:
            missing.append(
                f"lag: {int(lag)} records wait in Kafka (bound {settings.ready_max_lag})"
            )
        return missing

    return check


def serve(settings: Settings, host: str, port: int, ingest_on: bool) -> None:
    keys = token_config.verify_keys(settings)
    if not keys:
        log.warning("no viewer-token keys configured: every API read is refused (401)")
    trail = wiring.store(settings, create=True) if ingest_on else wiring.read_store(settings)
    erasures: ErasureFeed | None = None
    try:
        metrics = _metrics()
        ingest: Ingest | None = None
        if ingest_on:
            # As `consume`: every erasure published so far is loaded before the first row
            # is sealed, and erasures made elsewhere are recorded here too.
            erasures = wiring.erasure_feed(settings)
            record_notices(trail, erasures.index.notices())
            ingest = Ingest(
                wiring.ingest_service(settings, trail, metrics, erasures),
                wiring.bootstrap_servers(settings),
            )
        context = ApiContext(
            reader=wiring.trail_reader(settings, trail),
            store=trail,
            keys=keys,
            topics=[settings.topic_session, settings.topic_transaction, settings.topic_erasures],
            policy=wiring.retention_policy(settings),
            registry=metrics.registry,
            readiness=readiness(settings, trail, metrics, ingest),
            verifier=wiring.checkpoint_signer(settings).verifier,
        )
        server = uvicorn.Server(
            uvicorn.Config(create_app(context), host=host, port=port, log_config=None)
        )
        _run(server, ingest)
    finally:
        if erasures is not None:
            erasures.close()
        trail.close()


def _metrics() -> IngestMetrics:
    metrics = IngestMetrics()
    ProcessCollector(registry=metrics.registry)
    build = Gauge("audit_build_info", "1, labelled with the running version", ["version"],
                  registry=metrics.registry)  # fmt: skip
    build.labels(version("audit-trail")).set(1)
    return metrics


def _run(server: uvicorn.Server, ingest: Ingest | None) -> None:
    """The server in this thread, the consumer beside it; the consumer drains whatever
    ends the server (a signal, its own failure, a port already taken)."""
    if ingest is not None:
        ended = threading.Event()
        ingest.start(ended)
        threading.Thread(
            target=_stop_when, args=(ended, server), name="ingest-watch", daemon=True
        ).start()
    # uvicorn restores these after its own and re-raises what it caught: ours only ask
    # it to stop, so a SIGTERM ends in a drain and exit 0, not a signal death.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _s, _f: setattr(server, "should_exit", True))
    try:
        server.run()
    finally:
        if ingest is not None:
            log.info("draining ingest")
            ingest.drain()
    if ingest is not None and ingest.error is not None:
        raise IngestFailed(f"ingest stopped: {ingest.error}") from ingest.error


def _stop_when(ended: threading.Event, server: uvicorn.Server) -> None:
    ended.wait()
    server.should_exit = True
