"""`audit-trail sql` as an operator runs it: output escaping, comments first, one-line
errors, truncation said, on a real chDB store in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.sql_guard import MAX_ROWS

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "audit_trail.cli", "sql"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = Path(tmp_path_factory.mktemp("sqlcli")) / "store"
    # A store made by another process, as `consume` would have made it.
    make = f"from ledger import EmbeddedStore; s = EmbeddedStore({str(directory)!r}); "
    subprocess.run([sys.executable, "-c", make + "s.migrate(); s.close()"], check=True)
    return {**os.environ, "AUDIT_DATA_DIR": str(directory), "AUDIT_CLICKHOUSE_URL": ""}


def _sql(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, input=stdin
    )


def test_values_with_tabs_newlines_and_backslashes_are_escaped(env: dict[str, str]) -> None:
    out = _sql(env, "SELECT 'a\tb' AS `x\ty`, 'line1\nline2' AS n, 'back\\slash' AS b, NULL AS z")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["x\\ty\tn\tb\tz", "a\\tb\tline1\\nline2\tback\\\\slash\t\\N"]
    assert out.stderr.strip() == "(1 rows)"


def test_a_query_may_start_with_a_comment_or_come_from_stdin(env: dict[str, str]) -> None:
    out = _sql(env, "-- why: counting\nSELECT count() AS n FROM v_participation")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["n", "0"]
    piped = _sql(env, "-", stdin="--note\nSELECT 2 AS two\n")
    assert piped.returncode == 0 and piped.stdout.splitlines() == ["two", "2"], piped.stderr


def test_a_refusal_is_one_line_naming_the_reason(env: dict[str, str]) -> None:
    for query, reason in (
        ("SELECT * FROM subject_keys", "Unknown table expression identifier 'subject_keys'"),
        ("SELECT 1; DROP TABLE trail", "Multi-statements are not allowed"),
        ("DROP TABLE trail", "not DropQuery"),
    ):
        out = _sql(env, query)
        assert out.returncode == 2 and out.stdout == ""
        assert out.stderr.count("\n") == 1 and reason in out.stderr, out.stderr
        assert "chDB query failed" not in out.stderr and "Traceback" not in out.stderr


def test_columns_sharing_a_name_keep_their_own_values(env: dict[str, str]) -> None:
    out = _sql(env, "SELECT 1, 1, 2 AS x")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["1\t1\tx", "1\t1\t2"]


def test_a_truncated_result_says_it_was_truncated(env: dict[str, str]) -> None:
    out = _sql(env, f"SELECT arrayJoin(range({MAX_ROWS + 1})) AS n")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == MAX_ROWS + 1  # the header and MAX_ROWS rows
    assert "TRUNCATED" in out.stderr and str(MAX_ROWS) in out.stderr
    whole = _sql(env, f"SELECT arrayJoin(range({MAX_ROWS})) AS n")
    assert "TRUNCATED" not in whole.stderr
