"""Values as real exports hold them: dates in the file's own order, epoch numbers of any unit, ids that
Excel mangled, numeric author ids, and column maps set without code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines import cli
from tests.conftest import read_raw
from trustpulse.cleaning.dates import parse_timestamps
from trustpulse.cleaning.dump import clean_dump
from trustpulse.settings import TrustpulseSettings, parse_column_option


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_numeric_dates_follow_the_order_the_file_shows():
    # 25-02-2015 can only be day-first, so 05-02-2015 and 03.02.2024 in the same file are too
    stamps = parse_timestamps(["05-02-2015", "25-02-2015 10:30", "03.02.2024", None])
    assert stamps.times == [_utc(2015, 2, 5), _utc(2015, 2, 25, 10, 30), _utc(2024, 2, 3), None]
    assert stamps.order.day_first
    # a file whose values show a month first (02/25/2015) reads 05/02/2015 as May 2nd
    us = parse_timestamps(["05/02/2015", "02/25/2015"])
    assert us.times == [_utc(2015, 5, 2), _utc(2015, 2, 25)] and not us.order.day_first


def test_zone_abbreviations_and_spanish_meridiem():
    stamps = parse_timestamps(["Mon Apr 06 22:19:45 PDT 2009", "30/12/14 2:07 a. m.", "Tue, 03 Mar 2015 17:03 EST"])
    assert stamps.times == [_utc(2009, 4, 7, 5, 19, 45), _utc(2014, 12, 30, 2, 7), _utc(2015, 3, 3, 22, 3)]


def test_epoch_numbers_in_any_unit_and_bad_values_named():
    # 1709287200 s = 2024-03-01 10:00 UTC, given in s, ms, µs and ns
    stamps = parse_timestamps(["1709287200", "1709287200000", "1709287200000000", "1709287200000000000"])
    assert stamps.times == [_utc(2024, 3, 1, 10)] * 4
    bad = parse_timestamps(["99999999999999999999999", "31/31/2020", "2011-x09-30T22:48:43Z", "vor 3 Tagen"])
    assert bad.times == [None, None, None, None]
    assert "out of range" in bad.bad[0] and "month must be in 1..12" in bad.bad[1]
    assert "is not a date" in bad.bad[2]  # a machine's timestamp with a typo (a real Disqus export) is malformed
    # a worded date that the parser does not know is not malformed: the mention stays, undated
    assert bad.bad[3] is None and bad.not_understood == ["vor 3 Tagen"]


def test_month_names_in_the_languages_of_comment_threads():
    stamps = parse_timestamps(["3. März 2015 um 10:15", "12 février 2015", "2 de agosto de 2019", "2 hours ago"])
    assert stamps.times[:3] == [_utc(2015, 3, 3, 10, 15), _utc(2015, 2, 12), _utc(2019, 8, 2)]
    assert stamps.times[3] is None  # "ago" is Portuguese August only in its long form: no false date


def test_a_bad_value_quarantines_its_record_only(settings, book, tmp_path: Path):
    path = tmp_path / "dates.jsonl"
    path.write_text(
        '{"id": "1", "text": "fine first", "author": "a", "created_at": 1709287200123}\n'
        '{"id": "2", "text": "broken date", "author": "b", "created_at": "99999999999999999999"}\n'
        '{"id": "3", "text": "fine third", "author": "c", "created_at": "2024-03-01T10:00:00Z"}\n'
    )
    cleaned = clean_dump(read_raw(path, settings), settings, book, b"k")
    assert cleaned.mentions["text"].to_list() == ["fine first", "fine third"]
    assert cleaned.mentions["created_at"].to_list()[0] == _utc(2024, 3, 1, 10, 0, 0, 123000)
    (reason,) = cleaned.quarantine["reason"].to_list()
    assert reason.startswith("bad_value: created_at '99999999999999999999' is not a date")


def test_one_id_on_different_records_is_no_id(settings, book, tmp_path: Path):
    """Excel rounded 20 ids to one value: 20 different comments, not 19 duplicates of the first."""
    settings = settings.model_copy(update={"csv_columns": {}})
    rows = ["id;text;author"] + [f"5,70306E+17;comment number {n} about the service;user{n}" for n in range(20)]
    path = tmp_path / "excel.csv"
    path.write_text("\n".join(rows) + "\n")
    cleaned = clean_dump(read_raw(path, settings), settings, book, b"k")
    assert cleaned.mentions.height == 20 and cleaned.duplicates.height == 0
    assert cleaned.mentions["mention_id"].n_unique() == 20
    # the same id on the same author and text is one record seen twice
    same = tmp_path / "twice.jsonl"
    same.write_text(
        '{"id": "7", "text": "hello there", "author": "a"}\n'
        '{"id": "7", "text": "hello there", "author": "a"}\n'
        '{"id": "7", "text": "a different text", "author": "b"}\n'
    )
    cleaned = clean_dump(read_raw(same, settings), settings, book, b"k")
    assert cleaned.mentions.height == 2 and cleaned.duplicates["rule"].to_list() == ["same_id"]
    assert any("share an id with a different author or text" in n for n in cleaned.notes)


def test_numeric_author_ids_are_not_masked_as_phone_numbers(settings, book, tmp_path: Path):
    path = tmp_path / "ids.jsonl"
    path.write_text('{"id": "1", "text": "call me at +1 415 555 0134", "author": "4155550134"}\n')
    cleaned = clean_dump(read_raw(path, settings), settings, book, b"k")
    assert cleaned.mentions["author"].to_list() == ["4155550134"]
    assert "[phone]" in cleaned.mentions["text"][0]


def test_column_maps_without_code(tmp_path: Path):
    root = tmp_path / "data"
    (root / "landing").mkdir(parents=True)
    (root / "trustpulse.yaml").write_text(
        "columns:\n  author: Influencer\nfiles:\n  'meltwater*':\n    columns:\n      text: Hit Sentence\n"
    )
    (root / "landing" / "other.csv.columns.yaml").write_text("text: Body\n")
    settings = TrustpulseSettings(data_root=str(root))
    assert settings.column_map_for("meltwater_may.tsv") == {"author": "Influencer", "text": "Hit Sentence"}
    assert settings.column_map_for("other.csv") == {"author": "Influencer", "text": "Body"}
    flagged = TrustpulseSettings(data_root=str(root), csv_columns=parse_column_option("text=Snippet, url=Link"))
    assert flagged.column_map_for("meltwater_may.tsv") == {"author": "Influencer", "text": "Snippet", "url": "Link"}
    with pytest.raises(ValueError, match="unknown column field"):
        parse_column_option("body=Text")
    with pytest.raises(ValueError, match="FIELD=COLUMN"):
        parse_column_option("text")


def test_cli_columns_option_reads_an_export_with_an_unknown_text_column(settings, monkeypatch, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings.landing_dir.mkdir(parents=True)
    (settings.landing_dir / "export.csv").write_text(
        "Date,Author,Snippet2\n2024-03-01,ann,Acme fixed my router in an hour\n2024-03-02,bob,Still waiting\n"
    )
    data = str(settings.root)
    assert cli.main(["run", "--data", data]) == 1
    _, err = capsys.readouterr()
    assert "export.csv: line 1: CSV header has no text column among [Date, Author, Snippet2]" in err
    assert cli.main(["run", "--data", data, "--columns", "text=Snippet2"]) == 0
    mentions = pl.read_parquet(settings.warehouse_dir / "mentions.parquet")
    assert sorted(mentions["text"].to_list()) == ["Acme fixed my router in an hour", "Still waiting"]


def test_the_word_between_a_date_and_its_time():
    stamps = parse_timestamps(["29.07.2006 um 16:43", "May 3, 2019 at 5:03 pm"])
    assert stamps.times == [_utc(2006, 7, 29, 16, 43), _utc(2019, 5, 3, 17, 3)]
