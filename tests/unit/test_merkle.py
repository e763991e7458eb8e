"""RFC 6962 hashing and proofs, the consumer's frontier, signed notes, the signing key and
the checkpoint cadence: no store needed."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.chain import ChainHead
from ledger.merkle import BadBundle, BadSigningKey, NoteSigner, NoteVerifier, ProofFailed
from ledger.merkle.checkpointer import Checkpointer, Frontier
from ledger.merkle.hashing import (
    check_consistency,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    root_of,
)
from ledger.merkle.signing_key import key_path, signer_from
from ledger.store import SqlStore

LEAVES = [leaf_hash(os.urandom(32)) for _ in range(70)]


def subtree(lo: int, hi: int) -> bytes:
    return root_of(LEAVES[lo:hi])


def test_rfc6962_test_vector_and_domain_separation() -> None:
    # RFC 6962 reference: the empty tree, a one-leaf tree, the node of two leaves.
    assert root_of([]).hex() == hashlib.sha256(b"").hexdigest()
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert root_of([a, b]) == hashlib.sha256(b"\x01" + a + b).digest()
    assert root_of([a, b, a]) == node_hash(node_hash(a, b), a)  # splits at 2


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 31, 64, 70])
def test_every_inclusion_and_consistency_proof_verifies(size: int) -> None:
    root = root_of(LEAVES[:size])
    for index in range(size):
        proof = inclusion_proof(index, size, subtree)
        assert root_from_inclusion(index, size, LEAVES[index], proof) == root
        if proof:
            bad = [bytes(32), *proof[1:]]
            assert root_from_inclusion(index, size, LEAVES[index], bad) != root
    for old in range(1, size + 1):
        check_consistency(
            old, size, root_of(LEAVES[:old]), root, consistency_proof(old, size, subtree)
        )


def test_proofs_of_the_wrong_shape_are_refused() -> None:
    proof = inclusion_proof(5, 9, subtree)
    with pytest.raises(ProofFailed, match="too long"):
        root_from_inclusion(5, 9, LEAVES[5], [*proof, bytes(32)])
    with pytest.raises(ProofFailed, match="too short"):
        root_from_inclusion(5, 9, LEAVES[5], proof[:-1])
    with pytest.raises(ProofFailed, match="not in a tree"):
        root_from_inclusion(9, 9, LEAVES[5], proof)
    with pytest.raises(ProofFailed):
        check_consistency(4, 9, root_of(LEAVES[:4]), root_of(LEAVES[:9]), [])
    with pytest.raises(ProofFailed, match="different roots"):
        check_consistency(4, 4, root_of(LEAVES[:4]), root_of(LEAVES[1:5]), [])


def test_the_frontier_gives_the_root_of_every_prefix_and_completes_tiles() -> None:
    tree, leaves, tiles = Frontier(0), [leaf_hash(i.to_bytes(4, "big")) for i in range(1100)], []
    for i, leaf in enumerate(leaves):
        tiles += tree.add(leaf)
        if i % 37 == 0 or i in (255, 256, 511, 1023, 1024):
            assert tree.root() == root_of(leaves[: i + 1])
    assert [(t, i) for t, i, _ in tiles] == [(1, 0), (1, 1), (1, 2), (1, 3)]
    assert tiles[2][2] == root_of(leaves[512:768])


def test_a_note_verifies_with_its_key_only_and_prints_as_go_reads_it() -> None:
    signer = NoteSigner("example.com/log", Ed25519PrivateKey.generate())
    note = signer.sign("example.com/log\n3\nAAAA\n")
    key = str(signer.verifier)
    name, key_id, raw = key.split("+", 2)
    assert (name, len(key_id)) == ("example.com/log", 8)
    assert base64.b64decode(raw)[0] == 1 and len(base64.b64decode(raw)) == 33
    assert NoteVerifier.parse(key).open(note) == "example.com/log\n3\nAAAA\n"
    with pytest.raises(ProofFailed, match="is wrong"):
        NoteVerifier.parse(key).open(note.replace("\n3\n", "\n4\n"))
    other = NoteSigner("example.com/log", Ed25519PrivateKey.generate()).verifier
    with pytest.raises(ProofFailed, match=f"signed by: example.com/log\\+{key_id}"):
        other.open(note)


@pytest.mark.parametrize(
    "text", ["", "nonsense", "a+b+c", "a+00000000+AQ==", "a b+12345678+" + "A" * 44]
)
def test_a_bad_public_key_is_one_clear_error(text: str) -> None:
    with pytest.raises(BadBundle):
        NoteVerifier.parse(text)


def test_the_signing_key_lives_beside_the_store_and_takes_a_setting(tmp_path: Path) -> None:
    data = tmp_path / "var"
    signer = signer_from(None, data, "audit-trail")
    assert key_path(data) == tmp_path / "var.checkpoint.key"
    assert (key_path(data).stat().st_mode & 0o777) == 0o600
    assert str(signer_from(None, data, "audit-trail").verifier) == str(signer.verifier)
    seed = base64.b64encode(b"s" * 32).decode()
    from_setting = signer_from(seed, data, "audit-trail")
    (tmp_path / "k").write_text(seed + "\n")
    assert str(signer_from(str(tmp_path / "k"), data, "audit-trail").verifier) == str(
        from_setting.verifier
    )
    for bad in ("not base64!", base64.b64encode(b"short").decode(), str(tmp_path / "missing/k")):
        with pytest.raises(BadSigningKey):
            signer_from(bad, data, "audit-trail")


class _Recorder(SqlStore):
    """Just enough store for the cadence: an empty partition start, inserts recorded."""

    def __init__(self) -> None:
        self.inserts: list[tuple[str, int]] = []

    def _execute(self, sql: str) -> None: ...

    def _select(self, sql: str, params: Any) -> Any:
        from ledger.store import Selected

        if "merkle_checkpoints" in sql:
            return Selected(["n"], [])
        if "min(o)" in sql:
            return Selected(["o"], [(0,)])
        p = params
        rows = [(p["p0"], o, "00" * 32, f"{o:064x}") for o in range(p["lo0"], p["hi0"] + 1)]
        return Selected(["p", "o", "prev", "hash"], rows)

    def _insert(self, table: str, columns: Any, rows: Any, token: str) -> None:
        self.inserts.append((table, len(rows)))

    def ping(self) -> None: ...

    def close(self) -> None: ...


def test_a_checkpoint_follows_new_rows_within_the_interval_and_at_shutdown() -> None:
    now = [100.0]
    store = _Recorder()
    signer = NoteSigner("t", Ed25519PrivateKey.generate())
    tree = Checkpointer(store, signer, "t", every_s=0.75, monotonic=lambda: now[0])
    head = ChainHead("topic", 0, 9, f"{9:064x}")
    tree.sign_due([head])
    assert store.inserts == [("merkle_checkpoints", 1)]
    now[0] += 0.5
    tree.sign_due([ChainHead("topic", 0, 19, f"{19:064x}")])  # not yet due
    assert len(store.inserts) == 1
    now[0] += 0.3
    tree.sign_due([ChainHead("topic", 0, 19, f"{19:064x}")])  # 0.8 s: signed
    assert len(store.inserts) == 2
    now[0] += 5
    tree.sign_due([ChainHead("topic", 0, 19, f"{19:064x}")])  # nothing new: no checkpoint
    assert len(store.inserts) == 2
    now[0] += 0.1
    tree.sign_due([ChainHead("topic", 0, 20, f"{20:064x}")], force=True)  # shutdown
    assert len(store.inserts) == 3
