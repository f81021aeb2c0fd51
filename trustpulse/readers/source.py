"""A dump file on disk: its content hash, partition key, encoding and a decoded view of it."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from trustpulse.readers.schema import DumpParseError
from trustpulse.storage import file_sha256

SAMPLE_BYTES = 1 << 20
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def dump_partition_key(name: str, sha256: str) -> str:
    """Partition key of a dump: its file name (made key-safe) and the start of its content hash."""
    return f"{_KEY_UNSAFE.sub('_', name)}~{sha256[:12]}"


@dataclass(frozen=True)
class DumpSource:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def sha256(self) -> str:
        return file_sha256(self.path)

    @property
    def key(self) -> str:
        return dump_partition_key(self.name, self.sha256)

    @cached_property
    def head(self) -> bytes:
        with self.path.open("rb") as fh:
            return fh.read(SAMPLE_BYTES)

    @cached_property
    def encoding(self) -> str:
        """The text encoding: a byte-order mark wins, then UTF-8 if the sample decodes, else cp1252."""
        head = self.head
        for bom, enc in _BOMS:
            if head.startswith(bom):
                return enc
        nul = head.find(b"\x00")
        if nul >= 0:
            if _looks_like_bomless_utf16(head):
                return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
            raise DumpParseError(self.name, f"byte {nul}", "binary content (NUL byte); not a text dump")
        try:
            # A multi-byte character may be cut at the sample's end; allow it.
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            return "utf-8"
        except UnicodeDecodeError:
            return "cp1252"

    @cached_property
    def sample_text(self) -> str:
        return self.head.decode(self.encoding, errors="replace").lstrip("\ufeff")

    def text(self) -> str:
        return self.path.read_bytes().decode(self.encoding, errors="replace").lstrip("\ufeff")

    def lines(self) -> Iterator[tuple[int, str]]:
        """(1-based line number, line without its newline), streamed."""
        with self.path.open("rb") as raw:
            stream = io.TextIOWrapper(raw, encoding=self.encoding, errors="replace", newline="")
            for number, line in enumerate(stream, start=1):
                if number == 1:
                    line = line.lstrip("\ufeff")
                yield number, line.rstrip("\r\n")


def _looks_like_bomless_utf16(head: bytes) -> bool:
    sample = head[:4096]
    if len(sample) < 4:
        return False
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) / 2
    return max(even_nuls, odd_nuls) > 0.4 * half and min(even_nuls, odd_nuls) < 0.05 * half
