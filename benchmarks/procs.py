"""Workers: each measurement that opens chDB runs in its own process (chDB allows one
store directory per process, and a process of its own makes its peak RSS measurable).

A worker is ``python -m benchmarks.workers.<name> '<json args>'``; it reports with
``emit()``: one ``@@bench {json}`` line on stdout per message (other output is ignored).
The parent reaps it with ``wait4``, whose ``ru_maxrss`` is the worker's peak RSS.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARK = "@@bench "


def emit(kind: str, **data: Any) -> None:
    """Report one message to the parent (``t`` is the wall-clock time it was sent)."""
    print(MARK + json.dumps({"kind": kind, "t": time.time(), **data}, default=str), flush=True)


def worker_args() -> dict[str, Any]:
    args: dict[str, Any] = json.loads(sys.argv[1])
    return args


def wait_for_parent() -> str:
    """Block until the parent sends a line (e.g. "go", so two workers start together)."""
    return sys.stdin.readline().strip()


class WorkerFailed(RuntimeError):
    pass


@dataclass
class Finished:
    name: str
    returncode: int
    peak_rss_mb: float  # ru_maxrss from wait4
    sampled_hwm_mb: float  # the largest VmHWM read from /proc while it ran
    messages: list[dict[str, Any]] = field(default_factory=list)
    rss_samples_mb: list[float] = field(default_factory=list)  # VmRSS every ~0.1 s

    def last(self, kind: str) -> dict[str, Any]:
        found = [m for m in self.messages if m["kind"] == kind]
        if not found:
            raise WorkerFailed(f"{self.name} sent no {kind!r} message")
        return found[-1]

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["kind"] == kind]


def _vm_kb(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) of a live process in kB; zeros once it is gone."""
    found = {"VmHWM:": 0, "VmRSS:": 0}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                key = line.split(":", 1)[0] + ":"
                if key in found:
                    found[key] = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return found["VmHWM:"], found["VmRSS:"]


class Worker:
    """One running worker process; ``on_message`` runs on a reader thread."""

    def __init__(
        self,
        name: str,
        module: str,
        args: Mapping[str, Any],
        log_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        python: Path | None = None,
    ) -> None:
        self.name = name
        self.messages: list[dict[str, Any]] = []
        self._on_message = on_message
        self._hwm_kb = 0
        self._rss_kb: list[int] = []
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [
                str(python or sys.executable),
                "-m",
                f"benchmarks.workers.{module}",
                json.dumps(dict(args)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(MARK):
                message = json.loads(line[len(MARK) :])
                self.messages.append(message)
                if self._on_message is not None:
                    self._on_message(message)
            else:
                self._log.write(line)

    def wait_for(self, kind: str, timeout_s: float) -> dict[str, Any]:
        """Block until the worker sends a ``kind`` message (or fails, or time runs out)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [m for m in self.messages if m["kind"] == kind]
            if found:
                return found[-1]
            if self.exited():
                self.wait(timeout_s=10)  # raises WorkerFailed with the log tail
                break
            time.sleep(0.05)
        raise WorkerFailed(f"{self.name} sent no {kind!r} within {timeout_s:.0f} s")

    def exited(self) -> bool:
        """Whether the worker has ended, without reaping it (``wait`` reaps it)."""
        state = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return state is not None

    def send(self, line: str) -> None:
        """One line to the worker's stdin (see ``wait_for_parent``)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def terminate(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout_s: float) -> Finished:
        deadline = time.monotonic() + timeout_s
        while True:
            hwm, rss = _vm_kb(self.proc.pid)
            self._hwm_kb = max(self._hwm_kb, hwm)
            if rss:
                self._rss_kb.append(rss)
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                pid, status, usage = os.wait4(self.proc.pid, 0)
                break
            time.sleep(0.1)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self._reader.join(timeout=10)
        self._log.close()
        done = Finished(
            self.name,
            self.proc.returncode,
            usage.ru_maxrss / 1024,
            self._hwm_kb / 1024,
            self.messages,
            [kb / 1024 for kb in self._rss_kb],
        )
        if done.returncode != 0:
            tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise WorkerFailed(f"{self.name} exited with {done.returncode}; log tail:\n{tail}")
        return done


def run(
    name: str, module: str, args: Mapping[str, Any], log_dir: Path, timeout_s: float, **kw: Any
) -> Finished:
    return Worker(name, module, args, log_dir, **kw).wait(timeout_s)
