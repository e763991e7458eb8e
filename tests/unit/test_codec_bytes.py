"""The codec on exact bytes: header layout, fingerprints, datum, and each decode error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas import (
    AvroCodec,
    BadMarker,
    MalformedDatum,
    NoSchemaRegistry,
    SchemaRegistry,
    TruncatedDatum,
    UnknownFingerprint,
    crc64_avro,
)

PING_V1 = {
    "type": "record",
    "name": "Ping",
    "namespace": "t",
    "fields": [{"name": "n", "type": "long"}, {"name": "s", "type": "string"}],
}
PING_V2 = {
    **PING_V1,
    "fields": [*PING_V1["fields"], {"name": "tag", "type": "string", "default": "none"}],
}


def _rabin(data: bytes) -> int:
    """The Avro spec's reference CRC-64-AVRO, written out here as an independent check."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def _registry(tmp_path: Path, *versions: dict[str, object]) -> SchemaRegistry:
    family = tmp_path / "ping"
    family.mkdir(parents=True)
    for number, schema in enumerate(versions, start=1):
        (family / f"v{number}.avsc").write_text(json.dumps(schema))
    return SchemaRegistry.from_directory(tmp_path)


def test_fingerprint_matches_the_spec_vector_and_the_reference_algorithm() -> None:
    assert crc64_avro('"null"') == 7195948357588979594  # from the Avro specification
    canonical = '{"name":"t.Ping","type":"record","fields":[{"name":"n","type":"long"}]}'
    assert crc64_avro(canonical) == _rabin(canonical.encode())


def test_encode_writes_marker_little_endian_fingerprint_then_datum(tmp_path: Path) -> None:
    codec = AvroCodec(_registry(tmp_path, PING_V1))
    version = codec.registry.latest("ping")
    canonical = (
        '{"name":"t.Ping","type":"record","fields":'
        '[{"name":"n","type":"long"},{"name":"s","type":"string"}]}'
    )
    assert version.canonical_form == canonical
    data = codec.encode("ping", {"n": 1, "s": "a"})
    # n=1 zigzags to 0x02; "a" is length 1 (0x02) then 0x61.
    assert data == b"\xc3\x01" + _rabin(canonical.encode()).to_bytes(8, "little") + b"\x02\x02a"
    assert data[2:10] == version.fingerprint_bytes
    n_minus_64 = codec.encode("ping", {"n": -65, "s": ""})
    assert n_minus_64[10:] == b"\x81\x01\x00"  # zigzag(-65) = 129 = varint 81 01


def test_decode_reads_old_writer_into_newest_reader(tmp_path: Path) -> None:
    old = AvroCodec(_registry(tmp_path / "a", PING_V1))
    new = AvroCodec(_registry(tmp_path / "b", PING_V1, PING_V2))
    decoded = new.decode(old.encode("ping", {"n": 5, "s": "x"}))
    assert decoded.record == {"n": 5, "s": "x", "tag": "none"}
    assert (decoded.writer.version, decoded.reader.version) == (1, 2)


@pytest.fixture
def ping_codec(tmp_path: Path) -> AvroCodec:
    return AvroCodec(_registry(tmp_path, PING_V1))


def test_wrong_marker(ping_codec: AvroCodec) -> None:
    good = ping_codec.encode("ping", {"n": 1, "s": "a"})
    for bad in (b"", b"\x01", b"\xc3\x02" + good[2:], b'{"json": true}'):
        with pytest.raises(BadMarker, match="single-object"):
            ping_codec.decode(bad)
    # A leading 00 is the Confluent framing: told apart, never read as single-object.
    with pytest.raises(TruncatedDatum, match="Confluent"):
        ping_codec.decode(b"\x00")
    with pytest.raises(NoSchemaRegistry, match=r"schema id 1\).*AUDIT_SCHEMA_REGISTRY_URL"):
        ping_codec.decode(b"\x00\x00\x00\x00\x01" + good[10:])


def test_unknown_fingerprint_names_it(ping_codec: AvroCodec) -> None:
    good = ping_codec.encode("ping", {"n": 1, "s": "a"})
    bad = good[:2] + (12345).to_bytes(8, "little") + good[10:]
    with pytest.raises(UnknownFingerprint, match="0x0000000000003039") as caught:
        ping_codec.decode(bad)
    assert caught.value.fingerprint == 12345


def test_every_truncation_is_truncated_datum(ping_codec: AvroCodec) -> None:
    good = ping_codec.encode("ping", {"n": 300, "s": "hello"})
    for cut in range(2, len(good)):
        with pytest.raises(TruncatedDatum):
            ping_codec.decode(good[:cut])


def test_trailing_bytes_are_malformed(ping_codec: AvroCodec) -> None:
    good = ping_codec.encode("ping", {"n": 1, "s": "a"})
    with pytest.raises(MalformedDatum, match="trail"):
        ping_codec.decode(good + b"\x00")


def test_shipped_fingerprints_are_distinct_and_stable() -> None:
    registry = SchemaRegistry.from_directory()
    fingerprints = [v.fingerprint for v in registry]
    assert len(set(fingerprints)) == len(fingerprints) >= 2
    for version in registry:
        assert version.fingerprint == _rabin(version.canonical_form.encode())
