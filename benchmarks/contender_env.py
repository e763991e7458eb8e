"""The interpreter the Kafka-engine contender runs in: a side venv with chDB 4.0.2 only.

The project's chDB (4.4.0, engine 26.9) refuses every Kafka table: creating one fails
with ``Code: 49. Shutdown was called`` (the engine's registry of streaming tables has
been shut down in the embedded server; the same with chdb-core 26.3 and 26.7). chDB
4.0.2 (engine 25.8.2) runs Kafka tables and materialized views, so the contender uses
it, in a venv of its own under the user's cache folder, created on first use.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KAFKA_ENGINE_CHDB = "4.0.2"


def default_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "audit-trail-bench" / f"chdb-{KAFKA_ENGINE_CHDB}"


def contender_python(root: Path | None = None) -> Path:
    """The side venv's python, creating the venv (one pip install, once) if needed."""
    root = root or default_dir()
    python = root / "bin" / "python"
    ready = root / ".ready"
    if ready.is_file():
        return python
    print(f"creating {root} with chdb=={KAFKA_ENGINE_CHDB} (first run only)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"chdb=={KAFKA_ENGINE_CHDB}"], check=True
    )
    subprocess.run([str(python), "-c", "import chdb; chdb.query('SELECT 1')"], check=True)
    ready.write_text(KAFKA_ENGINE_CHDB + "\n", encoding="utf-8")
    return python


def engine_version(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import chdb; print(chdb.query('SELECT version()', 'TSV'))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()
