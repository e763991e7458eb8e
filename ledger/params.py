"""Server-side query parameters (``{name:Type}`` placeholders) for both backends.

Values never get pasted into SQL: ClickHouse receives them apart from the statement and
parses each with the placeholder's type. The two clients want them in different shapes:

- chDB passes each value on as-is, and ClickHouse reads it in its *escaped text* format
  (the TSV one): so backslashes, tabs and newlines are escaped here, NULL is ``\\N``.
- clickhouse-driver (``server_side_params=True``) escapes strings, UUIDs and lists
  itself, but writes datetimes in whole seconds in the server's time zone: datetimes are
  rendered here, the rest is left to the driver.

Allowed values: str, int, float, bool, uuid.UUID, aware datetime, date, and lists or
tuples of those. None is refused: both backends cannot agree on it, compare with isNull.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from schemas import InvalidInput

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESCAPES = {
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\0": "\\0",
    "\b": "\\b",
    "\f": "\\f",
    "\a": "\\a",
    "\v": "\\v",
    "'": "\\'",
}
_SPECIAL = re.compile("[\\\\\n\t\r\0\b\f\a\v']")


class BadParameter(InvalidInput):
    """A query parameter with an unusable name or value."""


def escape(text: str) -> str:
    """ClickHouse's escaped text form of a string (also valid inside quotes)."""
    return _SPECIAL.sub(lambda m: _ESCAPES[m[0]], text)


def render_time(value: datetime) -> str:
    """A datetime as text a ``DateTime64(6, 'UTC')`` parameter reads exactly."""
    if value.tzinfo is None:
        raise BadParameter(f"naive datetime {value!r}: give a timezone-aware one")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _checked(params: Mapping[str, Any] | None) -> Mapping[str, Any]:
    for name, value in (params or {}).items():
        if not _NAME.match(name):
            raise BadParameter(f"parameter name {name!r} is not an identifier")
        if value is None:
            raise BadParameter(f"parameter {name!r} is None: use isNull() in the SQL instead")
    return params or {}


def _text(value: Any, *, quoted: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        text = render_time(value)
    elif isinstance(value, date | uuid.UUID):
        text = str(value)
    elif isinstance(value, str):
        text = escape(value)
    elif isinstance(value, list | tuple) and not quoted:
        return "[" + ",".join(_text(item, quoted=True) for item in value) + "]"
    else:
        raise BadParameter(f"unsupported parameter value {value!r} ({type(value).__name__})")
    return f"'{text}'" if quoted else text


def for_embedded(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Parameters as chDB wants them: each value in ClickHouse's escaped text format."""
    return {name: _text(value, quoted=False) for name, value in _checked(params).items()}


def _driver_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return render_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_driver_value(item) for item in value]
    if isinstance(value, str | int | float | uuid.UUID):
        return value
    raise BadParameter(f"unsupported parameter value {value!r} ({type(value).__name__})")


def for_driver(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parameters as clickhouse-driver wants them with ``server_side_params=True``."""
    return {name: _driver_value(value) for name, value in _checked(params).items()}
