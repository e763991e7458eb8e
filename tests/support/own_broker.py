"""A broker of the test's own, for tests that pause, stop or wipe a broker.

The shared broker (KAFKA_BOOTSTRAP_SERVERS) serves every other test and must never be
paused, so these tests start the project's own stack in a folder of theirs
(AUDIT_STACK_DIR), with the jars copied from the work tree's cache when it has them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from audit_trail.stack import kafka_down, kafka_up
from audit_trail.stack.paths import StackPaths, repo_root
from audit_trail.stack.state import read_state


@dataclass(frozen=True)
class OwnBroker:
    root: Path

    @property
    def paths(self) -> StackPaths:
        return StackPaths(self.root)

    @property
    def pid(self) -> int:
        state = read_state(self.paths.state_file)
        assert state is not None, "the broker is not running"
        return state.pid

    @property
    def bootstrap(self) -> str:
        state = read_state(self.paths.state_file)
        assert state is not None, "the broker is not running"
        return state.bootstrap

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)


@contextmanager
def own_broker(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnBroker]:
    monkeypatch.setenv("AUDIT_STACK_DIR", str(root))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    cached = StackPaths(repo_root() / ".stack").jars_root
    mine = StackPaths(root).jars_root
    if cached.is_dir() and not mine.exists():
        shutil.copytree(cached, mine, symlinks=True)
    kafka_up()
    broker = OwnBroker(root)
    try:
        yield broker
    finally:
        state = read_state(broker.paths.state_file)
        if state is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGCONT)  # a paused JVM cannot stop
        kafka_down()
