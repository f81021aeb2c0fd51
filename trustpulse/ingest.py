"""Ingest one dump: read its records (PII masked before anything is written), then clean them and describe the
dump in its manifest. Pure of Dagster: the `raw_mentions` and `clean_mentions` assets (`assets/ingest.py`) find
the dump, call these and write the partitions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import polars as pl

from trustpulse.brands import BrandBook
from trustpulse.cleaning.dump import CleanedDump, clean_dump
from trustpulse.cleaning.text import mask_pii, mask_pii_in_raw
from trustpulse.dataset import dump_manifest
from trustpulse.readers import DumpSource, count_file_records, detect_format, read_dump
from trustpulse.settings import TrustpulseSettings
from trustpulse.tables import DUPLICATE_SCHEMA, MENTION_SCHEMA, QUARANTINE_SCHEMA, RAW_SCHEMA

# the per-dump tables `clean_dump_partition` produces besides the manifest, in the order they are written
CLEANED_TABLES = ("mentions", "quarantine", "duplicates")


def mask_raw_pii(raw: pl.DataFrame, region: str) -> pl.DataFrame:
    """E-mail addresses and phone numbers never reach a parquet file: masked in `raw` and `text` (the
    untouched original stays in landing/, outside the warehouse)."""
    if raw.is_empty():
        return raw
    texts, raws = raw["text"].to_list(), raw["raw"].to_list()
    return raw.with_columns(
        raw=pl.Series([mask_pii_in_raw(r, t, region) for r, t in zip(raws, texts, strict=True)], dtype=pl.String),
        text=pl.Series([mask_pii(t, region) if t else t for t in texts], dtype=pl.String),
    )


def limited(dump: DumpSource, settings: TrustpulseSettings) -> DumpSource:
    """The dump with the configured limits on what an archive may expand to."""
    return replace(dump, limits=settings.expansion_limits())


def dump_format(source: DumpSource, settings: TrustpulseSettings) -> str:
    """The dump's format: the configured override, else detected."""
    return detect_format(source, settings.format_overrides, settings.column_map_for(source.name))


@dataclass(frozen=True)
class RawDump:
    """Every record of one dump (PII masked) and the format it was read as."""

    records: pl.DataFrame
    source_format: str


def read_raw_mentions(
    source: DumpSource,
    settings: TrustpulseSettings,
    on_format: Callable[[str], None] | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> RawDump:
    """Every record of the dump, in `settings.chunk_rows` chunks, with e-mail addresses and phone numbers masked;
    `on_format(format)` once the format is known, `on_chunk(records read so far)` after each chunk."""
    fmt = dump_format(source, settings)
    if on_format is not None:
        on_format(fmt)
    chunks: list[pl.DataFrame] = []
    for chunk in read_dump(source, fmt, settings.column_map_for(source.name), settings.chunk_rows):
        chunks.append(chunk)
        if on_chunk is not None:
            on_chunk(sum(c.height for c in chunks))
    raw = pl.concat(chunks) if chunks else pl.DataFrame(schema=RAW_SCHEMA)
    return RawDump(records=mask_raw_pii(raw, settings.phone_region), source_format=fmt)


@dataclass(frozen=True)
class CleanedPartition:
    """One dump's cleaned tables (to their contracts) and its manifest."""

    cleaned: CleanedDump
    manifest: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """`CLEANED_TABLES` name -> frame, cast to the contract (the manifest is written after them)."""
        return {
            "mentions": self.cleaned.mentions.cast(MENTION_SCHEMA),
            "quarantine": self.cleaned.quarantine.cast(QUARANTINE_SCHEMA),
            "duplicates": self.cleaned.duplicates.cast(DUPLICATE_SCHEMA),
        }


def clean_dump_partition(
    raw: pl.DataFrame,
    source: DumpSource,
    settings: TrustpulseSettings,
    book: BrandBook,
    pseudonym_key: bytes,
) -> CleanedPartition:
    """Clean one dump's raw records (`clean_dump`) and describe the dump: its format, the records read and the
    records the file holds by its own count, and the caveats of its reader and of its cleaning."""
    cleaned = clean_dump(raw, settings, book, pseudonym_key)
    fmt = raw["source_format"][0] if raw.height else dump_format(source, settings)
    notes = raw.filter(pl.col("reader_note").is_not_null())["reader_note"].unique(maintain_order=True).to_list()
    notes += list(cleaned.notes)
    manifest = dump_manifest(
        source.name,
        source.key,
        fmt,
        read_records=raw.height,
        file_records=count_file_records(source, fmt, settings.column_map_for(source.name)),
        notes=notes,
    )
    return CleanedPartition(cleaned=cleaned, manifest=manifest)
