"""Processes by role: `migrate` is the one command that changes the schema; readers open
the store as it is, and a start without a store engine loads none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "audit_trail.cli"]
TTL_OF = (
    "import sys; from ledger import EmbeddedStore; s = EmbeddedStore(sys.argv[1], create=False); "
    'print([r[0] for r in s.query("SELECT engine_full FROM system.tables WHERE '
    "database = currentDatabase() AND name IN ('trail', 'trail_links') ORDER BY name\")]); "
    "s.close()"
)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=180)


def _ttl(directory: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", TTL_OF, str(directory)], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AUDIT_")}
    return {**base, "AUDIT_DATA_DIR": str(tmp_path / "store"), "AUDIT_MASTER_KEY": "a" * 43 + "="}


def test_readers_with_another_retention_change_nothing_and_check_reports_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    migrated = _run(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "migration 0001_trail: applied" in migrated.stdout
    before = _ttl(tmp_path / "store")
    assert "toIntervalMonth(24)" in before

    careless = {**env, "AUDIT_RETENTION_OTHER_MONTHS": "1"}
    for reader in (["sql", "SELECT 1"], ["counts"], ["verify"], ["timeline"]):
        done = _run(careless, *reader)
        assert done.returncode == 0, (reader, done.stderr)
    assert _ttl(tmp_path / "store") == before

    check = _run(careless, "migrate", "--check")
    assert check.returncode == 1
    assert "retention trail: the table keeps rows [12, 60, 24] months" in check.stdout
    assert "the settings say [12, 60, 1]" in check.stdout
    assert _ttl(tmp_path / "store") == before  # --check changes nothing either

    assert _run(env, "migrate", "--check").returncode == 0
    again = _run(env, "migrate")
    assert again.stdout.strip() == "schema and retention match this version and the settings"


def test_a_reader_on_a_store_never_migrated_says_to_run_migrate(env: dict[str, str]) -> None:
    for reader in (["counts"], ["sql", "SELECT 1"], ["trail", "--as", "auditor", str(_uuid())]):
        done = _run(env, *reader)
        assert done.returncode != 0
        assert "`audit-trail migrate`" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    # Nothing was created for it: the check still finds no database.
    check = _run(env, "migrate", "--check")
    assert check.returncode == 1
    assert "no trail store in" in check.stdout


def test_help_and_version_load_no_store_engine_and_no_web_server() -> None:
    probe = (
        "import sys; from audit_trail.cli import app\n"
        "for argv in (['--help'], ['--version'], ['serve', '--help']):\n"
        "    try:\n"
        "        app(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('chdb', 'pyarrow', 'clickhouse_driver', 'uvicorn', 'fastapi')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]"), done.stdout[-400:]


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def test_serve_no_ingest_answers_without_a_broker_and_refuses_an_unmigrated_store(
    env: dict[str, str], tmp_path: Path
) -> None:
    import signal
    import socket
    import time
    import uuid

    import httpx

    from audit_trail.tokens import mint

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secret = "n" * 40
    api = {
        **env,
        "AUDIT_SERVE_PORT": str(port),
        "AUDIT_TOKEN_HS256_SECRETS": f'{{"k": "{secret}"}}',
    }
    api.pop("KAFKA_BOOTSTRAP_SERVERS", None)

    refused = _run(api, "serve", "--no-ingest")
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "`audit-trail migrate`" in refused.stderr and "Traceback" not in refused.stderr

    assert _run(env, "migrate").returncode == 0
    process = subprocess.Popen([*CLI, "serve", "--no-ingest"], env=api, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
        auditor = mint(role="auditor", sub="a-1", ttl_s=60, kid="k", algorithm="HS256",
                       signing_key=secret.encode())  # fmt: skip
        read = httpx.get(f"{url}/v1/sessions/{uuid.uuid4()}/trail",
                         headers={"Authorization": f"Bearer {auditor}"})  # fmt: skip
        assert read.status_code == 404  # auditors are told what does not exist
        assert read.json()["detail"].startswith("not found: the trail holds no session")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert _ttl(tmp_path / "store")  # the store is whole and still opens
