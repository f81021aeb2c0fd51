"""Schemas of published warehouse tables that more than one stage reads or writes."""

from __future__ import annotations

import polars as pl

# ingest_accounting: per dump, where every raw record went
ACCOUNTING_SCHEMA: dict[str, pl.DataType] = {
    "dump_file": pl.String(),
    "dump_key": pl.String(),
    "source_format": pl.String(),
    "raw_records": pl.Int64(),  # what the file holds, counted from its structure (else what the reader read)
    "kept": pl.Int64(),
    "duplicates": pl.Int64(),
    "quarantined": pl.Int64(),
    "unread": pl.Int64(),  # raw_records - kept - duplicates - quarantined: records the reader missed
    "balanced": pl.Boolean(),
}
