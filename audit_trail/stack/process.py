"""Launching the broker JVM as a detached process, recognising it later, and stopping it.

The broker must outlive the command that started it (a CLI call, a test session), so it runs in
its own session and process group. Later commands only have its pid from the state file, so
liveness checks must cope with zombies (when we are still its parent) and with pid reuse
(when the broker died long ago and the pid now belongs to something else).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from .errors import StackError
from .kraft import BROKER_HEAP, java_command
from .paths import StackPaths

BROKER_MAIN_CLASS = "kafka.Kafka"
# Kafka's controlled shutdown of a single node takes a few seconds; 30 s covers a loaded box.
STOP_GRACE_S = 30.0
_KILL_WAIT_S = 10.0
_POLL_S = 0.2


def start_broker(jars: Path, paths: StackPaths) -> int:
    """Start `kafka.Kafka server.properties` detached; return its pid (= its process group)."""
    cmd = java_command(
        jars, paths, BROKER_MAIN_CLASS, [str(paths.server_properties)], heap=BROKER_HEAP
    )
    paths.logs_dir.mkdir(parents=True, exist_ok=True)
    with paths.broker_out.open("ab") as out:
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=paths.root,
                # Own session: survives our exit and Ctrl-C in our terminal, and can be
                # signalled as a group by `down`.
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"could not launch the broker JVM ({cmd[0]}): {exc}") from exc
    # A daemon thread waits on the child: it reaps the broker if it dies while we run (no
    # zombie), and it keeps the Popen object alive through interpreter shutdown, so
    # Popen.__del__ never warns "subprocess is still running" about a broker meant to outlive us.
    threading.Thread(target=proc.wait, name=f"kafka-broker-{proc.pid}", daemon=True).start()
    return proc.pid


def pid_alive(pid: int) -> bool:
    """Return True if `pid` is a running (not zombie) process."""
    try:
        # Reaps the broker if it is our own dead child; otherwise ChildProcessError.
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return _proc_state(pid) != "Z"


def _proc_state(pid: int) -> str | None:
    """Return the one-letter state from /proc/<pid>/stat (Linux), or None if unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces; the state follows its closing paren.
    _, _, rest = stat.rpartition(")")
    fields = rest.split()
    return fields[0] if fields else None


def is_our_broker(pid: int, paths: StackPaths) -> bool:
    """Return True if `pid` is alive and is the broker of this stack dir (not a reused pid)."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False  # exited between the two checks
    except OSError:
        return True  # no /proc (non-Linux): trust the pid
    args = cmdline.split(b"\0")
    return BROKER_MAIN_CLASS.encode() in args and str(paths.server_properties).encode() in args


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        raise StackError(
            f"not allowed to signal broker process group {pid}; was it started by another user?"
        ) from exc


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(_POLL_S)
    return not pid_alive(pid)


def stop_broker(pid: int, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the broker's process group, wait up to `grace_s`, then SIGKILL it."""
    if not pid_alive(pid):
        return
    # SIGTERM runs Kafka's shutdown hook: controlled shutdown, clean log close.
    _signal_group(pid, signal.SIGTERM)
    if _wait_gone(pid, grace_s):
        return
    _signal_group(pid, signal.SIGKILL)
    if not _wait_gone(pid, _KILL_WAIT_S):
        raise StackError(f"broker pid {pid} survived SIGKILL; check `ps -o stat,cmd -p {pid}`")
