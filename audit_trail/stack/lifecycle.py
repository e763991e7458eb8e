"""`up`, `down` and `status` of the local Kafka stack: the steps of the other modules in order.

With KAFKA_BOOTSTRAP_SERVERS set the stack manages nothing: `up` only ensures the project's
topics on that broker and `down` is a no-op, so the same test code runs against CI services.

`down` then `up` restarts the same broker: same data, same ports, same cluster id (a
broker that started over would leave the trail's chains ahead of its topics). Only
`reset` wipes the data, and the next `up` formats a new cluster on new ports.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from audit_trail.topic_configs import DEFAULT_RETENTION_DAYS
from audit_trail.topics import DEFAULT_TOPICS, ensure_topics

from . import kraft, maven, process, secure_listener
from .errors import StackError, with_log_tails
from .paths import StackPaths, external_bootstrap
from .probe import broker_answers, wait_until_answers
from .state import (
    BrokerState,
    ClusterRecord,
    clear_state,
    read_cluster,
    read_state,
    stack_lock,
    write_cluster,
    write_state,
)

log = logging.getLogger(__name__)

# A broker that dies at once most likely lost a race for its free port; one retry with new
# ports fixes that without hiding real config errors (those fail the same way twice).
_START_ATTEMPTS = 2


@dataclass(frozen=True)
class StackStatus:
    running: bool  # local: the recorded broker process is alive; external: it answers
    external: bool  # True when KAFKA_BOOTSTRAP_SERVERS points at a broker we do not manage
    bootstrap: str | None
    pid: int | None
    answers: bool  # a kafka-python admin client got a cluster description from it


def kafka_up(timeout_s: float = 90.0, retention_days: int = DEFAULT_RETENTION_DAYS) -> str:
    """Start (or reuse) the local broker, ensure the project's topics, return its bootstrap.

    Topics it creates keep records ``retention_days`` (`topic_configs`); `ensure_topics`
    says how existing ones differ.

    `timeout_s` bounds the wait for the broker to answer; the one-time Maven download has its
    own limit (maven.MAVEN_TIMEOUT_S).
    """
    external = external_bootstrap()
    if external is not None:
        ensure_topics(external, DEFAULT_TOPICS, retention_days=retention_days)
        return external
    paths = StackPaths.default()
    paths.root.mkdir(parents=True, exist_ok=True)
    with stack_lock(paths.lock_file):
        bootstrap = _reuse_running(paths, timeout_s) or _start_fresh(paths, timeout_s)
    ensure_topics(bootstrap, DEFAULT_TOPICS, retention_days=retention_days)
    return bootstrap


def _reuse_running(paths: StackPaths, timeout_s: float) -> str | None:
    state = read_state(paths.state_file)
    if state is None:
        return None
    if not process.is_our_broker(state.pid, paths):
        log.info("Recorded broker pid %d is gone; starting a new one", state.pid)
        clear_state(paths.state_file)
        return None
    # Alive: either serving, or still starting (e.g. launched by a parallel `up`).
    outcome = wait_until_answers(
        state.bootstrap, timeout_s, lambda: process.is_our_broker(state.pid, paths)
    )
    if outcome == "answers":
        return state.bootstrap
    if outcome == "exited":
        clear_state(paths.state_file)
        return None
    raise StackError(
        with_log_tails(
            f"the local broker (pid {state.pid}, {state.bootstrap}) is running but has not "
            f"answered for {timeout_s:.0f}s. Run `python -m audit_trail.stack down` and retry.",
            [(paths.broker_log, 0), (paths.broker_out, 0)],
        )
    )


def _log_marks(paths: StackPaths) -> list[tuple[Path, int]]:
    """Current sizes of the broker's (appended) logs, so errors quote only the new part."""
    marks: list[tuple[Path, int]] = []
    for log_file in (paths.broker_log, paths.broker_out):
        try:
            marks.append((log_file, log_file.stat().st_size))
        except FileNotFoundError:
            marks.append((log_file, 0))
    return marks


