"""Social-listening exports (Brandwatch, Meltwater, TAGS/Excel): header search, column mapping,
Excel-mangled ids, XLSX, and the structural record counters. Fixtures: tests/fixtures/exports (SOURCES.md).
Expected values were read by hand from the fixture files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from trustpulse.readers import DumpSource, detect_format, read_dump
from trustpulse.readers.columns import EXPORT_COLUMNS, map_columns
from trustpulse.readers.csv_reader import clean_id, count_csv_records, detect_table_format
from trustpulse.readers.schema import DumpParseError
from trustpulse.readers.xlsx_reader import count_xlsx_records, read_xlsx

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def _read(path: Path, columns: dict[str, str] | None = None) -> tuple[str, pl.DataFrame]:
    source = DumpSource(path)
    fmt = detect_format(source, csv_columns=columns or {})
    return fmt, pl.concat(list(read_dump(source, fmt, columns or {})))


def _row(raw: pl.DataFrame, line: int) -> dict:
    return raw.filter(pl.col("line_start") == line).row(0, named=True)


def test_brandwatch_export_skips_the_report_lines_and_prefers_full_text():
    fmt, raw = _read(EXPORTS / "brandwatch_mentions.csv")
    assert fmt == "csv"
    assert raw.height == 10 and raw["parse_error"].is_null().all()
    first = _row(raw, 8)  # the header is line 7, after 5 report lines and a blank one
    assert first["author_handle"] == "_TheSpecialOne_"
    assert first["created_at_raw"] == "Mon Apr 06 22:19:45 PDT 2009"
    assert first["native_id"] == "1467810369"  # Resource Id
    assert first["parent_native_id"] is None
    assert first["platform"] == "twitter"  # Page Type, preferred over Domain
    assert first["url"] == "http://twitter.com/_TheSpecialOne_/statuses/1467810369"
    assert first["text"].endswith("Third Day to do it. ;D")  # Full Text, not the cut Snippet
    last = _row(raw, 17)
    assert (last["author_handle"], last["native_id"]) == ("mimismo", "1467812025")
    assert last["text"] == "@twittera que me muera ? "
    source = DumpSource(EXPORTS / "brandwatch_mentions.csv")
    assert count_csv_records(source.lines(), source.sample_text) == raw.height


def test_meltwater_utf16_tsv_with_hit_sentence():
    source = DumpSource(EXPORTS / "meltwater_export.tsv")
    assert source.encoding == "utf-16"
    fmt, raw = _read(EXPORTS / "meltwater_export.tsv")
    assert fmt == "csv"
    assert raw.height == 9 and raw["parse_error"].is_null().all()
    nasa = _row(raw, 2)
    assert nasa["author_handle"] == "NASA"  # Twitter Screen Name, preferred over Influencer "@NASA"
    assert nasa["native_id"] == "967824267948773377"  # Tweet Id
    assert nasa["created_at_raw"] == "25-Feb-2018 06:11PM"  # Date already holds the time: Time not added
    assert nasa["text"].startswith("From pilot to astronaut, Robert H. Lawrence")
    kanai = _row(raw, 5)
    assert kanai["author_handle"] == "Astro_Kanai" and kanai["text"].startswith("宇宙ステーションでも")
    assert kanai["parent_native_id"] is None
    last = _row(raw, 10)
    assert (last["author_handle"], last["native_id"]) == ("NickiGraves", "2054062422")
    assert count_csv_records(source.lines(), source.sample_text) == raw.height


def test_excel_scientific_ids_are_not_ids_and_keep_20_distinct_comments():
    fmt, raw = _read(EXPORTS / "excel_scientific_ids.csv")
    assert fmt == "csv"  # semicolon-delimited
    assert raw.height == 20 and raw["parse_error"].is_null().all()
    assert raw["native_id"].is_null().all()
    assert raw["text"].n_unique() == 20
    paul = _row(raw, 2)
    assert paul["author_handle"] == "PaulMichels17"
    assert paul["created_at_raw"] == "Sat May 23 18:01:55 +0000 2020"  # created_at preferred over time
    assert paul["reader_note"] == "id '1,26426E+18' is in scientific notation (Excel rounded it); not used as an id"
    assert paul["parent_native_id"] is None
    nasa = _row(raw, 3)
    assert nasa["author_handle"] == "NASA" and "9,67824E+17" in nasa["reader_note"]
    source = DumpSource(EXPORTS / "excel_scientific_ids.csv")
    assert count_csv_records(source.lines(), source.sample_text) == 20


def test_csv_without_text_column_is_refused_with_its_columns():
    with pytest.raises(DumpParseError, match=r"no text column among \[Date, Author, Url, Snippet2\]; map one"):
        detect_format(DumpSource(EXPORTS / "no_text_column.csv"))
    fmt, raw = _read(EXPORTS / "no_text_column.csv", {"text": "Snippet2"})
    assert fmt == "csv" and raw.height == 6
    assert _row(raw, 2)["author_handle"] == "_TheSpecialOne_"


def test_xlsx_first_sheet_with_text_column():
    data = (EXPORTS / "tags_archive.xlsx").read_bytes()
    records = list(read_xlsx(data, "tags_archive.xlsx", {}))
    assert len(records) == 10 == count_xlsx_records(data)
    by_row = {r["line_start"]: r for r in records}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 8, 9, 10, 11, 12]  # sheet rows; row 7 is blank
    paul = by_row[2]
    assert paul["author_handle"] == "PaulMichels17"
    assert paul["created_at_raw"] == "2020-05-23T18:01:55"  # an Excel datetime -> ISO
    assert paul["native_id"] is None and "scientific notation" in paul["reader_note"]  # float lost digits
    mattycus = by_row[10]
    assert mattycus["native_id"] == "1467810917"  # a whole number -> integer id
    assert mattycus["parent_native_id"] == "1467810672"
    assert mattycus["created_at_raw"] == "2009-04-06T22:19:53"


def test_xlsx_with_no_text_column_is_refused():
    xlsxwriter = pytest.importorskip("xlsxwriter")
    import io

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    workbook.add_worksheet("Sheet1").write_row(0, 0, ["Date", "Author", "Reach"])
    workbook.close()
    with pytest.raises(DumpParseError, match=r"no sheet has a text column \(Sheet1: \[Date, Author, Reach\]\)"):
        list(read_xlsx(buffer.getvalue(), "x.xlsx", {}))


def test_prose_with_commas_is_not_a_table():
    prose = (
        "Maria,\nI agree with most of this. We tried it at work and it was hard,\n"
        "but it paid off after a few months, honestly.\nWould you do it again?\n"
        "Great post, thanks for writing it.\nGreat post, thanks for writing it.\n"
    )
    assert detect_table_format(prose, "blog_dump.txt", {}) is None


def test_shape_without_extension_is_a_table_and_without_text_is_refused():
    rows = "".join(f"{d},{a},{n}\n" for d, a, n in [(f"2024-01-0{i}", f"user{i}", i) for i in range(1, 7)])
    with pytest.raises(DumpParseError, match=r"no text column among \[2024-01-01, user1, 1\]"):
        detect_table_format(rows, "dump.txt", {})
    assert detect_table_format("when\tauthor\ttweet text\n2024\tana\thi\n", "dump.txt", {}) == "csv"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5,70306E+17", None),
        ("5.70306E+17", None),
        ("1.23e+18", None),
        ("570306123456789012.0", "570306123456789012"),
        ("t3_abc", "t3_abc"),
        ("", None),
    ],
)
def test_clean_id(value, expected):
    assert clean_id(value)[0] == expected


def test_column_table_prefers_full_text_and_user_overrides_win():
    header = ["Date", "Snippet", "Full Text", "Author", "Thread Id"]
    assert map_columns(header, {})["text"] == 2
    assert map_columns(header, {"text": "snippet"})["text"] == 1
    assert map_columns(["Created_At", "TEXT "], {}) == {"created_at": 0, "text": 1}
    assert "hit sentence" in EXPORT_COLUMNS["text"]


def test_twarc_csv_export_authors_and_decoded_texts():
    """twarc-csv writes `source` (the client app), `author.username` and JSON-encoded texts."""
    fmt, raw = _read(EXPORTS / "twarc_csv_small_sample.csv")
    assert fmt == "csv"
    assert raw["author_handle"].to_list() == ["aXSniperSC", "thebeardedluke", "GameStop", "TheNickyWaters"]
    assert raw["author_name"].to_list() == ["Chris Canning", "BeardedLuke", "GameStop", "Nickywaters"]
    texts = raw["text"].to_list()
    assert texts[2] == (
        "Nobody: \n\nLiterally nobody: \n\nPeople who hate happiness: That game is dead, people still play that?"
    )
    assert "can’t wait to see the boys" in texts[0] and not any(t.startswith('"') for t in texts)
    assert raw["created_at_raw"][0] == "2019-09-06T20:38:01.000Z" and raw["native_id"][0] == "1170073690492588037"
