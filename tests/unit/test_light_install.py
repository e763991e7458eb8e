"""The base install (no extras) is what a producer needs: its modules import without
chDB, pyarrow, clickhouse-driver or the HTTP stack, and a CLI command that needs an extra
says which one in one line."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from audit_trail.extras import EXTRA_OF_MODULE

ROOT = Path(__file__).resolve().parents[2]
BLOCKED = [sys.executable, "-m", "tests.support.blocked_extras"]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BLOCKED, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_the_producer_path_and_the_cli_import_without_any_extra() -> None:
    code = (
        "import sys\n"
        "from producers import AuditProducer, produce_file\n"
        "from producers.events import Event\n"
        "from producers.simulation import simulate\n"
        "from schemas import AvroCodec, default_registry\n"
        "import audit_trail.producing, audit_trail.cli.app\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {set(EXTRA_OF_MODULE)!r})\n"
        "print('loaded', loaded)\n"
    )
    out = _run("-c", code)
    assert out.returncode == 0, out.stderr
    assert "loaded []" in out.stdout, out.stdout


@pytest.mark.parametrize(
    ("args", "settings", "extra"),
    [
        (["consume", "--until-idle"], {}, "embedded"),
        (["migrate"], {}, "embedded"),
        (["migrate"], {"AUDIT_CLICKHOUSE_URL": "clickhouse://127.0.0.1:9/audit"}, "server"),
        (["serve"], {}, "serve"),
        (["token", "mint", "--role", "client", "--sub", "client-00001"], {}, "serve"),
    ],
)
def test_a_command_that_needs_an_extra_says_which(
    args: list[str], settings: dict[str, str], extra: str, tmp_path: Path
) -> None:
    import os

    env = {
        **os.environ,
        "AUDIT_DATA_DIR": str(tmp_path / "store"),
        "AUDIT_TOKEN_SECRET": "s" * 40,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",  # never reached: the import fails first
        **settings,
    }
    out = _run("-m", "audit_trail.cli", *args, env=env)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert f"install audit-trail[{extra}]" in lines[0], lines[0]


def test_extras_follow_the_roles_and_make_pins_exact_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = " ".join(project["dependencies"])
    for heavy in ("chdb", "pyarrow", "clickhouse-driver", "fastapi", "uvicorn", "pyjwt"):
        assert heavy not in base, heavy
    extras = project["optional-dependencies"]
    assert any(d.startswith("chdb") for d in extras["embedded"])
    assert any(d.startswith("pyarrow") for d in extras["embedded"])
    assert any(d.startswith("clickhouse-driver") for d in extras["server"])
    assert {"embedded", "server", "serve"} <= set(extras)
    assert "audit-trail[all]" in extras["test"]
    # Ranges in the metadata, exact versions where the project is tested (make).
    assert not any("==" in d for ds in [project["dependencies"], *extras.values()] for d in ds)
    pins = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert "chdb==" in pins and "kafka-python==" in pins
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text(encoding="utf-8")
