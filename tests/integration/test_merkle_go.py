"""An independent check: Go's golang.org/x/mod/sumdb/tlog and sumdb/note (code we did not
write) accept our inclusion proofs, consistency proofs and signed checkpoints, and reject
tampered ones. tests/go/tlogcheck is the Go side; it needs `go` and the Go module proxy
(or a module cache holding golang.org/x/mod). Skipped only when `go` is absent.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import ChainHead, EmbeddedStore, link
from ledger.merkle import Checkpoint, Checkpointer, NoteSigner, prove_consistency, prove_event
from producers.simulation import simulate
from producers.simulation.trail_rows import decoded_rows

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("go") is None, reason="the go command is not installed"),
]

GO_MODULE = Path(__file__).resolve().parents[1] / "go" / "tlogcheck"
DAY = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    binary = tmp_path_factory.mktemp("go") / "tlogcheck"
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    built = subprocess.run(
        ["go", "build", "-o", str(binary), "."],
        cwd=GO_MODULE,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stderr
    return binary


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedStore, str]]:
    store = EmbeddedStore(tmp_path_factory.mktemp("merkle-go") / "store", "audit")
    store.migrate()
    yield store, f"test.go-{uuid.uuid4().hex[:8]}"
    store.close()


def run(binary: Path, cases: dict[str, Any]) -> dict[str, str]:
    done = subprocess.run(
        [str(binary)], input=json.dumps(cases), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    verdicts = {}
    for line in done.stdout.splitlines():
        verdict, name = line.split(" ", 1)
        verdicts[name.split(":")[0]] = verdict
    return verdicts


def flipped(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def test_go_tlog_accepts_our_proofs_and_rejects_tampered_ones(
    tlogcheck: Path, trail: tuple[EmbeddedStore, str]
) -> None:
    store, topic = trail
    signer = NoteSigner("test.audit-trail", Ed25519PrivateKey.generate())
    rows = decoded_rows(islice(simulate(60, 9, DAY), 700), topic, partition=3)
    head = ChainHead.start(topic, 3)
    checkpointer = Checkpointer(store, signer, "test")
    for start in range(0, len(rows), 70):  # checkpoints at 70, 140, ..., 700
        linked, head = link(rows[start : start + 70], head)
        store.insert_trail(linked, f"go:{start}")
        checkpointer.sign_due([head], force=True)
    stored = store.query(
        "SELECT toString(event_id) FROM trail WHERE kafka_topic = {t:String} "
        "AND kafka_offset IN (0, 1, 255, 256, 511, 699) ORDER BY kafka_offset",
        {"t": topic},
    )
    inclusion, notes = [], []
    for (event_id,) in stored:
        entry = prove_event(store, event_id, [topic])["entries"][0]
        checkpoint = Checkpoint.parse(entry["checkpoint"].split("\n\n")[0] + "\n")
        case = {
            "name": f"leaf-{entry['leaf_index']}",
            "index": entry["leaf_index"],
            "size": entry["tree_size"],
            "row_hash": base64.b64encode(bytes.fromhex(entry["row"]["row_hash"])).decode(),
            "proof": entry["inclusion"],
            "root": base64.b64encode(checkpoint.root).decode(),
        }
        inclusion.append(case)
        inclusion.append(
            {
                **case,
                "name": f"tampered-path-{case['index']}",
                "proof": [flipped(case["proof"][0]), *case["proof"][1:]],
            }
        )
        inclusion.append(
            {**case, "name": f"tampered-row-{case['index']}", "row_hash": flipped(case["row_hash"])}
        )
        notes.append(
            {
                "name": f"note-{case['index']}",
                "note": entry["checkpoint"],
                "key": str(signer.verifier),
            }
        )
    notes.append(
        {
            "name": "tampered-note",
            "key": str(signer.verifier),
            "note": notes[0]["note"].replace("\n700\n", "\n701\n"),
        }
    )
    consistency = []
    for old in (70, 140, 210, 280, 630, 700):
        bundle = prove_consistency(store, topic, 3, old, 700)
        roots = [Checkpoint.parse(bundle[k].split("\n\n")[0] + "\n").root for k in ("old", "new")]
        case = {
            "name": f"consistency-{old}",
            "old": old,
            "new": 700,
            "old_root": base64.b64encode(roots[0]).decode(),
            "new_root": base64.b64encode(roots[1]).decode(),
            "proof": bundle["proof"],
        }
        consistency.append(case)
        if case["proof"]:
            consistency.append(
                {
                    **case,
                    "name": f"tampered-consistency-{old}",
                    "proof": [*case["proof"][:-1], flipped(case["proof"][-1])],
                }
            )

    verdicts = run(tlogcheck, {"inclusion": inclusion, "consistency": consistency, "notes": notes})

    assert len(verdicts) == len(inclusion) + len(consistency) + len(notes)
    for name, verdict in verdicts.items():
        assert verdict == ("reject" if name.startswith("tampered") else "accept"), name
