"""A Merkle tree per Kafka partition over the trail's row hashes (RFC 9162 hashing),
signed checkpoints (C2SP signed notes, Ed25519), inclusion and consistency proofs that
anyone can check with the public key alone. See docs/merkle.md."""

from ledger.merkle.checkpointer import Checkpointer, Frontier
from ledger.merkle.errors import (
    BadBundle,
    BadSigningKey,
    MerkleError,
    ProofFailed,
    TreeUnavailable,
)
from ledger.merkle.notes import Checkpoint, NoteSigner, NoteVerifier
from ledger.merkle.proofs import (
    check_bundle,
    latest_checkpoints,
    prove_consistency,
    prove_event,
)
from ledger.merkle.signing_key import signer_from

__all__ = [
    "BadBundle",
    "BadSigningKey",
    "Checkpoint",
    "Checkpointer",
    "Frontier",
    "MerkleError",
    "NoteSigner",
    "NoteVerifier",
    "ProofFailed",
    "TreeUnavailable",
    "check_bundle",
    "latest_checkpoints",
    "prove_consistency",
    "prove_event",
    "signer_from",
]
