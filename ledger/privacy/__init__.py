"""Personal data in the trail, encrypted per data subject (crypto-shredding).

Personal columns (``Column.personal``) are sealed with AES-256-GCM under data keys of
their subject before rows are linked and stored (``RowSealer``); readers open them
(``RowOpener``). Erasing a subject publishes its notice (``ErasureNotice``: stores
built from Kafka apply it), destroys its keys (``KeyStore.destroy``), then
``record_erasure``: the rows and the hash chain stay intact, the personal values read
as ``ERASED``. Billing data (payer name, e-mail) has its own purpose and survives an
erasure of ``personal`` data, as accounting law requires.
"""

from ledger.privacy.cipher import aad_for, is_sealed, open_sealed, seal, unwrap_key, wrap_key
from ledger.privacy.erasure_notices import BadErasureNotice, ErasureIndex, ErasureNotice
from ledger.privacy.erasures import Erasure, erasures_of, record_erasure, record_notices
from ledger.privacy.errors import (
    BadMasterKey,
    ErasureFeedFailed,
    ErasureIncomplete,
    ErasureNotPublished,
    KeyUnavailable,
    KeyUnwrapFailed,
    PrivacyError,
    SealedValueCorrupt,
    UnsealableRow,
)
from ledger.privacy.keys import PURPOSES, KeyStore, Purpose, SubjectKey
from ledger.privacy.master import master_key_from
from ledger.privacy.sealing import ERASED, PERSONAL_COLUMNS, Erasures, RowOpener, RowSealer
from ledger.privacy.store_keys import StoreKeyStore

__all__ = [
    "ERASED",
    "PERSONAL_COLUMNS",
    "PURPOSES",
    "BadErasureNotice",
    "BadMasterKey",
    "Erasure",
    "ErasureFeedFailed",
    "ErasureIncomplete",
    "ErasureIndex",
    "ErasureNotPublished",
    "ErasureNotice",
    "Erasures",
    "KeyStore",
    "KeyUnavailable",
    "KeyUnwrapFailed",
    "PrivacyError",
    "Purpose",
    "RowOpener",
    "RowSealer",
    "SealedValueCorrupt",
    "StoreKeyStore",
    "SubjectKey",
    "UnsealableRow",
    "aad_for",
    "erasures_of",
    "is_sealed",
    "master_key_from",
    "open_sealed",
    "record_erasure",
    "record_notices",
    "seal",
    "unwrap_key",
    "wrap_key",
]
