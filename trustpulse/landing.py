"""The landing folder: which dumps are there, and which partition key each has.

A landing folder in an object store is listed there, and each dump is read from a local copy
(`trustpulse.storage.local_copy`, downloaded once per object content), so every reader sees a real file and a
dump's partition key (name + content hash) is the same wherever it landed.

A zip archive is not one dump: each file inside it is a dump of its own (its own partition and
accounting line), read from the archive in place. An Excel workbook is a zip too, and stays one dump.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from trustpulse.readers.source import XLSX_MEMBER, ZIP_MAGICS, DumpSource, dump_partition_key
from trustpulse.settings import COLUMNS_SIDECAR_SUFFIX
from trustpulse.storage import StorePath, local_copy

IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".swp")
IGNORED_MEMBER_PREFIXES = ("__MACOSX/",)
SIGNATURE_METADATA = "dumps_signature"  # metadata of each mention_dataset materialisation: its dump set's signature


def _is_ignored(name: str) -> bool:
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return base.startswith(".") or base.endswith((*IGNORED_SUFFIXES, COLUMNS_SIDECAR_SUFFIX))


def archive_members(path: Path) -> list[str] | None:
    """The dump members of a zip archive at `path`, or None when `path` is not such an archive (a plain
    file, an Excel workbook, an unreadable zip: those are one dump, and reading it says what is wrong)."""
    with path.open("rb") as fh:
        if not fh.read(4).startswith(ZIP_MAGICS):
            return None
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return None
    names = [i.filename for i in infos]
    if XLSX_MEMBER in names or any(n.startswith(("word/", "ppt/")) for n in names):
        return None
    return [
        i.filename
        for i in infos
        if not i.is_dir() and not i.filename.startswith(IGNORED_MEMBER_PREFIXES) and not _is_ignored(i.filename)
    ]


def landed_dumps(landing_dir: StorePath, key: str | None = None) -> list[DumpSource]:
    """Dumps in landing/, by name; hidden and partially-written files and column maps
    (`*.columns.yaml`) are ignored; zip archives give one dump per member. With `key`, only the files whose
    name can give that partition key are looked at (and, in an object store, copied to local scratch)."""
    if not landing_dir.is_dir():
        return []
    dumps: list[DumpSource] = []
    for landed in sorted(landing_dir.iterdir(), key=lambda p: p.name):
        if not landed.is_file() or _is_ignored(landed.name):
            continue
        if key is not None and not key.startswith(dump_partition_key(landed.name, "")[:-1]):
            continue
        path = local_copy(landed)
        members = archive_members(path)
        if members is None:
            dumps.append(DumpSource(path))
        else:
            dumps.extend(DumpSource(path, member) for member in members)
    return dumps


@dataclass(frozen=True)
class PartitionDiff:
    """How the landed dumps and the registered partitions differ."""

    current: list[DumpSource]  # the landed dumps, by name
    added: list[str]  # keys of landed dumps with no partition yet (new files, or new content)
    stale: list[str]  # partition keys no landed dump has (the file was removed, or its content changed)


def diff_partitions(landed: list[DumpSource], registered: Iterable[str]) -> PartitionDiff:
    """What to register and what to drop so that there is one partition per landed dump (name + content
    hash): the one comparison behind the landing sensor and `trustpulse run`."""
    wanted = {d.key for d in landed}
    known = set(registered)
    return PartitionDiff(current=landed, added=sorted(wanted - known), stale=sorted(known - wanted))


def dumps_signature(keys: list[str]) -> str:
    """One short hash naming a set of dump partitions (what a publish was computed from)."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]


class DumpNotFoundError(FileNotFoundError):
    pass


def dump_for_key(landing_dir: StorePath, key: str) -> DumpSource:
    """The landed dump whose name and content hash give this partition key."""
    for source in landed_dumps(landing_dir, key):
        if source.key == key:
            return source
    raise DumpNotFoundError(
        f"{landing_dir}: no dump with partition key {key!r} (the file was removed or its content changed)"
    )
