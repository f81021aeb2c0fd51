"""Compressed dumps and archives: .gz and .zip members read in place, bombs and zip-slip refused,
files that are not dumps named for what they are."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import polars as pl
import pytest

from trustpulse.landing import landed_dumps
from trustpulse.readers import DumpParseError, DumpSource, count_file_records, detect_format, read_dump
from trustpulse.readers.source import ExpansionLimits

FIXTURES = Path(__file__).parent / "fixtures"
GENERIC_LINES = (FIXTURES / "generic.jsonl").read_bytes()


def _read(source: DumpSource) -> pl.DataFrame:
    return pl.concat(list(read_dump(source, detect_format(source))))


def test_gzip_dump_reads_like_the_plain_file(tmp_path: Path):
    plain = tmp_path / "generic.jsonl"
    plain.write_bytes(GENERIC_LINES)
    packed = tmp_path / "generic.jsonl.gz"
    packed.write_bytes(gzip.compress(GENERIC_LINES))
    expected = _read(DumpSource(plain))
    got = _read(DumpSource(packed))
    assert DumpSource(packed).inner_name == "generic.jsonl"
    assert got["text"].to_list() == expected["text"].to_list()
    assert got["dump_file"].unique().to_list() == ["generic.jsonl.gz"]
    # the file's own count (lines of JSON) matches what was read
    assert count_file_records(DumpSource(packed), "jsonl") == got.height


def test_zip_members_are_dumps_of_their_own(tmp_path: Path):
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/generic.jsonl", GENERIC_LINES)
        zf.writestr("twcs.csv", (FIXTURES / "twcs_sample.csv").read_bytes())
        zf.writestr("__MACOSX/._twcs.csv", b"\x00\x05\x16\x07")
        zf.writestr("empty_dir/", b"")
    dumps = landed_dumps(tmp_path)
    assert [d.name for d in dumps] == ["exports.zip/a/generic.jsonl", "exports.zip/twcs.csv"]
    assert len({d.key for d in dumps}) == 2
    formats = [detect_format(d) for d in dumps]
    assert formats == ["jsonl", "twcs_csv"]
    generic = _read(dumps[0])
    assert generic.height == len([line for line in GENERIC_LINES.splitlines() if line.strip()])
    # the key of a member does not change when another member changes
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("later.jsonl", GENERIC_LINES)
    assert dumps[0].key in {d.key for d in landed_dumps(tmp_path)}


def test_zip_slip_member_is_read_in_place_never_written(tmp_path: Path):
    landing = tmp_path / "landing"
    landing.mkdir()
    with zipfile.ZipFile(landing / "evil.zip", "w") as zf:
        zf.writestr("../../escaped.jsonl", GENERIC_LINES)
    (dump,) = landed_dumps(landing)
    raw = _read(dump)
    assert raw.height > 0
    assert not (tmp_path / "escaped.jsonl").exists() and not (tmp_path.parent / "escaped.jsonl").exists()
    assert "/" not in dump.key.split("~")[0]  # the partition key is a plain token


def _zip_bomb(path: Path, expanded: int) -> None:
    block = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf, zf.open("bomb.jsonl", "w") as member:
        for _ in range(expanded >> 20):
            member.write(block)


def test_zip_bomb_member_is_refused_with_its_reason(tmp_path: Path):
    _zip_bomb(tmp_path / "bomb.zip", 64 << 20)  # 64 MiB of spaces: ~64 KB compressed, ratio ~1000
    (dump,) = landed_dumps(tmp_path)
    with pytest.raises(DumpParseError, match=r"bomb.zip/bomb.jsonl: .*refused as a possible archive bomb"):
        _read(dump)


def test_gzip_bomb_is_refused_and_limits_are_configurable(tmp_path: Path):
    path = tmp_path / "big.jsonl.gz"
    path.write_bytes(gzip.compress(GENERIC_LINES * 2000, compresslevel=9))
    tight = DumpSource(path, limits=ExpansionLimits(max_bytes=10_000, max_ratio=2.0, floor_bytes=0))
    ratio_limit = 2 * path.stat().st_size  # below the 10,000-byte ceiling, so the ratio decides
    assert ratio_limit < 10_000
    with pytest.raises(DumpParseError, match=f"expands past {ratio_limit:,} bytes"):
        _read(tight)
    assert _read(DumpSource(path)).height == 2000 * len([x for x in GENERIC_LINES.splitlines() if x.strip()])


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("report.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        ("slides.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF document"),
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(32), "legacy Office file"),
        ("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "MP4/MOV video"),
    ],
)
def test_files_that_are_not_dumps_are_named_for_what_they_are(tmp_path: Path, name, content, what):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DumpParseError) as info:
        detect_format(DumpSource(path))
    assert str(info.value).startswith(f"{name}: not a dump ({what}")


def test_a_word_document_in_landing_is_one_refused_dump(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    (tmp_path / "memo.docx").write_bytes(buffer.getvalue())
    (dump,) = landed_dumps(tmp_path)
    with pytest.raises(DumpParseError, match=r"^memo.docx: not a dump"):
        detect_format(dump)


def test_finding_one_dump_by_key_looks_only_at_the_files_that_can_give_it(tmp_path, monkeypatch):
    """In an object store each landed file is copied to local scratch before it is read: a worker ingesting
    one dump must not copy every other dump in landing/."""
    from trustpulse import landing

    for name in ("a.jsonl", "b.jsonl", "c.csv"):
        (tmp_path / name).write_text(f'{{"text": "hi {name}"}}\n')
    copied: list[str] = []
    real_copy = landing.local_copy
    monkeypatch.setattr(landing, "local_copy", lambda p: copied.append(p.name) or real_copy(p))
    key = next(d.key for d in landing.landed_dumps(tmp_path) if d.name == "b.jsonl")
    copied.clear()
    assert landing.dump_for_key(tmp_path, key).name == "b.jsonl"
    assert copied == ["b.jsonl"]
