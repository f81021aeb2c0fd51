"""Broken dumps and property tests: every raw record ends kept, duplicate or quarantined (with a
reason), or the dump fails with one clear error naming the file; nothing is silently dropped."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from trustpulse.brands import BrandBook
from trustpulse.cleaning.boilerplate import is_boilerplate_line
from trustpulse.cleaning.dump import clean_dump
from trustpulse.cleaning.text import EMAIL_MASK, mask_pii, normalise_text
from trustpulse.readers import DumpParseError, DumpSource, detect_format, read_dump
from trustpulse.readers.blog_text import read_blog_text
from trustpulse.readers.json_reader import read_json_lines
from trustpulse.settings import TrustpulseSettings

BOOK = BrandBook()


def _broken_corpus(root: Path) -> dict[str, bytes]:
    big_line = b"word " * 10_500_000  # a single 52.5 MB line
    nested = "[" * 5000 + "]" * 5000
    return {
        "truncated.csv": b'id,text,author\n1,"fine",a\n2,"cut off in the mid',
        "unbalanced.csv": b'id,text\n1,"open quote\n2,next\n3,"closed"\n',
        "columns.csv": b"id,text,author\n1,ok,a\n2,too,many,fields,here\n3\n",
        "lines.jsonl": b'{"id": "1", "text": "ok"}\n{"id": 2, "text": \n[1,2]\n"string"\n'
        b'{"id": "5", "text": "also ok"}\n',
        "nested.jsonl": f'{{"id": "n", "text": "deep", "x": {nested}}}\n{{"id": "m", "text": "fine"}}\n'.encode(),
        "binary.bin": bytes(range(256)) * 10,
        "utf16.jsonl": '{"id": "u", "text": "naïve café"}\n'.encode("utf-16"),
        "latin1.csv": "id,text\n1,café crème\n".encode("latin-1"),
        "bom.csv": b"\xef\xbb\xbfid,text\n1,with bom\n",
        "empty.txt": b"",
        "big_line.jsonl": b'{"id": "big", "text": "' + big_line + b'"}\n{"id": "small", "text": "small"}\n',
        "scripts.html": b"<html><body><script>alert(1)</script><p>Real post text here.</p>"
        + b"<script>document.write('x')</script><style>p{}</style></body></html>",
        "dup_ids.jsonl": b'{"id": "1", "text": "a"}\n{"id": "1", "text": "a"}\n{"id": "2", "text": "b"}\n',
        "dates.jsonl": "\n".join(
            json.dumps({"id": str(i), "text": f"t{i}", "created_at": d})
            for i, d in enumerate(
                [
                    "2024-03-01T10:00:00Z",
                    "2024-03-01 12:00:00+05:30",
                    "Fri, 01 Mar 2024 10:00:00 GMT",
                    "1709287200",
                    "01/03/2024",
                    "not a date",
                    None,
                ]
            )
        ).encode(),
    }


def test_broken_corpus_is_kept_or_quarantined_or_one_clear_error(tmp_path):
    settings = TrustpulseSettings(data_root=str(tmp_path / "data"), pseudonym_key="k")
    outcomes = {}
    for name, content in _broken_corpus(tmp_path).items():
        path = tmp_path / name
        path.write_bytes(content)
        source = DumpSource(path)
        try:
            raw_chunks = list(read_dump(source, detect_format(source)))
        except DumpParseError as exc:
            assert str(exc).startswith(f"{name}: "), str(exc)
            outcomes[name] = "file error"
            continue
        raw = pl.concat(raw_chunks) if raw_chunks else pl.DataFrame()
        if raw.is_empty():
            outcomes[name] = "empty"
            continue
        cleaned = clean_dump(raw, settings, BOOK, b"k")
        counts = cleaned.accounting(raw.height)
        assert counts["raw_records"] == counts["kept"] + counts["duplicates"] + counts["quarantined"], name
        assert cleaned.quarantine["reason"].is_not_null().all()
        outcomes[name] = counts
    assert outcomes["binary.bin"] == "file error"
    assert outcomes["empty.txt"] == "empty"
    assert outcomes["truncated.csv"]["quarantined"] == 1 and outcomes["truncated.csv"]["kept"] == 1
    assert outcomes["columns.csv"] == {"raw_records": 3, "kept": 1, "duplicates": 0, "quarantined": 2}
    assert outcomes["lines.jsonl"]["kept"] == 2 and outcomes["lines.jsonl"]["quarantined"] == 3
    assert outcomes["nested.jsonl"]["kept"] == 1 and outcomes["nested.jsonl"]["quarantined"] == 1
    assert outcomes["utf16.jsonl"]["kept"] == 1 and outcomes["latin1.csv"]["kept"] == 1
    assert outcomes["big_line.jsonl"] == {"raw_records": 2, "kept": 1, "duplicates": 0, "quarantined": 1}
    assert outcomes["dup_ids.jsonl"] == {"raw_records": 3, "kept": 2, "duplicates": 1, "quarantined": 0}
    assert outcomes["dates.jsonl"]["kept"] == 7


def test_mixed_dates_and_zones_become_utc(tmp_path):
    path = tmp_path / "dates.jsonl"
    path.write_bytes(_broken_corpus(tmp_path)["dates.jsonl"])
    settings = TrustpulseSettings(data_root=str(tmp_path / "d"), pseudonym_key="k")
    raw = pl.concat(list(read_dump(DumpSource(path), "jsonl")))
    m = clean_dump(raw, settings, BOOK, b"k").mentions.sort("record_id")
    got = [None if t is None else t.isoformat() for t in m["created_at"]]
    assert got[:4] == [
        "2024-03-01T10:00:00+00:00",
        "2024-03-01T06:30:00+00:00",
        "2024-03-01T10:00:00+00:00",
        "2024-03-01T10:00:00+00:00",
    ]
    assert got[5:] == [None, None]


# ---- properties ------------------------------------------------------------------------------
text_st = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@given(st.lists(text_st, max_size=30))
@hsettings(max_examples=60, deadline=None)
def test_json_lines_reader_never_loses_a_line(lines):
    numbered = list(enumerate((line.replace("\n", " ").replace("\r", " ") for line in lines), start=1))
    records = list(read_json_lines(numbered))
    non_blank = [n for n, line in numbered if line.strip()]
    assert sorted({r["line_start"] for r in records}) == non_blank
    assert all(r.get("parse_error") or r.get("text") for r in records)


# a bare carriage return inside a quoted field counts as a line break (as in most CSV readers)
no_cr = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=200)


# ids are prefixed so that none is a number Excel would have rounded (`0E0`, `12.0`: test_exports covers those)
any_id = st.text(max_size=30).map(lambda s: "id-" + s.replace("\r", ""))


@given(st.lists(st.tuples(any_id, no_cr), min_size=1, max_size=20))
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_csv_reader_round_trips_what_csv_writes(rows):
    from trustpulse.readers.csv_reader import read_csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "text"])
    writer.writerows(rows)
    lines = list(enumerate(out.getvalue().split("\n")[:-1], start=1))
    records = list(read_csv(lines, out.getvalue(), "x.csv", {}, twcs=False))
    ok = [r for r in records if not r.get("parse_error")]
    expected = [r for r in rows if any(field.strip() for field in r)]
    # ids are trimmed of surrounding whitespace (exports pad them); texts are kept as written
    assert [(r["native_id"] or "", r["text"]) for r in ok] == [(i.strip(), t) for i, t in expected]


@given(
    st.lists(
        st.text(st.characters(whitelist_categories=("L", "N", "Zs")), min_size=3, max_size=60)
        .map(str.strip)
        .filter(lambda s: len(s) > 2 and not is_boilerplate_line(s)),
        min_size=1,
        max_size=8,
        unique=True,
    )
)
@hsettings(max_examples=60, deadline=None)
def test_blog_comments_printed_twice_are_found_as_repeats(comments):
    post = "A post title\n\nThe post body says something long enough to be a post."
    text = post + "\n" + "\n".join(f"{c}\n{c}" for c in comments)
    records = list(read_blog_text(text, "t"))
    repeats = [r for r in records if r.get("duplicate_of_index") is not None]
    firsts = [r["text"] for r in records if r["kind"] == "comment" and r.get("duplicate_of_index") is None]
    assert len(repeats) == len(comments)
    assert "\n".join(firsts).count("\n") >= len(comments) - 1


@given(text_st)
@hsettings(max_examples=200, deadline=None)
def test_normalise_is_idempotent(text):
    once = normalise_text(text)
    assert normalise_text(once) == once


@given(st.emails(), text_st, text_st)
@hsettings(max_examples=100, deadline=None)
def test_emails_never_survive_masking(email, before, after):
    masked = mask_pii(f"{before} {email} {after}")
    assert email not in masked and EMAIL_MASK in masked


@given(st.lists(st.tuples(st.sampled_from(["ok", None]), text_st), max_size=25))
@hsettings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_accounting_always_adds_up(tmp_path_factory, rows):
    from trustpulse.readers.schema import records_frame

    settings = TrustpulseSettings(data_root=str(tmp_path_factory.mktemp("d")), pseudonym_key="k")
    raw = records_frame(
        {
            "record_id": f"k:{i}",
            "dump_file": "f",
            "dump_key": "k",
            "source_format": "jsonl",
            "record_index": i,
            "kind": "message",
            "text": text,
            "native_id": str(i % 7),
            "parse_error": None if ok else "bad",
        }
        for i, (ok, text) in enumerate(rows)
    )
    counts = clean_dump(raw, settings, BOOK, b"k").accounting(raw.height)
    assert counts["raw_records"] == counts["kept"] + counts["duplicates"] + counts["quarantined"]


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"])
def test_script_payloads_in_plain_text_stay_text(payload):
    assert payload in normalise_text(f"hey {payload}", markup=False)
