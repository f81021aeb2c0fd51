"""Readers: a dump file in, `raw_mentions` frames out (see `schema.RAW_SCHEMA`).

`detect_format` decides the format from the content (a `format_overrides` glob wins); `read_dump`
streams the records in chunks.
"""

from __future__ import annotations

import fnmatch
import io
import json
from collections.abc import Iterator

import polars as pl
import pyarrow.parquet as pq

from trustpulse.readers.blog_text import read_blog_text
from trustpulse.readers.csv_reader import detect_table_format, read_csv
from trustpulse.readers.html_reader import looks_like_markup, read_html
from trustpulse.readers.json_reader import read_json_document, read_json_lines, records_from_object
from trustpulse.readers.schema import RAW_SCHEMA, SOURCE_FORMATS, DumpParseError, records_frame
from trustpulse.readers.source import GZIP_MAGIC, SAMPLE_BYTES, ZIP_MAGICS, DumpSource, describe_binary

__all__ = ["RAW_SCHEMA", "DumpParseError", "DumpSource", "detect_format", "read_dump"]


def detect_format(
    source: DumpSource, overrides: dict[str, str] | None = None, csv_columns: dict[str, str] | None = None
) -> str:
    """The dump's format from its content; `overrides` (file-name glob -> format) win."""
    for pattern, fmt in (overrides or {}).items():
        if fnmatch.fnmatch(source.name, pattern):
            if fmt not in SOURCE_FORMATS:
                raise DumpParseError(source.name, "config", f"format override {fmt!r} is not one of {SOURCE_FORMATS}")
            return fmt
    if source.head.startswith(b"PAR1"):
        return "parquet"
    if not source.head:
        return "blog_text"  # empty file: no records
    if source.head.startswith(ZIP_MAGICS):
        if source.is_xlsx:
            return "xlsx"
        raise DumpParseError(source.name, "", "not a dump (an archive inside an archive, or an Office file); unpack it")
    if source.head.startswith(GZIP_MAGIC):
        raise DumpParseError(source.name, "", "not a dump (gzip data inside a compressed dump); unpack it")
    if what := describe_binary(source.head):
        raise DumpParseError(source.name, "", f"not a dump ({what})")
    sample = source.sample_text.lstrip()
    if sample.startswith(("{", "[")):
        # One JSON value per line (JSON lines, one API response or one Reddit thread page per line) versus one
        # document: a pretty-printed document's first line ("[" or "{") is not a complete value.
        first_line, newline, rest = sample.partition("\n")
        if not newline and len(source.head) == SAMPLE_BYTES:  # the first line is longer than the sample
            first_line, rest = _first_line_and_more(source)
        try:
            first_is_complete = isinstance(json.loads(first_line), dict | list)
        except json.JSONDecodeError:
            first_is_complete = False
        except RecursionError:  # one line nested too deep: still one record per line
            first_is_complete = True
        return "jsonl" if first_is_complete and rest.strip() else "json"
    # --- markup: HTML pages, Disqus XML exports (trustpulse/readers/html_reader.py owns the rule) ---
    if looks_like_markup(source.sample_text):
        return "html"
    # --- tables: CSV / TSV exports (trustpulse/readers/csv_reader.py owns the rule) ---
    table_format = detect_table_format(sample, source.name, csv_columns)
    if table_format is not None:
        return table_format
    return "blog_text"


def _first_line_and_more(source: DumpSource) -> tuple[str, str]:
    """The whole first line of a dump, and a little of what follows it."""
    lines = source.lines()
    first = next(lines, (0, ""))[1]
    following = next(lines, (0, ""))[1]
    return first, following[:1000]


def _records(source: DumpSource, fmt: str, settings_csv_columns: dict[str, str]) -> Iterator[dict]:
    if fmt == "blog_text":
        yield from read_blog_text(source.text(), thread_key=source.name)
    elif fmt == "html":
        yield from read_html(source.text(), thread_key=source.name)
    elif fmt in ("csv", "twcs_csv"):
        yield from read_csv(source.lines(), source.sample_text, source.name, settings_csv_columns, fmt == "twcs_csv")
    elif fmt == "jsonl":
        yield from read_json_lines(source.lines())
    elif fmt == "json":
        yield from read_json_document(source.text(), source.name)
    elif fmt == "parquet":
        yield from _parquet_records(source)
    elif fmt == "xlsx":
        from trustpulse.readers.xlsx_reader import read_xlsx

        yield from read_xlsx(source.read_bytes(), source.name, settings_csv_columns)
    else:  # pragma: no cover - detect_format only returns known formats
        raise DumpParseError(source.name, "config", f"unknown format {fmt!r}")


def _parquet_records(source: DumpSource) -> Iterator[dict]:
    try:
        plain = source.member is None and not source.is_gzip
        parquet = pq.ParquetFile(source.path if plain else io.BytesIO(source.read_bytes()))
    except Exception as exc:
        raise DumpParseError(source.name, "footer", f"unreadable parquet: {exc}") from exc
    row = 0
    for batch in parquet.iter_batches(batch_size=10_000):
        for obj in batch.to_pylist():
            row += 1
            for rec in records_from_object(obj):
                yield {
                    "line_start": row,
                    "line_end": row,
                    "kind": "message",
                    "raw": json.dumps(obj, ensure_ascii=False, default=str),
                    **rec,
                }


def count_file_records(source: DumpSource, fmt: str, csv_columns: dict[str, str] | None = None) -> int | None:
    """How many records (posts, comments, replies, rows) the file holds, counted from its structure
    independently of the reader's extraction: the accounting compares it with what the reader produced,
    so a record a reader skips or merges shows up as a gap. None where the format has no count of its own
    (plain-text blog dumps: their structure is what the reader infers).
    """
    if fmt == "html":
        from trustpulse.readers.html_reader import count_records

        return count_records(source.text())
    if fmt in ("csv", "twcs_csv"):
        from trustpulse.readers.csv_reader import count_csv_records

        return count_csv_records(source.lines(), source.sample_text, csv_columns)
    if fmt == "xlsx":
        from trustpulse.readers.xlsx_reader import count_xlsx_records

        return count_xlsx_records(source.read_bytes(), csv_columns)
    if fmt == "json":
        from trustpulse.readers.json_reader import count_json_records

        try:
            return count_json_records([json.loads(source.text())])
        except (json.JSONDecodeError, RecursionError):
            return None  # the reader refuses the whole document with the position of the error
    if fmt == "jsonl":
        from trustpulse.readers.json_reader import count_json_records

        values, unparsable = [], 0
        for _, line in source.lines():
            if line.strip():
                try:
                    values.append(json.loads(line))
                except (json.JSONDecodeError, RecursionError):
                    unparsable += 1  # kept as a record with its parse error
        return count_json_records(values) + unparsable
    if fmt == "parquet":
        plain = source.member is None and not source.is_gzip
        return pq.ParquetFile(source.path if plain else io.BytesIO(source.read_bytes())).metadata.num_rows
    return None


def read_dump(
    source: DumpSource, fmt: str, csv_columns: dict[str, str] | None = None, chunk_rows: int = 50_000
) -> Iterator[pl.DataFrame]:
    """Stream a dump as raw_mentions frames of at most `chunk_rows` records."""
    base = {"dump_file": source.name, "dump_key": source.key, "source_format": fmt}
    batch: list[dict] = []
    for index, record in enumerate(_records(source, fmt, csv_columns or {})):
        record.update(base, record_index=index, record_id=f"{source.key}:{index}")
        batch.append(record)
        if len(batch) >= chunk_rows:
            yield records_frame(batch)
            batch = []
    if batch:
        yield records_frame(batch)
