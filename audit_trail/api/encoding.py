"""Rows as JSON, JSON Lines and CSV for HTTP responses (datetimes ISO 8601, the rest text)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ledger.columns import ROW_COLUMNS

# A stream cannot look ahead for the columns present: every row column, in table order.
CSV_COLUMNS = tuple(c.name for c in ROW_COLUMNS)


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def dumps(body: Any) -> str:
    return json.dumps(body, default=plain, separators=(",", ":"))


def jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, default=plain, sort_keys=True) + "\n"


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else plain(v) for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
