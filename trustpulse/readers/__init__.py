"""Readers: a dump file in, `raw_mentions` frames out (see `schema.RAW_SCHEMA`).

`detect_format` decides the format from the content (a `format_overrides` glob wins); `read_dump`
streams the records in chunks.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator

import polars as pl
import pyarrow.parquet as pq

from trustpulse.readers.blog_text import read_blog_text
from trustpulse.readers.csv_reader import is_twcs_header, read_csv, sniff_dialect
from trustpulse.readers.html_reader import read_html
from trustpulse.readers.json_reader import read_json_document, read_json_lines, records_from_object
from trustpulse.readers.schema import RAW_SCHEMA, DumpParseError, records_frame
from trustpulse.readers.source import SAMPLE_BYTES, DumpSource
from trustpulse.settings import SOURCE_FORMATS

__all__ = ["RAW_SCHEMA", "DumpParseError", "DumpSource", "detect_format", "read_dump"]

_HTML_TAG = re.compile(r"<(?:!doctype html|html|body|div|p|article|section|span|br|a)\b", re.IGNORECASE)


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
    sample = source.sample_text.lstrip()
    if sample.startswith(("{", "[")):
        # One JSON value per line (JSON lines, or one API response per line) versus one document.
        first_line, newline, rest = sample.partition("\n")
        if not newline and len(source.head) == SAMPLE_BYTES:  # the first line is longer than the sample
            first_line, rest = _first_line_and_more(source)
        try:
            first_is_complete = isinstance(json.loads(first_line), dict)
        except json.JSONDecodeError:
            first_is_complete = False
        except RecursionError:  # one line nested too deep: still one record per line
            first_is_complete = True
        return "jsonl" if first_is_complete and rest.strip() else "json"
    if _HTML_TAG.search(sample[:4096]) and sample.startswith("<"):
        return "html"
    first_line = sample.split("\n", 1)[0]
    dialect = sniff_dialect(sample)
    header = [h.strip().lower() for h in first_line.split(getattr(dialect, "delimiter", ","))]
    if is_twcs_header(header):
        return "twcs_csv"
    text_column = (csv_columns or {}).get("text", "text").lower()
    if len(header) >= 2 and text_column in header:
        return "csv"
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
    else:  # pragma: no cover - detect_format only returns known formats
        raise DumpParseError(source.name, "config", f"unknown format {fmt!r}")


def _parquet_records(source: DumpSource) -> Iterator[dict]:
    try:
        parquet = pq.ParquetFile(source.path)
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
