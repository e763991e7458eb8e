"""The checklist of docs/adding-an-event-type.md, one check per step: each names what a
new type or field still lacks. Each check is also run on the shipped state with a step
taken out (v2's migration, catalogue entry, simulator), to show it notices."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from ledger.columns import PAYLOAD
from ledger.subjects import subject_columns
from producers.simulation import simulate
from schemas import check_registry, default_registry
from schemas.catalogue import EVENTS, EventSpec
from schemas.events.envelope import ENVELOPE_FIELDS, Event
from tests.support.samples import DAY

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "adding-an-event-type.md"
MIGRATIONS = ROOT / "ledger" / "migrations"


def _branches(version: int | None = None) -> dict[str, set[str]]:
    """Payload record name -> field names, in each family's newest (or given) version."""
    registry = default_registry()
    found: dict[str, set[str]] = {}
    for family in registry.families:
        versions = registry.versions(family)
        chosen = [v for v in versions if version is None or v.version == version]
        for schema in chosen[-1:]:
            payload = next(f for f in schema.source["fields"] if f["name"] == "payload")
            found |= {b["name"]: {f["name"] for f in b["fields"]} for b in payload["type"]}
    return found


def missing_schema() -> list[str]:
    problems = [str(p) for p in check_registry(default_registry())]
    newest = _branches()
    for spec in EVENTS:
        if spec.model.__name__ not in newest:
            problems.append(f"{spec.event_type}: no {spec.model.__name__} record in {spec.family}")
        elif spec.model.__name__ not in _branches(spec.since):
            problems.append(f"{spec.event_type}: since={spec.since}, not in that version")
    return problems


def missing_model() -> list[str]:
    models = {s.model.__name__: s.model for s in EVENTS}
    problems = []
    for name, fields in _branches().items():
        model = models.get(name)
        if model is None:
            problems.append(f"Avro record {name} has no catalogued model")
        elif fields != set(model.model_fields) - set(ENVELOPE_FIELDS):
            problems.append(f"{name}: model fields differ from the Avro record's")
    return problems


def _concrete(cls: type[Event]) -> Iterable[type[Event]]:
    for sub in cls.__subclasses__():
        if isinstance(sub.model_fields["event_type"].default, str):
            yield sub
        yield from _concrete(sub)


def missing_catalogue(events: Iterable[EventSpec] = EVENTS) -> list[str]:
    catalogued = {s.model for s in events}
    return [f"model {m.__name__} is not in the catalogue" for m in _concrete(Event)
            if m not in catalogued]  # fmt: skip


def _migration_texts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(MIGRATIONS.glob("*.sql"))}


def missing_migration(texts: Mapping[str, str]) -> list[str]:
    """Every payload column created (0001's table or an ADD COLUMN) with its derived type,
    and every person column in the last `subjects` expression."""
    created: dict[str, str] = {}
    subjects = ""
    for text in texts.values():
        sql = re.sub(r"--[^\n]*", "", text)
        table = re.search(r"CREATE TABLE IF NOT EXISTS trail\s*\((.*?)\n\)", sql, re.DOTALL)
        if table:
            for line in table[1].splitlines():
                parts = line.strip().rstrip(",").split(None, 1)
                if len(parts) == 2:
                    created[parts[0]] = parts[1]
        for name, kind in re.findall(r"ADD COLUMN IF NOT EXISTS (\w+) (.+?)(?: AFTER \w+)?;", sql):
            created[name] = kind.strip()
        subjects = next(
            iter(re.findall(r"subjects Array\(String\) MATERIALIZED(.*?);", sql, re.DOTALL)),
            subjects,
        )
    problems = [
        f"no migration adds column {c.name} {c.type}"
        for c in PAYLOAD
        if created.get(c.name) != c.type
    ]
    problems += [f"subjects leaves out {c}" for c in subject_columns() if c not in subjects]
    return problems


def missing_simulator(event_types: Iterable[str]) -> list[str]:
    played = set(event_types)
    return [
        f"the simulator never plays {s.event_type}" for s in EVENTS if s.event_type not in played
    ]


def _simulated() -> list[str]:
    return [e.event_type for e in simulate(400, 3, DAY)]


def test_the_doc_lists_every_step_this_file_checks() -> None:
    steps = re.findall(r"\(`(step_\w+)`\)", DOC.read_text(encoding="utf-8"))
    assert steps == ["step_schema", "step_model", "step_catalogue", "step_migration",
                     "step_simulator"]  # fmt: skip
    for step in steps:
        assert callable(globals()[f"missing_{step.removeprefix('step_')}"]), step


def test_step_schema() -> None:
    assert missing_schema() == []


def test_step_model() -> None:
    assert missing_model() == []


def test_step_catalogue() -> None:
    assert missing_catalogue() == []
    without = [s for s in EVENTS if s.event_type != "screen_share_started"]
    assert missing_catalogue(without) == ["model ScreenShareStarted is not in the catalogue"]


def test_step_migration() -> None:
    texts = _migration_texts()
    assert missing_migration(texts) == []
    before_v2 = {k: v for k, v in texts.items() if not k.startswith("0022")}
    assert missing_migration(before_v2) == [
        "no migration adds column waiting_room_ms Nullable(Int64)",
        "no migration adds column screen_share_id Nullable(UUID)",
    ]


def test_step_simulator() -> None:
    played = _simulated()
    assert missing_simulator(played) == []
    v1_only = [t for t in played if t != "screen_share_started"]
    assert missing_simulator(v1_only) == ["the simulator never plays screen_share_started"]
