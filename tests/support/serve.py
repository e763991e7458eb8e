"""`audit-trail serve` as its own process on an embedded store and the real broker, for
tests that talk to it over real sockets; its logs go to a file the test can read."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from audit_trail.stack import TopicLayout, ensure_topics
from audit_trail.tokens import mint
from producers.events import Event

CLI = [sys.executable, "-m", "audit_trail.cli"]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], T | None], what: str, timeout_s: float = 120.0) -> T:
    """``check()``'s first truthy answer; HTTP errors count as "not yet"."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@dataclass
class Serve:
    """One serve process at a time over one store; ``restart`` keeps the store."""

    bootstrap: str
    data_dir: Path
    log_path: Path
    secret: str
    topics: TopicLayout = field(init=False)
    env: dict[str, str] = field(init=False)
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    events: list[Event] = field(default_factory=list)  # what the test produced

    def __post_init__(self) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.topics = TopicLayout(
            f"vw.session-{suffix}", f"vw.transaction-{suffix}", f"vw.dlq-{suffix}"
        )
        ensure_topics(self.bootstrap, self.topics)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIT_")}
        self.env.update(
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            AUDIT_DATA_DIR=str(self.data_dir),
            AUDIT_TOPIC_SESSION=self.topics.session,
            AUDIT_TOPIC_TRANSACTION=self.topics.transaction,
            AUDIT_TOPIC_DEAD_LETTER=self.topics.dead_letter,
            AUDIT_CONSUMER_GROUP=f"viewer-{suffix}",
            AUDIT_TOKEN_HS256_SECRETS=json.dumps({"t1": self.secret}),
            AUDIT_BATCH_MAX_AGE_MS="50",
        )

    def start(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*CLI, "serve"], env={**self.env, "AUDIT_SERVE_PORT": str(port)},
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(lambda: httpx.get(f"{self.url}/healthz").status_code == 200, "serve to listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def token(self, role: str, sub: str, *, session: object = None, ttl_s: int = 600) -> str:
        return mint(
            role=role, sub=sub, ttl_s=ttl_s, kid="t1", algorithm="HS256",
            signing_key=self.secret.encode(), session=None if session is None else str(session),
        )  # fmt: skip

    def get(self, path: str, token: str, **params: Any) -> httpx.Response:
        return httpx.get(
            self.url + path, params=params, headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