def _start_fresh(paths: StackPaths, timeout_s: float) -> str:
    jars = maven.ensure_jars(paths)
    version = maven.kafka_version()
    kept = read_cluster(paths.cluster_file) if paths.formatted_marker.exists() else None
    # The kept cluster gets one attempt: its ports are its address, not ours to change.
    attempts = 1 if kept is not None else _START_ATTEMPTS
    for attempt in range(1, attempts + 1):
        secure = _secure_listener(paths, fresh=kept is None)
        if kept is not None:
            ports = kraft.BrokerPorts(kept.broker_port, kept.controller_port)
            cluster_id = kept.cluster_id
            kraft.write_config(paths, ports, wipe=False, secure=secure)
            marks = _log_marks(paths)
        else:
            ports = kraft.pick_ports()
            cluster_id = kraft.new_cluster_id()
            kraft.write_config(paths, ports, secure=secure)
            marks = _log_marks(paths)
            kraft.format_storage(jars, paths, cluster_id, secure)
            write_cluster(
                paths.cluster_file, ClusterRecord(ports.broker, ports.controller, cluster_id)
            )
        started = time.time()
        pid = process.start_broker(jars, paths)
        state = BrokerState(
            pid=pid,
            bootstrap=ports.bootstrap,
            controller=f"{kraft.HOST}:{ports.controller}",
            kafka_version=version,
            cluster_id=cluster_id,
            started_at=started,
        )
        # Recorded before waiting, so a `down` from another shell can stop a hung start.
        write_state(paths.state_file, state)
        log.info("Started Kafka %s (pid %d) on %s; waiting for it", version, pid, ports.bootstrap)
        outcome = wait_until_answers(ports.bootstrap, timeout_s, partial(process.pid_alive, pid))
        if outcome == "answers":
            log.info("Kafka answers on %s after %.1fs", ports.bootstrap, time.time() - started)
            return ports.bootstrap
        process.stop_broker(pid)
        clear_state(paths.state_file)
        if outcome == "exited" and attempt < _START_ATTEMPTS:
            log.warning("Broker exited during startup; retrying once with new ports")
            continue
        what = (
            "exited during startup"
            if outcome == "exited"
            else f"did not answer in {timeout_s:.0f}s"
        )
        hint = (
            f"It keeps its data and ports ({ports.bootstrap}): if another program holds a "
            "port, stop it, or `audit-trail stack reset --yes` (deletes the broker's data)."
            if kept is not None
            else f"`rm -rf {paths.root}` resets everything, including cached jars."
        )
        raise StackError(
            with_log_tails(
                f"the local Kafka broker {what} (pid {pid}, {ports.bootstrap}). See the log "
                f"tails below. {hint}",
                marks,
            )
        )
    raise AssertionError("unreachable: the loop returns or raises")


def _secure_listener(paths: StackPaths, fresh: bool) -> secure_listener.SecureListener | None:
    """The SASL_SSL listener when asked for: made anew with fresh storage (its SCRAM user
    is written at format), else the kept one (same port, certificates and user)."""
    if not secure_listener.wanted():
        return None
    folder = paths.root / "sasl_ssl"
    if not fresh:
        return secure_listener.load(folder)
    return secure_listener.prepare(folder, kraft.HOST, kraft.free_ports(1)[0])


def kafka_down() -> None:
    """Stop the local broker; the next `up` starts it again with its data and ports."""
    if external_bootstrap() is not None:
        log.info("KAFKA_BOOTSTRAP_SERVERS is set: that broker is not ours to stop")
        return
    paths = StackPaths.default()
    if not paths.root.exists():
        return
    with stack_lock(paths.lock_file):
        state = read_state(paths.state_file)
        if state is None:
            return
        if process.is_our_broker(state.pid, paths):
            log.info("Stopping Kafka (pid %d, %s)", state.pid, state.bootstrap)
            process.stop_broker(state.pid)
        clear_state(paths.state_file)


def kafka_reset() -> None:
    """Stop the local broker and delete its data: the next `up` is a new cluster, whose
    topics start at offset 0 (a trail built from the old one refuses them until an
    operator runs `audit-trail chain restart`)."""
    if external_bootstrap() is not None:
        raise StackError("KAFKA_BOOTSTRAP_SERVERS is set: that broker is not ours to reset")
    kafka_down()
    paths = StackPaths.default()
    if not paths.root.exists():
        return
    with stack_lock(paths.lock_file):
        if paths.data_dir.exists():
            shutil.rmtree(paths.data_dir)
        paths.cluster_file.unlink(missing_ok=True)
    log.info("Deleted the broker's data in %s", paths.data_dir)


def kafka_status() -> StackStatus:
    """Report the broker without changing anything (no lock: it must not wait on an `up`)."""
    external = external_bootstrap()
    if external is not None:
        answers = broker_answers(external)
        return StackStatus(
            running=answers, external=True, bootstrap=external, pid=None, answers=answers
        )
    paths = StackPaths.default()
    state = read_state(paths.state_file)
    if state is None:
        return StackStatus(running=False, external=False, bootstrap=None, pid=None, answers=False)
    running = process.is_our_broker(state.pid, paths)
    answers = running and broker_answers(state.bootstrap)
    return StackStatus(
        running=running, external=False, bootstrap=state.bootstrap, pid=state.pid, answers=answers
    )
