"""The one exception type of the local Kafka stack, and helpers for actionable messages.

Every failure the stack reports (missing tools, Maven errors, a broker that dies or never
answers) is a `StackError` whose message says what went wrong and what to do next. Library and
subprocess errors are chained with `raise StackError(...) from exc` so the cause stays visible.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from schemas import AuditTrailError

# Enough context around a failure, few enough lines to keep a terminal readable.
DEFAULT_TAIL_LINES = 25
MAX_ERROR_LINES = 5


class StackError(AuditTrailError):
    """The local Kafka stack could not be fetched, started, reached or stopped."""


def _read_from(path: Path, offset: int) -> str | None:
    try:
        with path.open("rb") as handle:
            # A log that rolled over since `offset` was taken is all new: read it whole.
            handle.seek(offset if offset <= path.stat().st_size else 0)
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None


def tail_of(path: Path, max_lines: int = DEFAULT_TAIL_LINES, offset: int = 0) -> str:
    """Return the last `max_lines` lines of a text file (from byte `offset` on), or a note
    saying why there are none. Broker logs roll at 10 MB, so reading it whole is cheap."""
    try:
        text = _read_from(path, offset)
    except OSError as exc:
        return f"({path} could not be read: {exc})"
    if text is None:
        return f"({path} does not exist)"
    lines = text.splitlines()
    if not lines:
        return f"({path} has no new lines)"
    return "\n".join(lines[-max_lines:])


def first_errors(path: Path, offset: int = 0, max_errors: int = MAX_ERROR_LINES) -> list[str]:
    """Return the first ERROR/FATAL log lines after `offset`, each with the line after it.

    The first error is usually the cause (e.g. "failed to bind ... Address already in use");
    a plain tail would show only the shutdown chatter that follows it. The next line of a
    log4j error is the exception message, which says more than the logger line itself.
    """
    try:
        text = _read_from(path, offset)
    except OSError:
        return []
    lines = (text or "").splitlines()
    found: list[str] = []
    for index, line in enumerate(lines):
        if len(found) >= max_errors:
            break
        if " ERROR " in line or " FATAL " in line:
            follow = lines[index + 1] if index + 1 < len(lines) else ""
            found.append(line if follow.startswith("[") else f"{line}\n  {follow.strip()}")
    return found


def with_log_tails(
    message: str, logs: Iterable[tuple[Path, int]], max_lines: int = DEFAULT_TAIL_LINES
) -> str:
    """Append, for each (log file, start offset), its first errors and its tail to `message`.

    Used when the broker fails: the reason is almost always in its log (port in use, bad
    config, out of memory), and putting it in the exception saves the user a hunt. Offsets
    skip what earlier runs wrote to the same (appended) files.
    """
    parts = [message]
    for log, offset in logs:
        errors = first_errors(log, offset)
        if errors:
            parts.append(f"--- first errors in {log} ---")
            parts.extend(errors)
        parts.append(f"--- last lines of {log} ---\n{tail_of(log, max_lines, offset)}")
    return "\n".join(parts)


def output_tail(output: str | bytes | None, max_lines: int = DEFAULT_TAIL_LINES) -> str:
    """Return the last lines of captured subprocess output (text or bytes), or a placeholder."""
    if output is None:
        return "(no output captured)"
    text = output.decode("utf-8", errors="replace") if isinstance(output, bytes) else output
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return "(no output)"
    return "\n".join(lines[-max_lines:])
