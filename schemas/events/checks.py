"""The consumer's value check: a decoded Avro record judged by the models' own rules,
without building a model.

The Avro schema fixes every value's type; what it cannot say (id patterns, lengths,
ranges, currency codes, IP addresses, the literal event type) the models declare. The
rules here are read from those declarations (``model_fields``: ``StringConstraints``,
``Ge``/``Le``, ``AfterValidator``, ``Literal``, nested models, ``| None``), once per
event type, so a rule is written once and producer and consumer cannot drift apart.
A property test (tests/unit/test_value_checks.py) holds this equal to
``event_from_avro`` over generated valid and invalid records.

Two translations keep Python's ``re`` equal to pydantic's (Rust) regex engine: ``$`` at
the end matches only at the end of the text (Python's also before a final newline), and
``\\s`` is Unicode White_Space (Python's also takes U+001C..U+001F).
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import annotated_types
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic.fields import FieldInfo

from schemas.events.parsing import EVENT_TYPES, InvalidEvent

# A value's problem, or None when it passes.
Check = Callable[[Any], str | None]

_RUST_SPACE = "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Other UUID spellings are rare: pydantic's own parser decides them (the model's rule).
_UUID = TypeAdapter(uuid.UUID)


class _Field:
    __slots__ = ("check", "nested", "nullable", "required")

    def __init__(
        self, required: bool, nullable: bool, check: Check | None, nested: _Record | None
    ) -> None:
        self.required, self.nullable, self.check, self.nested = required, nullable, check, nested


class _Record:
    """The rules of one model's fields, by name."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.fields: dict[str, _Field] = {}
        for name, info in model.model_fields.items():
            kind, metadata, nullable = _unwrap(info.annotation)
            metadata = [*metadata, *info.metadata]
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                rule = _Field(info.is_required(), nullable, None, _Record(kind))
            else:
                rule = _Field(info.is_required(), nullable, _check_for(kind, metadata), None)
            self.fields[name] = rule
        self.names = frozenset(self.fields)

    def problems(self, values: Mapping[str, Any], where: str) -> list[str]:
        found: list[str] = []
        for name, rule in self.fields.items():
            if name not in values:
                if rule.required:
                    found.append(f"{where}{name}: Field required")
                continue
            value = values[name]
            if value is None:
                if not rule.nullable:
                    found.append(f"{where}{name}: a value is required, not null")
            elif rule.nested is not None:
                if isinstance(value, Mapping):
                    found += rule.nested.problems(value, f"{where}{name}.")
                else:
                    found.append(f"{where}{name}: not a record")
            elif rule.check is not None and (problem := rule.check(value)) is not None:
                found.append(f"{where}{name}: {problem}")
        found += [
            f"{where}{name}: Extra inputs are not permitted" for name in values.keys() - self.names
        ]
        return found


