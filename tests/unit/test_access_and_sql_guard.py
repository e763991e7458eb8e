"""Pure rules: viewer parsing, identifier validation, the SQL guard, server-only migrations."""

from __future__ import annotations

import re

import pytest

from ledger.access import Viewer, session_uuid, subject_id
from ledger.migrations import available
from ledger.sql_ast import Kind, SqlRefused, judge
from ledger.sql_guard import engine_message
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
    booked = {"event_type": "booking_initiated", "client_id": "c-1", "specialist_id": "s-1"}
    assert client.took_part_in(booked) and specialist.took_part_in(booked)
    assert not Viewer("specialist", "c-1").took_part_in(booked), "right id, wrong role"
    assert not Viewer("client", "c-2").took_part_in(booked)
    joined = {"participant_id": "c-1", "participant_role": "client", "actor_id": "c-1"}
    assert client.took_part_in({**joined, "event_type": "participant_joined"})
    assert not Viewer("specialist", "c-1").took_part_in(
        {**joined, "event_type": "participant_joined"}
    )
    # Being named is not taking part: a denied attempt, a rating (ledger.participation).
    denied = {**joined, "event_type": "session_access_attempted", "granted": False}
    assert not client.took_part_in(denied)
    assert client.took_part_in({**denied, "granted": True})
    assert not Viewer("specialist", "s-1").took_part_in(
        {"event_type": "session_rated", "specialist_id": "s-1"}
    )
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


_SELECT_FROM = """SelectWithUnionQuery (children 1)
 ExpressionList (children 1)
  SelectQuery (children 2)
   ExpressionList (children 1)
    Asterisk
   TablesInSelectQuery (children 1)
    TablesInSelectQueryElement (children 1)
     TableExpression (children 1)
      {table}"""


def test_the_engines_tree_of_a_view_read_passes() -> None:
    tree = _SELECT_FROM.format(table="TableIdentifier v_participation (alias p)")
    assert judge(tree.splitlines(), ["system", "audit"]) is Kind.SELECT
    described = "DescribeQuery (children 1)\n TableExpression (children 1)\n  TableIdentifier v"
    assert judge(described.splitlines(), []) is Kind.DESCRIBE


@pytest.mark.parametrize(
    ("tree", "reason"),
    [
        ("DropQuery  trail", "not DropQuery"),
        ("Set", "not Set"),
        ("KillQueryQuery", "not KillQueryQuery"),
        (_SELECT_FROM.format(table="Function file (children 1)"), "table function file"),
        (_SELECT_FROM.format(table="Function numbers (children 1)"), "table function numbers"),
        (_SELECT_FROM.format(table="TableIdentifier system.tables"), "without a database"),
        (_SELECT_FROM.format(table="TableIdentifier v") + "\n Literal \\'/tmp/x\\'", "OUTFILE"),
        (_SELECT_FROM.format(table="TableIdentifier v") + "\n Identifier JSON", "FORMAT"),
        (_SELECT_FROM.format(table="TableIdentifier v") + "\n   Set", "SETTINGS"),
        (_SELECT_FROM.format(table="TableIdentifier v") + "\n   Function file", "file()"),
        (_SELECT_FROM.format(table="TableIdentifier v") + "\n   Function dictGetString", "dict"),
        (_SELECT_FROM.format(table="TableIdentifier v") + "\n   Identifier Audit.keys", "database"),
    ],
)
def test_the_engines_tree_of_anything_else_is_refused(tree: str, reason: str) -> None:
    with pytest.raises(SqlRefused, match=reason):
        judge(tree.splitlines(), ["system", "audit"])


def test_engine_messages_lose_their_wrappers() -> None:
    raw = (
        "chDB query failed: Code: 164. DB::Exception: Code: 164. DB::Exception: Cannot modify "
        "'readonly' setting in readonly mode. (READONLY) (version 26.9.2.1). (READONLY)"
    )
    assert engine_message(raw) == (
        "refused by ClickHouse: Cannot modify 'readonly' setting in readonly mode (READONLY)"
    )
    unknown = (
        "chDB query failed: Code: 60. DB::Exception: Unknown table expression identifier 't'. "
        "Maybe you meant audit.subject_keys? In scope SELECT *\nFROM t. (UNKNOWN_TABLE)"
    )
    assert engine_message(unknown) == (
        "refused by ClickHouse: Unknown table expression identifier 't' (UNKNOWN_TABLE)"
    )


_ACCESS_CONTROL = {"roles", "ingest_grants"}


def test_access_control_migrations_are_server_only() -> None:
    control = [m for m in available() if m.name in _ACCESS_CONTROL]
    assert {m.name for m in control} == _ACCESS_CONTROL
    assert all(m.backends == frozenset({"server"}) for m in control)
    assert all(
        m.backends == {"embedded", "server"} for m in available() if m.name not in _ACCESS_CONTROL
    )


def test_the_consumer_role_is_granted_every_table_the_migrations_create() -> None:
    """A table added without a grant works on chDB (no access control) and fails on a
    server the first time the consumer touches it."""
    sql = "\n".join(m.sql for m in available())
    tables = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", sql))
    granted = set(re.findall(r"GRANT INSERT, SELECT ON (\w+) TO audit_ingest", sql))
    assert tables and tables <= granted, f"no grant for audit_ingest on {tables - granted}"
