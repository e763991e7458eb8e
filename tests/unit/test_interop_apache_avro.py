"""Interop with an independent implementation: the Apache `avro` package.

It computes the same fingerprints, decodes our bytes to the same values, and we decode
the bytes it writes (with a single-object header built from its own fingerprint).
"""

from __future__ import annotations

import io
import json
from typing import Any

import avro.io
import avro.schema
import pytest

from producers.events import Event, event_from_avro
from schemas import HEADER_SIZE, MARKER, AvroCodec, default_registry
from tests.support.samples import one_of_each

SAMPLES = one_of_each()


def _apache_schema(family: str) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(default_registry().latest(family).source))


@pytest.mark.parametrize("version", list(default_registry()), ids=lambda v: v.label)
def test_same_fingerprint_of_the_canonical_form(version: Any) -> None:
    # Apache's CRC-64-AVRO over the specification's parsing canonical form is ours.
    canonical = avro.schema.parse(version.canonical_form)
    assert canonical.fingerprint("CRC-64-AVRO") == version.fingerprint_bytes
    assert canonical.canonical_form == version.canonical_form


@pytest.mark.parametrize("version", list(default_registry()), ids=lambda v: v.label)
def test_apache_python_fingerprint_of_the_source_is_accepted(version: Any) -> None:
    # That package keeps {"type": "string"} for logical-type primitives, so from the
    # source file it stamps another fingerprint; the registry knows it as an alias.
    theirs = avro.schema.parse(json.dumps(version.source)).fingerprint("CRC-64-AVRO")
    assert default_registry().by_fingerprint(int.from_bytes(theirs, "little")) is version


def _plain(value: Any) -> Any:
    """Values as both libraries agree on them: the payload branch name dropped."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return _plain(value[1])
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("event", SAMPLES.values(), ids=list(SAMPLES))
def test_apache_avro_decodes_our_bytes(event: Event) -> None:
    data = AvroCodec().encode(event.family, event.to_avro())
    schema = _apache_schema(event.family)
    version = default_registry().latest(event.family)
    assert data[:2] == MARKER and data[2:HEADER_SIZE] == version.fingerprint_bytes
    decoder = avro.io.BinaryDecoder(io.BytesIO(data[HEADER_SIZE:]))
    theirs = avro.io.DatumReader(schema).read(decoder)
    ours = _plain(AvroCodec().decode(data).record)
    assert _normal(theirs) == _normal(ours)


@pytest.mark.parametrize("event", SAMPLES.values(), ids=list(SAMPLES))
def test_we_decode_apache_avro_bytes(event: Event) -> None:
    schema = _apache_schema(event.family)
    buf = io.BytesIO()
    buf.write(MARKER + schema.fingerprint("CRC-64-AVRO"))
    encoder = avro.io.BinaryEncoder(buf)
    writer = avro.io.DatumWriter(schema)
    datum = event.to_avro()
    branch_name, payload = datum.pop("payload")
    for field in schema.fields[:-1]:
        writer.write_data(field.type, datum[field.name], encoder)
    # Several payload records share a shape (joined/left), so Apache's writer cannot
    # pick the branch from the datum alone; name it, as a generated class would.
    branches = schema.fields[-1].type.schemas
    index = next(i for i, b in enumerate(branches) if b.fullname == branch_name)
    encoder.write_long(index)
    writer.write_data(branches[index], payload, encoder)
    assert event_from_avro(AvroCodec().decode(buf.getvalue()).record) == event


def _normal(value: Any) -> Any:
    """Compare logical types as text: the libraries differ in uuid/str return types."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int):
        return value
    return str(value)
