"""The `raw_mentions` schema every reader produces, and the error for unreadable dumps."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

# Formats a dump can be read as; `format_overrides` in the settings map file-name globs to one of these.
SOURCE_FORMATS = ("blog_text", "html", "csv", "twcs_csv", "xlsx", "jsonl", "json", "parquet")

RAW_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),  # "<dump key>:<record index>", unique across dumps
    "dump_file": pl.String(),
    "dump_key": pl.String(),  # partition key: file name + content hash
    "source_format": pl.String(),
    "record_index": pl.Int64(),  # 0-based order of the record in the dump
    "line_start": pl.Int64(),  # 1-based first line (or array index + 1 for JSON arrays)
    "line_end": pl.Int64(),
    "raw": pl.String(),  # the record exactly as it was in the dump (decoded)
    "kind": pl.String(),  # post | comment | message | boilerplate
    "native_id": pl.String(),
    "thread_native_id": pl.String(),
    "parent_native_id": pl.String(),
    "author_handle": pl.String(),
    "author_name": pl.String(),
    "created_at_raw": pl.String(),
    "text": pl.String(),
    "platform": pl.String(),
    "url": pl.String(),
    "reply_native_ids": pl.String(),  # ids of the replies the source says this record got (comma-separated)
    "owner_hint": pl.Boolean(),  # the source itself says who owes answers (twcs inbound == False)
    "duplicate_of_index": pl.Int64(),  # reader-detected repeat (blog dumps print comments twice)
    "parse_error": pl.String(),  # set when the record could not be parsed; it is then quarantined
    # set when the record is in the file but holds no mention (a Reddit `more` stub, a [deleted] body):
    # it is quarantined with exactly this reason
    "skip_reason": pl.String(),
    # something about the record a person should know but that does not stop it being kept
    # (an id Excel turned into scientific notation, a page with no recognisable comment structure)
    "reader_note": pl.String(),
}

RAW_COLUMNS = tuple(RAW_SCHEMA)


class DumpParseError(ValueError):
    """A dump that cannot be parsed at all. The message names the file and the position."""

    def __init__(self, file: str, position: str, reason: str) -> None:
        self.file, self.position, self.reason = file, position, reason
        super().__init__(f"{file}: {position}: {reason}" if position else f"{file}: {reason}")


def records_frame(records: Iterable[dict]) -> pl.DataFrame:
    """Build a raw_mentions frame from record dicts; absent fields are null."""
    rows = [{col: rec.get(col) for col in RAW_COLUMNS} for rec in records]
    return pl.DataFrame(rows, schema=RAW_SCHEMA, orient="row") if rows else pl.DataFrame(schema=RAW_SCHEMA)
