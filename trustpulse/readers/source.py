"""A dump on disk: a plain file, a gzip-compressed file, or one member of a zip archive.

Everything a reader needs (`head`, `text()`, `lines()`, `read_bytes()`) goes through `open()`, which
streams the decompressed bytes and stops an archive bomb: a member (or .gz file) that expands past
`ExpansionLimits` is refused with its reason, never written anywhere. Archive members are read from the
archive itself; nothing is extracted, so a member's path (`../../etc/x`) names nothing on disk.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

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
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
XLSX_MEMBER = "xl/workbook.xml"
_READ_BLOCK = 1 << 16

# Magic numbers of files that are not dumps, with what a person would call them.
NOT_A_DUMP: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "PNG image"),
    (0, b"\xff\xd8\xff", "JPEG image"),
    (0, b"GIF87a", "GIF image"),
    (0, b"GIF89a", "GIF image"),
    (0, b"%PDF-", "PDF document"),
    (0, b"\x7fELF", "executable (ELF)"),
    (0, b"7z\xbc\xaf\x27\x1c", "7-Zip archive; use .zip or .gz"),
    (0, b"Rar!\x1a\x07", "RAR archive; use .zip or .gz"),
    (0, b"BZh9", "bzip2 archive; use .zip or .gz"),
    (0, b"\xfd7zXZ\x00", "xz archive; use .zip or .gz"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office file (.xls/.doc); save it as .xlsx or .csv"),
    (0, b"SQLite format 3\x00", "SQLite database"),
    (0, b"OggS", "Ogg media"),
    (0, b"ID3", "MP3 audio"),
    (0, b"RIFF", "RIFF media (WAV/AVI/WebP)"),
    (4, b"ftyp", "MP4/MOV video"),
    (0, b"\x00asm", "WebAssembly binary"),
)
OFFICE_NOT_DUMPS = {"word/document.xml": "Word document", "ppt/presentation.xml": "PowerPoint presentation"}


def describe_binary(head: bytes) -> str | None:
    """What a file is, by its magic number, when it is a kind of file that is never a dump."""
    for offset, magic, what in NOT_A_DUMP:
        if head[offset : offset + len(magic)] == magic:
            return what
    return None


def dump_partition_key(name: str, sha256: str) -> str:
    """Partition key of a dump: its file name (made key-safe) and the start of its content hash."""
    return f"{_KEY_UNSAFE.sub('_', name)}~{sha256[:12]}"


@dataclass(frozen=True)
class ExpansionLimits:
    """How far a compressed dump may expand before it is refused as a possible archive bomb.

    Real text compresses 3-20x; a bomb expands thousands of times. Below `floor_bytes` the ratio is not
    applied (a tiny archive of a small file may have any ratio)."""

    max_bytes: int = 8 << 30
    max_ratio: float = 200.0
    floor_bytes: int = 16 << 20

    def allowed(self, compressed_bytes: int) -> int:
        return int(min(self.max_bytes, max(self.floor_bytes, self.max_ratio * max(compressed_bytes, 1))))


DEFAULT_LIMITS = ExpansionLimits()


class _LimitedReader(io.RawIOBase):
    """A read-only stream that raises `DumpParseError` once more than `limit` bytes came through."""

    def __init__(self, inner: BinaryIO, limit: int, name: str, why: str) -> None:
        self._inner, self._limit, self._name, self._why = inner, limit, name, why
        self._seen = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        self._seen += len(data)
        if self._seen > self._limit:
            raise DumpParseError(
                self._name,
                f"byte {self._limit:,}",
                f"expands past {self._limit:,} bytes ({self._why}); refused as a possible archive bomb",
            )
        buffer[: len(data)] = data
        return len(data)


@dataclass(frozen=True)
class DumpSource:
    """One dump: `path` on disk, and `member` when the dump is a file inside the zip archive at `path`."""

    path: Path
    member: str | None = None
    limits: ExpansionLimits = field(default=DEFAULT_LIMITS, compare=False)

    @property
    def name(self) -> str:
        """The name a person sees: the file name, or `archive.zip/member.csv`."""
        return f"{self.path.name}/{self.member}" if self.member else self.path.name

    @property
    def inner_name(self) -> str:
        """The name of the content itself (what its extension says): `x.jsonl` for `x.jsonl.gz`."""
        if self.member:
            return self.member.rsplit("/", 1)[-1]
        return self.path.name.removesuffix(".gz") if self.is_gzip else self.path.name

    @cached_property
    def is_gzip(self) -> bool:
        return self.member is None and self._file_magic.startswith(GZIP_MAGIC)

    @cached_property
    def _file_magic(self) -> bytes:
        with self.path.open("rb") as fh:
            return fh.read(8)

    @cached_property
    def sha256(self) -> str:
        if self.member is None:
            return file_sha256(self.path)
        # a member's identity from the archive's directory (name, CRC-32, size): no decompression, so
        # listing landing/ never expands a bomb; a changed member changes its CRC
        with zipfile.ZipFile(self.path) as archive:
            info = archive.getinfo(self.member)
        return hashlib.sha256(f"{self.member}\0{info.CRC}\0{info.file_size}".encode()).hexdigest()

    @property
    def key(self) -> str:
        return dump_partition_key(self.name, self.sha256)

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The dump's bytes, decompressed, as a stream (bounded by `limits` for compressed dumps)."""
        if self.member is not None:
            with zipfile.ZipFile(self.path) as archive:
                try:
                    info = archive.getinfo(self.member)
                except KeyError as exc:
                    raise DumpParseError(self.name, "archive", "member not found in the archive") from exc
                if info.flag_bits & 0x1:
                    raise DumpParseError(self.name, "archive", "member is encrypted; unpack it yourself")
                limit = self.limits.allowed(info.compress_size)
                with archive.open(info) as inner:
                    yield io.BufferedReader(_LimitedReader(inner, limit, self.name, self._why(info.compress_size)))
        elif self.is_gzip:
            size = self.path.stat().st_size
            with gzip.open(self.path, "rb") as inner:
                yield io.BufferedReader(_LimitedReader(inner, self.limits.allowed(size), self.name, self._why(size)))
        else:
            with self.path.open("rb") as fh:
                yield fh

    def _why(self, compressed: int) -> str:
        return f"{compressed:,} bytes compressed; limits: {self.limits.max_ratio:g}x, {self.limits.max_bytes:,} bytes"

    def read_bytes(self) -> bytes:
        with self.open() as stream:
            try:
                return stream.read()
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise DumpParseError(self.name, "archive", f"corrupt compressed data: {exc}") from exc

    @cached_property
    def head(self) -> bytes:
        with self.open() as stream:
            try:
                return stream.read(SAMPLE_BYTES)
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise DumpParseError(self.name, "archive", f"corrupt compressed data: {exc}") from exc

    @cached_property
    def is_xlsx(self) -> bool:
        """An Excel workbook (itself a zip with `xl/workbook.xml`)."""
        if not self.head.startswith(ZIP_MAGICS):
            return False
        names = zip_member_names(io.BytesIO(self.head)) if len(self.head) < SAMPLE_BYTES else None
        if names is None:
            names = zip_member_names(io.BytesIO(self.read_bytes()))
        return XLSX_MEMBER in (names or [])

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
            raise DumpParseError(self.name, f"byte {nul}", "not a dump (binary content: NUL byte)")
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
        return self.read_bytes().decode(self.encoding, errors="replace").lstrip("\ufeff")

    def lines(self) -> Iterator[tuple[int, str]]:
        """(1-based line number, line without its newline), streamed."""
        with self.open() as raw:
            stream = io.TextIOWrapper(raw, encoding=self.encoding, errors="replace", newline="")
            for number, line in enumerate(stream, start=1):
                if number == 1:
                    line = line.lstrip("\ufeff")
                yield number, line.rstrip("\r\n")


def zip_member_names(stream: BinaryIO) -> list[str] | None:
    """The file names in a zip archive's directory, or None when it cannot be read."""
    try:
        with zipfile.ZipFile(stream) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return None


def _looks_like_bomless_utf16(head: bytes) -> bool:
    sample = head[:4096]
    if len(sample) < 4:
        return False
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) / 2
    return max(even_nuls, odd_nuls) > 0.4 * half and min(even_nuls, odd_nuls) < 0.05 * half
