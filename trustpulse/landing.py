"""The landing folder: which dumps are there, and which partition key each has."""

from __future__ import annotations

from pathlib import Path

from trustpulse.readers.source import DumpSource

IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".swp")


def landed_dumps(landing_dir: Path) -> list[DumpSource]:
    """Dumps in landing/, by name; hidden and partially-written files are ignored."""
    if not landing_dir.is_dir():
        return []
    return [
        DumpSource(p)
        for p in sorted(landing_dir.iterdir())
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(IGNORED_SUFFIXES)
    ]


class DumpNotFoundError(FileNotFoundError):
    pass


def dump_for_key(landing_dir: Path, key: str) -> DumpSource:
    """The landed dump whose name and content hash give this partition key."""
    for source in landed_dumps(landing_dir):
        if source.key == key:
            return source
    raise DumpNotFoundError(
        f"{landing_dir}: no dump with partition key {key!r} (the file was removed or its content changed)"
    )
