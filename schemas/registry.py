"""Every published schema version, loaded from the .avsc files kept beside this module.

Layout: ``avro/<family>/v<N>.avsc``. A version, once published, is never edited: a change
is a new file with the next number. Writers use the newest version; readers resolve the
writer's version by fingerprint and read into the newest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import avro.schema
import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

AVRO_DIR = Path(__file__).with_name("avro")
_VERSION_FILE = re.compile(r"^v(\d+)\.avsc$")


@dataclass(frozen=True)
class SchemaVersion:
    """One published version of one family's schema."""

    family: str
    version: int
    source: Mapping[str, Any] = field(repr=False)
    parsed: Any = field(repr=False, compare=False)
    canonical_form: str = field(repr=False)
    fingerprint: int
    # Fingerprints other writers compute for the same schema (see load_version).
    alias_fingerprints: tuple[int, ...] = ()

    @property
    def fingerprint_bytes(self) -> bytes:
        """The 8 little-endian bytes single-object encoding puts after the marker."""
        return self.fingerprint.to_bytes(8, "little")

    @property
    def label(self) -> str:
        return f"{self.family} v{self.version}"


def crc64_avro(canonical_form: str) -> int:
    """The schema's 64-bit Rabin fingerprint (CRC-64-AVRO) as an integer."""
    # fastavro returns the little-endian bytes as hex, as the single-object header wants.
    return int.from_bytes(bytes.fromhex(fingerprint(canonical_form, "CRC-64-AVRO")), "little")


def load_version(family: str, version: int, source: Mapping[str, Any]) -> SchemaVersion:
    # A fresh named-types dict per version: versions redefine the same names.
    parsed = fastavro.parse_schema(dict(source), named_schemas={})
    canonical = to_parsing_canonical_form(dict(source))
    spec = crc64_avro(canonical)
    # The Apache `avro` Python package keeps logical-type primitives as {"type": "long"}
    # in its canonical form, unlike the specification and the Java library, so its
    # producers stamp another fingerprint on the same schema. Accept that one too.
    apache = int.from_bytes(
        avro.schema.parse(json.dumps(source)).fingerprint("CRC-64-AVRO"), "little"
    )
    aliases = (apache,) if apache != spec else ()
    return SchemaVersion(family, version, source, parsed, canonical, spec, aliases)


class SchemaRegistry:
    """Schema versions by family and by fingerprint (the in-repo schema store)."""

    def __init__(self, versions: list[SchemaVersion]) -> None:
        self._families: dict[str, list[SchemaVersion]] = {}
        self._by_fingerprint: dict[int, SchemaVersion] = {}
        for v in sorted(versions, key=lambda v: (v.family, v.version)):
            self._families.setdefault(v.family, []).append(v)
            for fp in (v.fingerprint, *v.alias_fingerprints):
                other = self._by_fingerprint.setdefault(fp, v)
                if other is not v:
                    raise ValueError(f"{v.label} has the same fingerprint as {other.label}")

    @classmethod
    def from_directory(cls, root: Path = AVRO_DIR) -> SchemaRegistry:
        versions: list[SchemaVersion] = []
        for family_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for path in sorted(family_dir.iterdir()):
                match = _VERSION_FILE.match(path.name)
                if match:
                    source = json.loads(path.read_text(encoding="utf-8"))
                    versions.append(load_version(family_dir.name, int(match[1]), source))
        return cls(versions)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self._families)

    def versions(self, family: str) -> tuple[SchemaVersion, ...]:
        try:
            return tuple(self._families[family])
        except KeyError:
            raise KeyError(f"unknown schema family {family!r}; known: {self.families}") from None

    def latest(self, family: str) -> SchemaVersion:
        return self.versions(family)[-1]

    def by_fingerprint(self, fp: int) -> SchemaVersion | None:
        return self._by_fingerprint.get(fp)

    def __iter__(self) -> Iterator[SchemaVersion]:
        for versions in self._families.values():
            yield from versions


_DEFAULT: SchemaRegistry | None = None


def default_registry() -> SchemaRegistry:
    """The registry of the schemas shipped with this package (loaded once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = SchemaRegistry.from_directory()
    return _DEFAULT
