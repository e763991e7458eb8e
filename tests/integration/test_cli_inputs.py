"""The CLI as a careless user and a tired operator meet it: every bad input gets one line
naming what is wrong (exit 2 for usage, 1 for a run-time failure), never a traceback;
readers never create a store; erase refuses ids the trail never saw; old events are
reported, not counted as stored."""

from __future__ import annotations

import base64
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit_trail.stack import TopicLayout, ensure_topics
from ledger import EmbeddedStore
from producers import AuditProducer
from producers.events import Event
from tests.support.ingest import cli_env, family_topics
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "audit_trail.cli"]
MASTER = base64.b64encode(b"m" * 32).decode()


@dataclass
class Cli:
    env: dict[str, str]
    data_dir: Path

    def run(
        self, *args: str, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env={**self.env, **env}, input=stdin, capture_output=True,
            text=True, timeout=180,
        )  # fmt: skip


def _cli(bootstrap: str, where: Path) -> Cli:
    suffix = uuid.uuid4().hex[:8]
    # Its own erasures topic: erasures published by other runs are not this store's.
    topics = TopicLayout(
        f"c.session-{suffix}", f"c.transaction-{suffix}", f"c.dlq-{suffix}", f"c.erasures-{suffix}"
    )
    ensure_topics(bootstrap, topics)  # an operator's step: no command creates topics
    env = cli_env(bootstrap, topics) | {
        "AUDIT_CONSUMER_GROUP": f"cli-{suffix}",
        "AUDIT_DATA_DIR": str(where / "store"),
        "AUDIT_MASTER_KEY": MASTER,
    }
    return Cli(env, where / "store")


