"""Process logging: one line per record, text for people or JSON for collectors.

AUDIT_LOG_FORMAT=text|json, AUDIT_LOG_LEVEL=DEBUG|INFO|WARNING|ERROR (read here, from the
environment, so a bad Settings value can itself be logged). Exceptions are logged as
their message only: a library traceback is for a debugger, not for the operator's log.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatException(self, ei: object) -> str:
        error = ei[1] if isinstance(ei, tuple) and len(ei) > 1 else ei
        return f"  {type(error).__name__}: {error}"


def configure(default_level: str = "WARNING") -> list[str]:
    """Set up the root logger; returns what was wrong with the settings (then defaults).
    Commands log warnings by default (their output is the answer); `serve` logs INFO."""
    problems: list[str] = []
    level = os.environ.get("AUDIT_LOG_LEVEL", default_level).upper()
    if level not in LEVELS:
        problems.append(f"AUDIT_LOG_LEVEL={level[:20]!r}: use one of {', '.join(LEVELS)}")
        level = default_level
    shape = os.environ.get("AUDIT_LOG_FORMAT", "text").lower()
    if shape not in ("text", "json"):
        problems.append(f"AUDIT_LOG_FORMAT={shape[:20]!r}: use text or json")
        shape = "text"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if shape == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kafka-python logs every failed reconnect as an ERROR, many a second: the caller says
    # what failed once (and /readyz while it lasts). AUDIT_LOG_LEVEL=DEBUG shows them.
    logging.getLogger("kafka").setLevel(level if level == "DEBUG" else logging.CRITICAL)
    return problems
