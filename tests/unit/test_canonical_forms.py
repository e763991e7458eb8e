"""The v2 (binary) canonical form: parsed back exactly as docs/contract.md describes it,
so different rows give different bytes, and never the bytes of a v1 (JSON) form."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.canonical import V1_JSON, V2_BINARY, form_bytes
from ledger.columns import COLUMNS, HASHED_NAMES, INDEX, ROW_COLUMNS
from ledger.rows import Row

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_v2(data: bytes) -> dict[str, Any]:
    """An independent reader of the documented layout (what an outside verifier writes)."""
    assert data[0] == V2_BINARY
    directory: list[tuple[str, int]] = []
    at = 1
    while data[at] != 0:
        size = data[at]
        directory.append((data[at + 1 : at + 1 + size].decode("ascii"), data[at + 1 + size]))
        at += 2 + size
    at += 1
    values: dict[str, Any] = {}
    for name, tag in directory:
        if tag in (3, 5):
            values[name], at = int.from_bytes(data[at : at + 8], "big", signed=True), at + 8
        elif tag == 4:
            assert data[at] in (0, 1)
            values[name], at = data[at] == 1, at + 1
        else:
            assert tag in (1, 2), f"unknown tag {tag}"
    texts = [name for name, tag in directory if tag in (1, 2)]
    lengths = [int.from_bytes(data[at + 4 * k : at + 4 * k + 4], "big") for k in range(len(texts))]
    at += 4 * len(texts)
    for name, length in zip(texts, lengths, strict=True):
        values[name], at = data[at : at + length].decode("utf-8"), at + length
    assert at == len(data), "nothing trails the text block"
    assert [name for name, _ in directory] == sorted(values), "entries go in name order"
    for name, tag in directory:
        if tag == 2:
            assert str(uuid.UUID(values[name])) == values[name]
    return values


def _strategy(column_type: str) -> st.SearchStrategy[Any]:
    if "UUID" in column_type:
        return st.uuids().map(str) | st.uuids()
    if "DateTime64" in column_type:
        return st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2299, 12, 31), timezones=st.just(UTC)
        )
    if "Bool" in column_type:
        return st.booleans()
    if "Int" in column_type:
        return st.integers(-(2**63), 2**63 - 1)
    return st.text(max_size=40)


_NULLABLE = {c.name for c in ROW_COLUMNS if "Nullable" in c.type}
# Rows over a handful of columns, the others null: small, so hypothesis explores values.
_SOME = ("event_id", "occurred_at", "actor_id", "kafka_offset", "granted", "reason", "offline_ms")


@st.composite
def rows(draw: st.DrawFn) -> Row:
    values: list[Any] = [None] * len(ROW_COLUMNS)
    for name in _SOME:
        column = COLUMNS[INDEX[name]]
        strategy = _strategy(column.type)
        values[INDEX[name]] = draw(strategy | st.none() if name in _NULLABLE else strategy)
    return tuple(values)


def _expected(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in HASHED_NAMES:
        value = row[INDEX[name]]
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, datetime):
            value = (value - _EPOCH) // timedelta(microseconds=1)
        if value is not None:
            out[name] = value
    return out


_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(rows())
def test_v2_reads_back_as_exactly_the_row_s_hashed_values(row: Row) -> None:
    assert parse_v2(form_bytes(row, V2_BINARY)) == _expected(row)


@_SETTINGS
@given(rows(), rows())
def test_different_rows_give_different_bytes(a: Row, b: Row) -> None:
    if _expected(a) != _expected(b):
        assert form_bytes(a, V2_BINARY) != form_bytes(b, V2_BINARY)
        assert form_bytes(a, V1_JSON) != form_bytes(b, V1_JSON)
    # No v2 form is ever a v1 form: a row cannot verify under the other version.
    assert form_bytes(a, V2_BINARY) != form_bytes(b, V1_JSON)
