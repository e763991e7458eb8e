"""What can go wrong with personal-data encryption, named by what the caller must do.

Every class sits under the product's hierarchy (``schemas.errors``): a configuration or
input mistake is ``InvalidInput``, an erasure that has not finished yet is
``Retriable``. A destroyed key is not a failure of the reader: ``RowOpener`` shows the
value as erased; only ``open_sealed`` raises ``KeyUnavailable`` for it.
"""

from __future__ import annotations

from schemas import AuditTrailError, InvalidInput, Retriable


class PrivacyError(AuditTrailError):
    """Base of the errors raised by ``ledger.privacy``."""


class BadMasterKey(PrivacyError, InvalidInput):
    """The configured master key is not 32 bytes of base64, or its key file is unusable."""


class KeyUnavailable(PrivacyError):
    """The data key a sealed value names is destroyed (the subject was erased) or unknown."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"data key {key_id!r} is destroyed or unknown")
        self.key_id = key_id


class SealedValueCorrupt(PrivacyError, InvalidInput):
    """A sealed value that is malformed or does not authenticate.

    Authentication fails for a wrong key, tampered text, or a value moved to another row
    or column (the AAD binds it to its event_id and column).
    """


class KeyUnwrapFailed(PrivacyError):
    """A stored data key does not unwrap: a different master key, or a tampered key row."""


class UnsealableRow(PrivacyError, InvalidInput):
    """A trail row whose personal fields cannot be sealed (wrong shape, no subject)."""


class ErasureIncomplete(PrivacyError, Retriable):
    """Key rows are deleted, but old table parts still holding their bytes remain on disk.

    ClickHouse removes such parts in the background; calling ``destroy`` again waits
    for them anew. ``keys_destroyed`` is what this call destroyed (a second call finds
    nothing left to count): record the erasure with it.
    """

    def __init__(self, message: str, keys_destroyed: int) -> None:
        super().__init__(message)
        self.keys_destroyed = keys_destroyed


class ErasureNotPublished(PrivacyError, Retriable):
    """The erasure notice did not reach Kafka, so nothing was erased: run the erasure
    again once the broker answers (an erasure only in the store would be undone by a
    store rebuilt from Kafka)."""


class ErasureFeedFailed(PrivacyError):
    """The erasures topic cannot be read, or holds a record that is not a notice: the
    consumer stops rather than store someone's data it may have to erase."""
