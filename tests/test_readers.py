"""Every reader on a small hand-written dump: format detection, records, bad records kept with a reason."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import FIXTURES, read_raw
from trustpulse.readers import DumpParseError, DumpSource, detect_format, read_dump
from trustpulse.readers.blog_text import signature_author


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("blog_thread.txt", "blog_text"),
        ("blogger_thread.txt", "blog_text"),
        ("blog_page.html", "html"),
        ("twcs_sample.csv", "twcs_csv"),
        ("listening_custom.csv", "csv"),
        ("x_api_response.json", "json"),
        ("reddit_comments.jsonl", "jsonl"),
        ("generic.jsonl", "jsonl"),
    ],
)
def test_format_is_detected_from_content(name, fmt, settings):
    assert detect_format(DumpSource(FIXTURES / name), csv_columns=settings.csv_columns) == fmt


def test_format_override_wins(tmp_path):
    path = tmp_path / "weird.dat"
    path.write_text("just some text\n")
    assert detect_format(DumpSource(path), {"*.dat": "jsonl"}) == "jsonl"
    with pytest.raises(DumpParseError, match="not one of"):
        detect_format(DumpSource(path), {"*.dat": "xml"})


def test_blog_reader_finds_post_comments_repeats_and_boilerplate(settings):
    raw = read_raw(FIXTURES / "blog_thread.txt", settings)
    kinds = raw["kind"].to_list()
    assert kinds.count("post") == 1
    assert kinds.count("boilerplate") >= 1
    comments = raw.filter(pl.col("kind") == "comment")
    # every repeated comment points back at its first occurrence, with the same text
    repeats = comments.filter(pl.col("duplicate_of_index").is_not_null())
    assert repeats.height == 4
    by_index = {r["record_index"]: r for r in raw.iter_rows(named=True)}
    for r in repeats.iter_rows(named=True):
        assert by_index[r["duplicate_of_index"]]["text"] == r["text"]
    # a multi-line comment is one record; its signature names the author
    beth = comments.filter(pl.col("author_name") == "Beth Harte").row(0, named=True)
    assert beth["text"].startswith("Maria,\nI agree") and beth["text"].endswith("Would you do it again?")
    assert beth["line_end"] - beth["line_start"] == 4
    # a comment cut by the scraper ("…good reminder") is joined to its start
    assert any(t == "Hi Maria, this is a\n…good reminder that listening is not enough." for t in comments["text"])
    # raw text is kept untouched, signature included
    assert "Beth Hartes last blog post" in beth["raw"]


def test_blogger_reply_delete_separates_comments(settings):
    raw = read_raw(FIXTURES / "blogger_thread.txt", settings)
    texts = raw.filter(pl.col("kind") == "comment")["text"].to_list()
    assert texts == [
        "Interesting article. Thanks for sharing.",
        "Thanks for sharing your comments - listening is where it starts.",
        "Thank you.",
    ]
    post = raw.filter(pl.col("kind") == "post")["text"].item()
    assert "Brands that listen earn trust" in post and "Interesting article" not in post


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("Beth Hartes last blog post..Is Social Media scalable?", "Beth Harte"),
        ("Liz Strausss last blog post..Not Every Town Square Needs to Be a Coliseum", "Liz Strauss"),
        ("Tom O’Briens last blog post..Google and P&G", "Tom O’Brien"),
        ("Jon-Mikel Baileys last blog post..Wood Street", "Jon-Mikel Bailey"),
        ("Just a normal sentence about my last post.", None),
    ],
)
def test_signature_author(line, author):
    assert signature_author(line) == author


def test_html_page_drops_scripts_forms_and_navigation(settings):
    raw = read_raw(FIXTURES / "blog_page.html", settings)
    texts = " ".join(raw["text"].drop_nulls())
    assert "tracking" not in texts and "Home" not in texts
    post = raw.filter(pl.col("kind") == "post")["text"].item()
    assert "Customers want to be heard, and they want competence." in post
    comments = raw.filter(pl.col("kind") == "comment")
    assert comments.filter(pl.col("author_name") == "Ana Lopes").height == 2


def test_twcs_reader_links_replies_and_owners_and_keeps_bad_rows(settings):
    raw = read_raw(FIXTURES / "twcs_sample.csv", settings)
    assert raw.height == 9
    good = raw.filter(pl.col("parse_error").is_null())
    assert good.filter(pl.col("native_id") == "2")["parent_native_id"].item() == "1"  # "1.0" -> "1"
    assert good.filter(pl.col("native_id") == "2")["owner_hint"].item() is True
    assert good.filter(pl.col("native_id") == "1")["owner_hint"].item() is False
    assert good.filter(pl.col("native_id") == "3")["text"].item() == '@sprintcare I did, "twice". Still nothing'
    errors = dict(zip(raw["line_start"], raw["parse_error"], strict=True))
    assert errors[9] == "expected 7 fields, got 4"
    assert "inbound must be True or False" in errors[10]


def test_generic_csv_with_column_mapping(settings):
    raw = read_raw(FIXTURES / "listening_custom.csv", settings)
    assert raw["native_id"].to_list() == ["f1", "f2", "f3"]
    assert raw["platform"].to_list() == ["forum", "forum", "review"]
    assert raw["author_handle"][0] == "Ana"


def test_csv_without_text_column_is_a_clear_file_error(tmp_path):
    path = tmp_path / "no_text.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DumpParseError, match=r"no_text.csv: line 1: CSV header has no text column"):
        list(read_dump(DumpSource(path), "csv"))


def test_unbalanced_quote_is_one_quarantinable_record(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text('id,text\n1,fine\n2,"never closed\n3,swallowed\n')
    raw = pl.concat(list(read_dump(DumpSource(path), "csv")))
    assert raw["text"][0] == "fine"
    assert raw["parse_error"][1].startswith("unbalanced quote")
    assert "3,swallowed" in raw["raw"][1]


def test_x_api_v2_response(settings):
    raw = read_raw(FIXTURES / "x_api_response.json", settings)
    reply = raw.filter(pl.col("native_id") == "101").row(0, named=True)
    assert reply["parent_native_id"] == "100" and reply["thread_native_id"] == "100"
    assert reply["author_handle"] == "AcmeHelp" and reply["author_name"] == "Acme Help"
    assert reply["url"] == "https://x.com/AcmeHelp/status/101"


def test_reddit_dump_and_invalid_lines(settings):
    raw = read_raw(FIXTURES / "reddit_comments.jsonl", settings)
    assert raw.height == 6
    c2 = raw.filter(pl.col("native_id") == "t1_c2").row(0, named=True)
    assert c2["parent_native_id"] == "t1_c1" and c2["thread_native_id"] == "t3_x"
    assert c2["created_at_raw"] == "1709290800"  # the epoch as written; cleaning reads it as 2024-03-01T11:00Z
    errors = raw["parse_error"].drop_nulls().to_list()
    assert any(e.startswith("invalid JSON") for e in errors)
    assert "expected a JSON object, got list" in errors


def test_generic_jsonl(settings):
    raw = read_raw(FIXTURES / "generic.jsonl", settings)
    assert raw.filter(pl.col("native_id") == "g2")["parent_native_id"].item() == "g1"
    assert raw["thread_native_id"].to_list()[:2] == ["t1", "t1"]


def test_parquet_dump(tmp_path):
    path = tmp_path / "export.parquet"
    pl.DataFrame({"id": ["p1", "p2"], "text": ["hello Acme", "bye"], "author": ["x", "y"]}).write_parquet(path)
    source = DumpSource(path)
    assert detect_format(source) == "parquet"
    raw = pl.concat(list(read_dump(source, "parquet")))
    assert raw["text"].to_list() == ["hello Acme", "bye"]
    assert json.loads(raw["raw"][0])["id"] == "p1"


def test_invalid_json_document_names_file_and_position(tmp_path):
    path = tmp_path / "resp.json"
    path.write_text('{"data": [\n  {"id": "1", "text": "hi"},\n  {"id": 2 "text": "x"}\n]}')
    with pytest.raises(DumpParseError, match=r"resp.json: line 3, column 12: invalid JSON"):
        list(read_dump(DumpSource(path), detect_format(DumpSource(path))))


def test_binary_file_is_rejected(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(DumpParseError, match=r"^image.png: not a dump \(PNG image\)$"):
        detect_format(DumpSource(path))
    unknown = tmp_path / "blob.dat"
    unknown.write_bytes(b"\x01\x02\x03" + bytes(range(256)))
    with pytest.raises(DumpParseError, match=r"^blob.dat: byte \d+: not a dump \(binary content: NUL byte\)$"):
        detect_format(DumpSource(unknown))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "cp1252"])
def test_encodings(tmp_path: Path, encoding: str):
    path = tmp_path / "dump.jsonl"
    text = '{"id": "1", "text": "Café service was très bien"}\n{"id": "2", "text": "second"}\n'
    path.write_bytes(text.encode(encoding))
    source = DumpSource(path)
    raw = pl.concat(list(read_dump(source, detect_format(source))))
    assert raw["text"].to_list() == ["Café service was très bien", "second"]


def test_bom_is_detected():
    assert codecs.BOM_UTF8.decode("utf-8-sig") == ""


def test_records_are_chunked_and_indexed(settings):
    source = DumpSource(FIXTURES / "generic.jsonl")
    chunks = list(read_dump(source, "jsonl", chunk_rows=2))
    assert [c.height for c in chunks] == [2, 1]
    ids = pl.concat(chunks)["record_id"].to_list()
    assert ids == [f"{source.key}:{i}" for i in range(3)]
