"""Fixtures for the store contract: one suite, every backend.

``embedded`` (chDB) always runs. ``server`` runs against AUDIT_TEST_CLICKHOUSE_URL
(``clickhouse://user:password@host:9000``) when set, else a testcontainers ClickHouse
when a Docker engine answers, else it is skipped with the reason.

chDB hosts one engine per process, bound to one directory until every connection to it
is closed: each backend's stores are opened for one module and all closed at its end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from ledger import ChainHead, EmbeddedStore, Row, ServerStore, link
from ledger.store import SqlStore
from producers.simulation.trail_rows import decoded_rows
from tests.support.docker import docker_answers
from tests.support.samples import one_of_each

OpenStore = Callable[[str], SqlStore]


@pytest.fixture(scope="session")
def clickhouse_url() -> Iterator[str]:
    """A ClickHouse server's native-protocol URL, or a skip saying why there is none."""
    external = os.environ.get("AUDIT_TEST_CLICKHOUSE_URL")
    if external:
        yield external
        return
    if not docker_answers():
        pytest.skip(
            "no ClickHouse server: set AUDIT_TEST_CLICKHOUSE_URL=clickhouse://user:pw@host:9000 "
            "or run a Docker engine (testcontainers)"
        )
    from testcontainers.community.clickhouse import ClickHouseContainer

    with ClickHouseContainer("clickhouse/clickhouse-server:25.8") as container:
        yield container.get_connection_url()


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@pytest.fixture(scope="module", params=["embedded", "server"])
def open_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OpenStore]:
    """Opens stores of one backend by database name; closes them all after the module."""
    opened: list[SqlStore] = []
    if request.param == "embedded":
        path: Path = tmp_path_factory.mktemp("chdb") / "store"

        def open_one(database: str) -> SqlStore:
            opened.append(EmbeddedStore(path, database))
            return opened[-1]

    else:
        url = request.getfixturevalue("clickhouse_url")

        def open_one(database: str) -> SqlStore:
            opened.append(ServerStore(_with_database(url, database)))
            return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture(scope="module")
def store(open_store: OpenStore) -> SqlStore:
    opened = open_store(f"contract_{uuid.uuid4().hex[:8]}")
    opened.migrate()
    return opened


@pytest.fixture
def topic() -> str:
    """A topic of its own per test: rows, tokens and chain heads never collide."""
    return f"test.events-{uuid.uuid4().hex[:8]}"


def linked_rows(topic: str, partition: int = 0) -> tuple[list[Row], ChainHead]:
    """One linked row of every event type (both families) in one partition."""
    rows = decoded_rows(list(one_of_each().values()), topic, partition, 0)
    return link(rows, ChainHead.start(topic, partition))
