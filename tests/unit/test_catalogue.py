"""The catalogue of event types is the one declaration: every model and Avro branch is in
it, its mistakes stop the import, and the rules derived from it say what it says."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from audit_trail.cli.reader_cmd import _SHOWN
from ledger.columns import COLUMN_NAMES, INDEX, ROW_COLUMNS
from ledger.participation import PROOF_EVENT_TYPES
from ledger.privacy.sealing import PERSONAL_COLUMNS
from ledger.retention import RetentionPolicy
from ledger.subjects import subject_columns, subjects_sql
from ledger.trail_row import TrailRow
from schemas import default_registry
from schemas.catalogue import EVENTS, EventSpec, Personal, TookPart, _check
from schemas.events.envelope import Event
from schemas.events.parsing import EVENT_TYPES
from schemas.events.session import SessionCompleted, SessionRated

ROOT = Path(__file__).resolve().parents[2]


def _concrete(cls: type[Event]) -> set[type[Event]]:
    found = set()
    for sub in cls.__subclasses__():
        if "event_type" in inspect.get_annotations(sub):
            found.add(sub)
        found |= _concrete(sub)
    return found


def test_every_model_and_every_avro_branch_is_catalogued() -> None:
    assert {s.model for s in EVENTS} == _concrete(Event)
    registry = default_registry()
    branches = {
        branch["name"]
        for family in registry.families
        for field in registry.latest(family).source["fields"]
        if field["name"] == "payload"
        for branch in field["type"]
    }
    assert {s.model.__name__ for s in EVENTS} == branches
    assert list(EVENT_TYPES) == [s.event_type for s in EVENTS]


def test_consumers_never_import_producers() -> None:
    for path in sorted((ROOT / "consumers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.split(".")[0] == "producers"], path.name


def _spec(**changes: object) -> EventSpec:
    base = EventSpec(SessionRated, "other", {"rater_id": "rater", "specialist_id": "party"})
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (_spec(people={"nobody_id": "party"}), "no such field"),
        (_spec(shown=("comment",)), "shown field comment"),
        (_spec(personal={"rater_id": Personal("payer")}), "name one payer field"),
        (_spec(took_part=(TookPart("rater_id"),)), "needs a role"),
        (_spec(took_part=(TookPart("service_stars", role="client"),)), "names nobody"),
    ],
)
def test_a_careless_declaration_stops_the_import_naming_it(spec: EventSpec, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        _check((spec,))


def test_one_field_has_one_capacity_and_one_key_everywhere() -> None:
    completed = EventSpec(SessionCompleted, "other", {"specialist_id": "rater"})
    with pytest.raises(ValueError, match="specialist_id is a party elsewhere"):
        _check((_spec(), completed))


def test_the_sealing_plan_is_the_catalogues() -> None:
    plan = {c.name: (COLUMN_NAMES[c.subject_index], c.purpose) for c in PERSONAL_COLUMNS}
    assert plan["payer_name"] == plan["payer_email"] == ("payer_id", "billing")
    assert plan["network_ip"] == ("actor_id", "personal")
    assert all(INDEX[name] == c.index for c, name in zip(PERSONAL_COLUMNS, plan, strict=True))


def test_subjects_took_part_and_shown_come_from_the_declarations() -> None:
    people = {f for s in EVENTS for f in s.people} | {"actor_id"}
    assert set(subject_columns()) == people
    assert all(f"ifNull({c}, '')" in subjects_sql() for c in people - {"actor_id"})
    assert set(PROOF_EVENT_TYPES) == {s.event_type for s in EVENTS if s.took_part}
    assert {f for s in EVENTS for f in s.shown} <= set(_SHOWN)


def test_every_type_has_its_categorys_retention_in_the_ttl() -> None:
    policy = RetentionPolicy(chat_note_file_months=7, billing_months=61, other_months=25)
    ttl = policy.ttl_sql()
    for spec in EVENTS:
        assert policy.category_of(spec.family, spec.event_type) == spec.retention
        listed = f"'{spec.event_type}'" in ttl
        assert listed == (spec.retention != "other")  # "other": every type not listed
    assert policy.category_of("dead_letter", "dead_letter") == "other"


def test_the_named_row_is_the_columns_and_its_typed_fields_sit_where_they_say() -> None:
    row = TrailRow._make(range(len(ROW_COLUMNS)))
    assert TrailRow._fields == tuple(c.name for c in ROW_COLUMNS)
    source = (ROOT / "ledger" / "trail_row.py").read_text(encoding="utf-8")
    typed = re.findall(r"^        (\w+): ", source, re.MULTILINE)
    assert typed, "the type checker's TrailRow declares no fields"
    for name in typed:
        assert getattr(row, name) == INDEX[name], name
