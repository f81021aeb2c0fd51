"""Building `raw_mentions` frames (schema: `trustpulse.tables.RAW_SCHEMA`), and the error for unreadable dumps."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from trustpulse.tables import RAW_SCHEMA

# Formats a dump can be read as; `format_overrides` in the settings map file-name globs to one of these.
SOURCE_FORMATS = ("blog_text", "html", "csv", "twcs_csv", "xlsx", "jsonl", "json", "parquet")

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
