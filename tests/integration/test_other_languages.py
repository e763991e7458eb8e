"""The guide's Java example (docs/other-languages.md) sends an event with Apache Avro's
BinaryMessageEncoder and Kafka's own Java client; our consumer stores it."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from audit_trail.stack import TopicLayout, stack_dir
from ledger import EmbeddedStore
from schemas import SESSION_FAMILY, default_registry
from tests.support.ingest import service, stored_ids

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "java"


def _jars() -> Path:
    """The example's libraries, fetched by Maven once into the stack folder."""
    target = stack_dir() / "example-java-jars"
    if not (target / "complete").exists():
        if shutil.which("mvn") is None:
            pytest.skip("Maven is not installed")
        work = target.with_suffix(".tmp")
        subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(EXAMPLE / "pom.xml"),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={work}",
            ],
            check=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        (work / "complete").write_text("ok\n")
        work.rename(target)
    return target


def test_the_java_example_is_stored(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    jars = _jars()
    session_id = str(uuid.uuid4())
    schema = default_registry().latest(SESSION_FAMILY)
    schema_file = Path(__file__).parents[2] / "schemas" / "avro" / SESSION_FAMILY
    sent = subprocess.run(
        [
            "java",
            "-cp",
            f"{jars}/*",
            str(EXAMPLE / "SendParticipantJoined.java"),
            kafka_bootstrap,
            topics.session,
            str(schema_file / f"v{schema.version}.avsc"),
            session_id,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    event_id = sent.stdout.strip().splitlines()[-1]
    store = EmbeddedStore(tmp_path / "store")
    store.migrate()
    try:
        ingest = service(kafka_bootstrap, topics, store)
        ingest.run(until_idle=True)
        assert ingest.stats.dead_letters == 0
        assert stored_ids(store, topics) == [event_id]
    finally:
        store.close()
