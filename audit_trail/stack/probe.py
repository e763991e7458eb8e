"""Asking a Kafka address whether a usable broker answers there, and waiting until one does.

"Answers" means a kafka-python admin client can bootstrap and the cluster reports at least one
broker: on KRaft a broker is only listed once it is registered and unfenced, which is when it
can actually take topic creation, produce and fetch requests.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from typing import Literal

from kafka import KafkaAdminClient

log = logging.getLogger(__name__)

WaitOutcome = Literal["answers", "exited", "timeout"]
_POLL_S = 0.5


def parse_bootstrap(bootstrap: str) -> list[tuple[str, int]]:
    """Split "host:port[,host:port...]" into pairs; a missing port means Kafka's 9092."""
    pairs: list[tuple[str, int]] = []
    for item in bootstrap.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep:
            host, port = item, "9092"
        try:
            pairs.append((host.strip("[]"), int(port)))
        except ValueError as exc:
            raise ValueError(f"bad Kafka address {item!r} in {bootstrap!r}") from exc
    if not pairs:
        raise ValueError(f"no Kafka address in {bootstrap!r}")
    return pairs


def port_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def broker_answers(bootstrap: str, timeout_s: float = 5.0) -> bool:
    """Return True if a Kafka broker at `bootstrap` answers a cluster description request."""
    try:
        addresses = parse_bootstrap(bootstrap)
    except ValueError:
        return False
    # A plain TCP check first: cheap, and it keeps kafka-python from logging connection
    # errors on every poll while the JVM is still starting.
    if not any(port_open(host, port) for host, port in addresses):
        return False
    timeout_ms = max(1000, int(timeout_s * 1000))
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="audit-trail-stack-probe",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
        )
    except Exception as exc:  # any failure to bootstrap means "does not answer (yet)"
        log.debug("Kafka at %s does not answer yet: %r", bootstrap, exc)
        return False
    try:
        cluster = admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except Exception as exc:  # same: a probe reports, it does not raise
        log.debug(
            "Kafka at %s accepted a connection but did not describe the cluster: %r", bootstrap, exc
        )
        return False
    finally:
        admin.close()


def wait_until_answers(
    bootstrap: str, timeout_s: float, still_running: Callable[[], bool]
) -> WaitOutcome:
    """Poll `bootstrap` until it answers, the process dies, or `timeout_s` passes.

    `still_running` is checked on every round so a broker that crashed at startup (port taken,
    bad config) is reported at once instead of after the full timeout.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if broker_answers(bootstrap, timeout_s=min(5.0, max(1.0, remaining))):
            return "answers"
        if not still_running():
            return "exited"
        if time.monotonic() >= deadline:
            return "timeout"
        time.sleep(_POLL_S)
