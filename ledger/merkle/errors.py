"""What can go wrong with the trail's Merkle tree, its checkpoints and proofs."""

from __future__ import annotations

from schemas import AuditTrailError, InvalidInput


class MerkleError(AuditTrailError):
    """Base of the tree's errors."""


class ProofFailed(MerkleError):
    """A proof, a checkpoint or its signature does not check out; the message says where
    (the leaf, the offset, the key id)."""


class BadBundle(MerkleError, InvalidInput):
    """A proof bundle or a key that cannot be read at all (not JSON, a field missing)."""


class TreeUnavailable(MerkleError):
    """The store cannot give the tree this needs (no signed checkpoint covers the event,
    the links disagree with themselves): the message says what to run."""


class BadSigningKey(MerkleError):
    """The checkpoint signing key setting or file cannot be used."""
