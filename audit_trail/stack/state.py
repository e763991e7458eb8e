"""The state file that lets later commands find the broker an earlier command started.

`up`, `down` and `status` usually run in different processes (a CLI call, then a test run), so
the broker's pid and address live in a small JSON file in the stack dir. A file lock keeps two
concurrent `up` calls (e.g. parallel test workers) from starting two brokers.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import StackError

STATE_VERSION = 1


@dataclass(frozen=True)
class BrokerState:
    pid: int
    bootstrap: str  # "127.0.0.1:PORT", what clients pass as bootstrap_servers
    controller: str  # "127.0.0.1:PORT", the KRaft controller listener
    kafka_version: str
    cluster_id: str
    started_at: float  # time.time() when the JVM was launched

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, **asdict(self)}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BrokerState:
        """Parse a state file; raise ValueError for anything that is not a valid one."""
        raw: Any = json.loads(text)
        if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
            raise ValueError("not a version-1 stack state file")
        try:
            return cls(
                pid=int(raw["pid"]),
                bootstrap=str(raw["bootstrap"]),
                controller=str(raw["controller"]),
                kafka_version=str(raw["kafka_version"]),
                cluster_id=str(raw["cluster_id"]),
                started_at=float(raw["started_at"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"incomplete stack state file: {exc}") from exc


@dataclass(frozen=True)
class ClusterRecord:
    """What a formatted data dir belongs to: restarted on the same ports with the same
    id, so clients configured with its address find it again, data and all."""

    broker_port: int
    controller_port: int
    cluster_id: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def write_cluster(path: Path, record: ClusterRecord) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(record.to_json(), encoding="utf-8")
    os.replace(tmp, path)


def read_cluster(path: Path) -> ClusterRecord | None:
    """The recorded cluster, or None (none yet, or unreadable: then `up` starts afresh)."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
        return ClusterRecord(
            int(raw["broker_port"]), int(raw["controller_port"]), str(raw["cluster_id"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(path: Path, state: BrokerState) -> None:
    """Write the state file atomically, so a reader never sees half a JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(state.to_json(), encoding="utf-8")
    os.replace(tmp, path)


def read_state(path: Path) -> BrokerState | None:
    """Return the recorded broker, or None if there is none.

    A corrupt file (hand-edited, older format) counts as none: the worst case is that `up`
    starts a new broker, which is what the user wants when the old record is unusable.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StackError(f"cannot read the stack state file {path}: {exc}") from exc
    try:
        return BrokerState.from_json(text)
    except ValueError:
        return None


def clear_state(path: Path) -> None:
    path.unlink(missing_ok=True)


@contextmanager
def stack_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` for the duration of the block.

    Blocks rather than failing: a second `up` waiting for the first one to finish is exactly
    right, since it then finds the broker running and reuses it. The lock dies with the
    process, so a crashed `up` never leaves the stack locked.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except OSError as exc:
            raise StackError(f"cannot lock {path}; is the stack dir writable? ({exc})") from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
