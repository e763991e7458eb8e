"""Backward compatibility between consecutive versions: the new reader reads old data.

The rules come from Apache Avro's own checker; this module only walks the versions and
turns its JSON-pointer locations into field paths a person can act on. Where Avro reports
a whole union branch as missing (a payload record changed), we check that record against
its same-named successor to name the field inside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from avro.schema import NamedSchema, RecordSchema, Schema, UnionSchema

from schemas.registry import SchemaRegistry, SchemaVersion


@dataclass(frozen=True)
class Incompatibility:
    family: str
    old_version: int
    new_version: int
    field_path: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.family} v{self.new_version} cannot read v{self.old_version} data: "
            f"field {self.field_path}: {self.message}"
        )


def check_registry(registry: SchemaRegistry) -> list[Incompatibility]:
    """Every incompatibility between consecutive versions of every family."""
    found: list[Incompatibility] = []
    for family in registry.families:
        versions = registry.versions(family)
        for old, new in pairwise(versions):
            found.extend(check_pair(old, new))
    return found


def check_pair(old: SchemaVersion, new: SchemaVersion) -> list[Incompatibility]:
    reader = avro.schema.parse(json.dumps(new.source))
    writer = avro.schema.parse(json.dumps(old.source))
    return [
        Incompatibility(old.family, old.version, new.version, path, message)
        for path, message in _check(reader, writer, prefix=())
    ]


def _check(reader: Schema, writer: Schema, prefix: tuple[str, ...]) -> Iterable[tuple[str, str]]:
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(reader, writer)
    if result.compatibility is SchemaCompatibilityType.compatible:
        return
    kinds = ", ".join(sorted({k.value for k in result.incompatibilities}))
    detail = "; ".join(sorted(str(m) for m in result.messages))
    message = f"{kinds}: {detail}" if detail else kinds
    found: dict[str, str] = {}
    for location in sorted(result.locations - {"/"}) or ["/"]:
        path, branches = _follow(reader, writer, location)
        if branches is not None:
            # Avro only says "union lacks this record": look inside the record.
            found.update(_check(*branches, prefix=prefix + path))
        else:
            found[".".join(prefix + path) or "(schema)"] = message
    # Keep the deepest paths: "a.b" says more than "a".
    for where, text in found.items():
        if not any(other.startswith(where + ".") for other in found):
            yield where, text


def _follow(
    reader: Schema, writer: Schema | None, location: str
) -> tuple[tuple[str, ...], tuple[Schema, Schema] | None]:
    """Field names along a checker location, walking reader and writer side by side.

    In Avro's locations a field index counts the reader's fields and a union index
    counts the writer's branches. Returns the path, and the (reader, writer) pair of a
    same-named record when the location ends at a writer union branch.
    """
    names: list[str] = []
    tokens = [t for t in location.split("/") if t]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "fields" and isinstance(reader, RecordSchema) and i + 1 < len(tokens):
            field = reader.fields[int(tokens[i + 1])]
            names.append(field.name)
            w_field = (
                writer.fields_dict.get(field.name) if isinstance(writer, RecordSchema) else None
            )
            reader, writer = field.type, w_field.type if w_field is not None else None
            i += 2
            continue
        if token.isdigit() and isinstance(writer, UnionSchema):
            branch = writer.schemas[int(token)]
            counterpart = _same_named(reader, branch)
            if isinstance(branch, NamedSchema):
                names.append(branch.name)
            if counterpart is not None and i == len(tokens) - 1:
                return tuple(names), (counterpart, branch)
            reader, writer = counterpart or reader, branch
        i += 1
    return tuple(names), None


def _same_named(reader: Schema, branch: Schema) -> Schema | None:
    if not isinstance(branch, RecordSchema):
        return None
    candidates = reader.schemas if isinstance(reader, UnionSchema) else [reader]
    for candidate in candidates:
        if isinstance(candidate, RecordSchema) and candidate.fullname == branch.fullname:
            return candidate
    return None
