"""Fetch Apache Kafka and its runtime dependencies from Maven Central, cached in the stack dir.

Maven does the dependency resolution (transitive jars, versions, checksums) from the small pom
kept next to this module; its local repository (~/.m2 by default) is reused across work trees.
The flat jar folder it produces is the broker's classpath (`java -cp '<dir>/*'`).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from .errors import StackError, output_tail
from .paths import StackPaths

log = logging.getLogger(__name__)

POM_PATH = Path(__file__).with_name("kafka-pom.xml")
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
# Written last, so a folder without it is an interrupted download and gets fetched again.
_COMPLETE_MARKER = ".complete"
# A cold ~/.m2 needs ~50 MB of jars plus the dependency plugin; allow for a slow mirror.
MAVEN_TIMEOUT_S = 600.0


def kafka_version(pom: Path = POM_PATH) -> str:
    """Return the Kafka version pinned in the pom's `<kafka.version>` property."""
    try:
        root = ET.parse(pom).getroot()
    except (OSError, ET.ParseError) as exc:
        raise StackError(f"cannot read the Kafka pom {pom}: {exc}") from exc
    node = root.find("m:properties/m:kafka.version", _POM_NS)
    if node is None or not (node.text or "").strip():
        raise StackError(f"{pom} has no <kafka.version> property; restore it from git")
    return (node.text or "").strip()


def jar_dir(paths: StackPaths, pom: Path = POM_PATH) -> Path:
    """Return the cache folder for this pom: named by Kafka version plus a hash of the pom.

    Hashing the whole pom (not just the version) means any edit, e.g. a different logging
    binding, gets its own folder instead of silently reusing stale jars.
    """
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:12]
    return paths.jars_root / f"kafka-{kafka_version(pom)}-{digest}"


def is_cached(paths: StackPaths, pom: Path = POM_PATH) -> bool:
    return (jar_dir(paths, pom) / _COMPLETE_MARKER).is_file()


def find_mvn() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "Maven (`mvn`) is not on PATH; it is needed once to download Kafka's jars. "
            "Install Maven 3.8+ (e.g. `apt-get install maven`) or set KAFKA_BOOTSTRAP_SERVERS "
            "to use an existing broker."
        )
    return mvn


def ensure_jars(paths: StackPaths, pom: Path = POM_PATH) -> Path:
    """Return a folder holding Kafka's runtime jars, downloading them with Maven if needed.

    The download goes to a temporary sibling folder that is renamed into place only after
    Maven succeeds, so a killed or failed run never leaves a half-filled cache behind.
    """
    target = jar_dir(paths, pom)
    if (target / _COMPLETE_MARKER).is_file():
        return target
    mvn = find_mvn()
    paths.jars_root.mkdir(parents=True, exist_ok=True)
    log.info(
        "Fetching Kafka %s jars with Maven into %s (first run only)", kafka_version(pom), target
    )
    work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=paths.jars_root))
    try:
        # Run against a copy so Maven never writes (target/, caches) into the source tree.
        shutil.copyfile(pom, work / "pom.xml")
        out_dir = work / "jars"
        _run_maven(mvn, work / "pom.xml", out_dir)
        if not any(out_dir.glob("kafka_2.13-*.jar")):
            raise StackError(
                f"Maven finished but {out_dir} has no kafka_2.13 jar; check {pom} "
                "(artifactId and <kafka.version>)"
            )
        (out_dir / _COMPLETE_MARKER).write_text(kafka_version(pom) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)  # an earlier interrupted download of the same pom
        out_dir.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _prune_other_versions(paths, keep=target)
    return target


def _run_maven(mvn: str, pom: Path, out_dir: Path) -> None:
    cmd = [
        mvn,
        "-B",  # batch mode: no prompts, no download progress bars
        "-q",
        "-Dstyle.color=never",  # plain text in the error messages we quote
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",  # compile + runtime scopes: everything the broker loads
        f"-DoutputDirectory={out_dir}",
    ]
    try:
        subprocess.run(
            cmd,
            check=True,
            capture_output=True,
            text=True,
            timeout=MAVEN_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.CalledProcessError as exc:
        raise StackError(
            f"Maven could not fetch Kafka's jars (exit {exc.returncode}). Check that Maven "
            f"Central is reachable, ~/.m2/settings.xml (proxies, mirrors) is right and the "
            f"versions in {POM_PATH.name} exist.\n"
            f"Command: {' '.join(cmd)}\n{output_tail(exc.stdout)}\n{output_tail(exc.stderr)}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise StackError(
            f"Maven did not finish fetching Kafka's jars within {MAVEN_TIMEOUT_S:.0f}s; "
            "check the network or the Maven mirror, then retry."
        ) from exc


def _prune_other_versions(paths: StackPaths, keep: Path) -> None:
    """Delete jar folders of other pom versions: ~50 MB each, and nothing uses them anymore."""
    for entry in paths.jars_root.iterdir():
        if entry != keep and entry.is_dir() and entry.name.startswith("kafka-"):
            log.info("Removing outdated Kafka jar cache %s", entry)
            shutil.rmtree(entry, ignore_errors=True)
