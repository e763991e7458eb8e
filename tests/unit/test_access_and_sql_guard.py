"""Pure rules: viewer parsing, identifier validation, the SQL guard, server-only migrations."""

from __future__ import annotations

import pytest

from ledger.access import Viewer, session_uuid, subject_id
from ledger.migrations import available
from ledger.sql_guard import WriteRefused, guarded
from schemas import InvalidInput


def test_viewer_parsing() -> None:
    assert Viewer.parse("auditor") == Viewer("auditor")
    assert Viewer.parse("client:client-00063") == Viewer("client", "client-00063")
    assert Viewer.parse("specialist:s@x.io") == Viewer("specialist", "s@x.io")
    for bad in ("admin", "client", "client:", "client:a b", "root:1", "client:" + "x" * 65):
        with pytest.raises(InvalidInput):
            Viewer.parse(bad)


def test_only_the_owner_or_an_auditor_sees_network_and_billing() -> None:
    client = Viewer("client", "c-1")
    assert client.may_see_network("c-1") and not client.may_see_network("s-1")
    assert client.may_see_billing("c-1") and not client.may_see_billing("c-2")
    assert Viewer("auditor").may_see_network("anyone")


def test_a_party_took_part_in_their_role_only() -> None:
    client, specialist = Viewer("client", "c-1"), Viewer("specialist", "s-1")
    booked = {"client_id": "c-1", "specialist_id": "s-1"}
    assert client.took_part_in(booked) and specialist.took_part_in(booked)
    assert not Viewer("specialist", "c-1").took_part_in(booked), "right id, wrong role"
    assert not Viewer("client", "c-2").took_part_in(booked)
    joined = {"participant_id": "c-1", "participant_role": "client", "actor_id": "c-1"}
    assert client.took_part_in(joined)
    assert not Viewer("specialist", "c-1").took_part_in(joined)
    # Acting, paying or writing in a session is not taking part in it as a party.
    assert not client.took_part_in({"actor_id": "c-1", "payer_id": "c-1", "sender_id": "c-1"})
    assert not client.took_part_in({"client_id": None, "participant_id": None})
    assert not Viewer("auditor").took_part_in(booked)
    assert not Viewer("client").took_part_in({"client_id": None})


def test_identifiers() -> None:
    assert subject_id("client-00063") == "client-00063"
    for bad in ("", "a\n", "x' OR '1'='1", "a;b", "é", "-starts-with-dash"):
        with pytest.raises(InvalidInput, match="invalid subject id"):
            subject_id(bad)
    with pytest.raises(InvalidInput, match="expected a UUID"):
        session_uuid("7da9dd22-d62f-404e-8021-649406c11e81' OR 1=1 --")


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1", "  select count() from trail;", "WITH 1 AS x SELECT x", "-- why\nSELECT 2"],
)
def test_reads_pass_wrapped_read_only(sql: str) -> None:
    wrapped = guarded(sql)
    assert wrapped.startswith("SELECT * FROM (") and "readonly = 1" in wrapped


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE trail", "got DROP"),
        ("insert into trail select * from trail", "got INSERT"),
        ("SELECT 1; DROP TABLE trail", "one statement"),
        ("/* hi */ ALTER TABLE trail DELETE WHERE 1", "got ALTER"),
        ("SELECT * FROM trail INTO OUTFILE '/tmp/x'", "OUTFILE"),
        ("", "one statement"),
        ("SET readonly = 0", "got SET"),
    ],
)
def test_writes_and_ddl_are_refused_with_a_reason(sql: str, reason: str) -> None:
    with pytest.raises(WriteRefused, match=reason):
        guarded(sql)


def test_access_control_migration_is_server_only() -> None:
    roles = [m for m in available() if m.name == "roles"]
    assert roles and roles[0].backends == frozenset({"server"})
    assert all(m.backends == {"embedded", "server"} for m in available() if m.name != "roles")
