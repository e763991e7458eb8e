"""RFC 9162 (RFC 6962) Merkle tree hashing, proofs and their verification.

Leaf hash ``SHA-256(0x00 || data)``, node hash ``SHA-256(0x01 || left || right)``; the
tree over n leaves splits at the largest power of two below n. Proofs are built from
``subtree(lo, hi)``, the hash of leaves ``lo..hi-1`` (a callable, so a store can answer
from stored subtree roots instead of every leaf). Verification needs nothing but hashes:
it is what an auditor runs, and what Go's ``golang.org/x/mod/sumdb/tlog`` checks too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from ledger.merkle.errors import ProofFailed

HASH_BYTES = 32
Subtree = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def empty_root() -> bytes:
    return hashlib.sha256(b"").digest()


def split(n: int) -> int:
    """The largest power of two below ``n`` (n >= 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(hashes: Sequence[bytes]) -> bytes:
    """The root over already-hashed leaves (or over equal perfect subtrees)."""
    if not hashes:
        return empty_root()
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return node_hash(root_of(hashes[:k]), root_of(hashes[k:]))


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 PATH(index, D[0:size])."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index < lo + k:
            path.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree(lo, lo + k))
            lo += k
    path.reverse()  # PATH lists the sibling nearest the leaf first
    return path


def consistency_proof(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 SUBPROOF(old, D[0:new], true)."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from {old} to {new} leaves")
    proof: list[bytes] = []
    lo, hi, m, complete = 0, new, old, True
    while m != hi - lo:
        k = split(hi - lo)
        if m <= k:
            proof.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree(lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        proof.append(subtree(lo, hi))
    proof.reverse()
    return proof


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.3.2: the root the proof leads to; ProofFailed if its shape is wrong."""
    if not 0 <= index < size:
        raise ProofFailed(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofFailed(f"the inclusion proof of leaf {index} is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofFailed(f"the inclusion proof of leaf {index} is too short")
    return r


def check_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2: raise ProofFailed unless the tree of ``new`` leaves extends the
    tree of ``old`` leaves."""
    if not 0 < old <= new:
        raise ProofFailed(f"no consistency between trees of {old} and {new} leaves")
    if old == new:
        if proof or old_root != new_root:
            raise ProofFailed(f"two trees of {old} leaves with different roots")
        return
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ProofFailed("the consistency proof is empty")
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofFailed("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofFailed("the consistency proof is too short")
    if fr != old_root:
        raise ProofFailed(f"the proof does not lead to the root of the tree of {old} leaves")
    if sr != new_root:
        raise ProofFailed(f"the proof does not lead to the root of the tree of {new} leaves")