def _one_line_error(out: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def cli(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    made = _cli(kafka_bootstrap, tmp_path_factory.mktemp("cli"))
    sent = made.run("simulate", "--sessions", "4", "--seed", "5", "--start", "2026-11-02")
    assert sent.returncode == 0, sent.stderr
    stored = made.run("consume", "--until-idle")
    assert stored.returncode == 0, stored.stderr
    yield made


def _a_session_and_booking(cli: Cli) -> tuple[str, str, str]:
    """(session id, booking id, the session's client) from the auditor's json view."""
    out = cli.run("timeline")
    sid = out.stdout.split()[1].rstrip(":")
    import json

    rows = json.loads(cli.run("trail", sid, "--as", "auditor", "--format", "json").stdout)
    booking = next(r for r in rows if r["event_type"] == "booking_initiated")
    return sid, booking["booking_id"], booking["client_id"]


READERS = [
    ["counts"],
    ["verify"],
    ["timeline"],
    ["trail", str(uuid.UUID(int=1)), "--as", "auditor"],
    ["payments", "--booking", str(uuid.UUID(int=1)), "--as", "auditor"],
    ["export", "client-00001"],
    ["erase", "client-00001", "--yes"],
]


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_readers_refuse_a_directory_that_holds_no_store(
    cli: Cli, tmp_path: Path, command: list[str]
) -> None:
    typo = tmp_path / "vra"
    out = cli.run(*command, AUDIT_DATA_DIR=str(typo), AUDIT_MASTER_KEY="")
    _one_line_error(out, 2, "no trail store", str(typo), "AUDIT_DATA_DIR", "consume")
    assert list(tmp_path.iterdir()) == [], "nothing may be created: no store, no master key"


@pytest.mark.parametrize(
    ("args", "env", "code", "words"),
    [
        (["timeline", "not-a-uuid"], {}, 2, ["invalid session id", "not-a-uuid"]),
        (["trail", str(uuid.UUID(int=1)), "--as", "auditor", "--format", "yaml"], {}, 2,
         ["--format", "yaml", "table or json"]),
        (["payments", "--booking", str(uuid.UUID(int=1)), "--as", "auditor", "--format", "xml"],
         {}, 2, ["--format", "xml"]),
        (["export", "client-00001", "--format", "xml"], {}, 2, ["--format", "jsonl or csv"]),
        (["payments", "--as", "auditor"], {}, 2, ["--booking or --transaction"]),
        (["trail", "--as", "auditor"], {}, 2, ["session_id"]),
        (["trail", str(uuid.UUID(int=1)), "--as", "boss"], {}, 2, ["unknown role", "boss"]),
        (["counts"], {"AUDIT_BATCH_MAX_ROWS": "abc"}, 2, ["AUDIT_BATCH_MAX_ROWS", "abc"]),
        (["counts"], {"AUDIT_TOPIC_PARTITIONS": "0"}, 2, ["AUDIT_TOPIC_PARTITIONS"]),
        (["counts"], {"AUDIT_CLICKHOUSE_URL": "clickhouse://u:p@127.0.0.1:1/x?connect_timeout=1"},
         1, ["Connection refused"]),
        (["simulate", "--sessions", "abc"], {}, 2, ["--sessions"]),
        (["produce", "--file", "/nonexistent/e.jsonl"], {}, 2, ["no such file"]),
        (["export", "client-00001", "--out", "/nonexistent/x.csv"], {}, 2, ["--out"]),
        (["export", "client-00001", "--out", "/tmp"], {}, 2, ["--out"]),
        (["consume", "--until-idle"], {"AUDIT_DATA_DIR": "/etc/hostname"}, 2,
         ["not a directory"]),
    ],
)  # fmt: skip
def test_bad_input_gets_one_line_naming_it(
    cli: Cli, args: list[str], env: dict[str, str], code: int, words: list[str]
) -> None:
    _one_line_error(cli.run(*args, **env), code, *words)


def test_auditors_are_told_not_found_and_parties_not_permitted_alike(cli: Cli) -> None:
    sid, booking, client = _a_session_and_booking(cli)
    unknown = str(uuid.uuid4())
    _one_line_error(cli.run("trail", unknown, "--as", "auditor"), 1, "not found", unknown)
    _one_line_error(
        cli.run("payments", "--booking", unknown, "--as", "auditor"), 1, "not found", unknown
    )
    _one_line_error(cli.run("timeline", unknown), 1, "not found", unknown)
    stranger = "client:client-09999"
    said = [
        _one_line_error(cli.run("trail", s, "--as", stranger), 1, "not permitted").replace(s, "X")
        for s in (sid, unknown)
    ]
    assert said[0] == said[1]
    said = [
        _one_line_error(
            cli.run("payments", "--booking", b, "--as", stranger), 1, "not permitted"
        ).replace(b, "X")
        for b in (booking, unknown)
    ]
    assert said[0] == said[1]
    assert cli.run("payments", "--booking", booking, "--as", f"client:{client}").returncode == 0


def test_erase_refuses_an_id_the_trail_never_saw_unless_forced(cli: Cli) -> None:
    _one_line_error(cli.run("erase", "no-such-person", "--yes"), 2, "no-such-person", "--force")
    with EmbeddedStore(cli.data_dir) as store:
        assert store.query("SELECT count() FROM erasures")[0][0] == 0, "nothing recorded"
    forced = cli.run("erase", "no-such-person", "--yes", "--force")
    assert forced.returncode == 0 and "erased no-such-person" in forced.stdout, forced.stderr


def test_produce_reads_standard_input(cli: Cli) -> None:
    lines = "".join(e.model_dump_json() + "\n" for e in list(one_of_each(seed=8).values())[:3])
    out = cli.run("produce", "--file", "-", stdin=lines)
    assert out.returncode == 0, out.stderr
    assert "total" in out.stdout and out.stdout.split()[-1] == "3"


def _aged(event: Event, at: datetime, who: str) -> Event:
    actor = event.actor.model_copy(update={"id": who})
    return event.model_copy(update={"occurred_at": at, "actor": actor, "event_id": uuid.uuid4()})


def test_consume_reports_rows_past_retention_and_creates_no_keys_for_them(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    fresh = _cli(kafka_bootstrap, tmp_path)
    samples = one_of_each(seed=9)
    now = datetime.now(UTC).replace(microsecond=0)
    recent = [
        _aged(samples[t], now, f"client-new{i}")
        for i, t in enumerate(
            ["participant_joined", "participant_left", "session_completed", "note_saved",
             "payment_attempted"]
        )
    ]  # fmt: skip
    old = [
        _aged(samples["chat_message_sent"], datetime(2024, 1, 5, tzinfo=UTC), "client-old1"),
        _aged(samples["participant_joined"], datetime(2021, 1, 5, tzinfo=UTC), "client-old2"),
        _aged(samples["payment_failed"], datetime(2019, 1, 5, tzinfo=UTC), "client-old3"),
    ]
    topics = TopicLayout(
        fresh.env["AUDIT_TOPIC_SESSION"],
        fresh.env["AUDIT_TOPIC_TRANSACTION"],
        fresh.env["AUDIT_TOPIC_DEAD_LETTER"],
    )
    with AuditProducer(kafka_bootstrap, family_topics(topics)) as producer:
        for event in [*recent, *old]:
            producer.send(event)
    out = fresh.run("consume", "--until-idle")
    assert out.returncode == 0, out.stderr
    assert "stored 5 rows" in out.stdout, out.stdout
    assert "3 row(s) were past retention" in out.stdout
    assert "chat/note/file older than 12" in out.stdout and "billing older than 60" in out.stdout
    with EmbeddedStore(fresh.data_dir) as store:
        assert store.query("SELECT count() FROM trail")[0][0] == 5
        keyed = {r[0] for r in store.query("SELECT DISTINCT subject_id FROM subject_keys")}
        assert keyed and not {e.actor.id for e in old} & keyed, keyed
    verified = fresh.run("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