def _unwrap(annotation: Any) -> tuple[Any, list[Any], bool]:
    """(the bare type, its Annotated metadata, whether None is allowed)."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"no value check for the union {annotation!r}")
        nullable, annotation = True, members[0]
    metadata: list[Any] = []
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *metadata = typing.get_args(annotation)
    return annotation, metadata, nullable


def _check_for(kind: Any, metadata: list[Any]) -> Check | None:
    checks: list[Check] = [_base_check(kind)]
    for item in metadata:
        # ``Annotated[int, Field(ge=1)]`` nests its constraints in a FieldInfo.
        inner = item.metadata if isinstance(item, FieldInfo) else [item]
        checks += [_constraint(part) for part in inner]
    live = [c for c in checks if c is not _accept]
    if not live:
        return None
    if len(live) == 1:
        return live[0]

    def every(value: Any) -> str | None:
        for check in live:
            if (problem := check(value)) is not None:
                return problem
        return None

    return every


def _accept(value: Any) -> str | None:
    return None


def _base_check(kind: Any) -> Check:
    if typing.get_origin(kind) is typing.Literal:
        allowed = frozenset(typing.get_args(kind))
        shown = ", ".join(repr(a) for a in typing.get_args(kind))
        return lambda value: None if value in allowed else f"Input should be {shown}"
    if kind is uuid.UUID:
        return _uuid
    if kind is AwareDatetime:
        return _aware
    if kind in (str, int, bool, dt.datetime):
        return _accept  # the Avro schema fixed the type already
    raise TypeError(f"no value check for {kind!r}: teach schemas/events/checks.py")


def _constraint(item: Any) -> Check:
    if isinstance(item, StringConstraints):
        return _string(item)
    if isinstance(item, annotated_types.Ge):
        low: Any = item.ge
        return lambda value: None if value >= low else f"Input should be >= {low}"
    if isinstance(item, annotated_types.Le):
        high: Any = item.le
        return lambda value: None if value <= high else f"Input should be <= {high}"
    if isinstance(item, AfterValidator):
        return _after(item.func)
    raise TypeError(f"no value check for the constraint {item!r}: teach schemas/events/checks.py")


def _string(rule: StringConstraints) -> Check:
    unsupported = (rule.strip_whitespace, rule.to_upper, rule.to_lower, rule.ascii_only)
    if any(unsupported):
        raise TypeError(f"no value check for {rule!r}: teach schemas/events/checks.py")
    low, high = rule.min_length, rule.max_length
    pattern = None if rule.pattern is None else re.compile(_as_rust(str(rule.pattern)))

    def check(value: Any) -> str | None:
        if low is not None and len(value) < low:
            return f"String should have at least {low} characters"
        if high is not None and len(value) > high:
            return f"String should have at most {high} characters"
        if pattern is not None and pattern.search(value) is None:
            return f"String should match pattern '{rule.pattern}'"
        return None

    return check


def _as_rust(pattern: str) -> str:
    """``pattern`` for Python's ``re`` with pydantic's (Rust) meaning of ``$`` and ``\\s``."""
    out: list[str] = []
    in_class, i = False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            pair = pattern[i : i + 2]
            if pair in _UNTRANSLATED:
                raise TypeError(f"no translation of {pair} in {pattern!r}: teach checks.py")
            out.append(pair if pair != "\\s" else _RUST_SPACE if in_class else f"[{_RUST_SPACE}]")
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        elif ch == "$" and not in_class:
            ch = "\\Z"
        out.append(ch)
        i += 1
    return "".join(out)


# Classes whose meaning differs between the engines (or may): refused, not guessed.
_UNTRANSLATED = frozenset({"\\S", "\\w", "\\W", "\\b", "\\B", "\\D", "\\d"})


def _after(func: Any) -> Check:
    def check(value: Any) -> str | None:
        try:
            func(value)
        except ValueError as exc:
            return f"Value error, {exc}"
        return None

    return check


def _uuid(value: Any) -> str | None:
    if isinstance(value, uuid.UUID):
        return None
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return None
    try:
        _UUID.validate_python(value, strict=False)
    except ValidationError:
        return "Input should be a valid UUID"
    return None


def _aware(value: Any) -> str | None:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return None
    return "Input should have timezone info"


_RULES: dict[str, _Record] = {name: _Record(model) for name, model in EVENT_TYPES.items()}


def check_avro_values(record: Mapping[str, Any]) -> None:
    """Raises ``InvalidEvent`` (a line per problem) where ``event_from_avro`` would;
    builds nothing. ``record`` is a decoded Avro record (payload a named branch)."""
    event_type = record.get("event_type")
    rules = _RULES.get(str(event_type))
    if rules is None:
        problem = f"event_type: unknown event type {event_type!r}"
        raise InvalidEvent(f"invalid event: {problem}", [problem])
    _branch, payload = record["payload"]
    fields = {k: v for k, v in record.items() if k != "payload"} | payload
    problems = rules.problems(fields, "")
    if problems:
        raise InvalidEvent("invalid event: " + "; ".join(problems), problems)
