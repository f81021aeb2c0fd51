"""The mention dataset: the dumps' partitions published as one table each, plus the accounting.

A mention can arrive in two dumps (the same tweet exported twice): the first dump (by file name) keeps it and the
later copy becomes a `cross_dump` duplicate, so `mention_id` is unique in the published table and, per dump, raw
records = kept + duplicates + quarantined still holds. `publish_dataset` is pure (Polars in, Polars out); the
`mention_dataset` asset (`assets/dataset.py`) reads the partitions, calls it and writes the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from trustpulse.tables import ACCOUNTING_SCHEMA, DUPLICATE_SCHEMA, MANIFEST_SCHEMA

# the tables `mention_dataset` publishes from the dumps' partitions, in the order it writes them
PUBLISHED_TABLES = ("raw_mentions", "mentions", "quarantine", "duplicates", "ingest_accounting")


def dedupe_across_dumps(mentions: pl.DataFrame, duplicates: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keep the first copy of each mention_id (dump file, then record order); the rest are duplicates."""
    ordered = mentions.with_columns(
        pl.col("record_id").str.extract(r":(\d+)$").cast(pl.Int64).alias("_record_index")
    ).sort("dump_file", "_record_index")
    first = ordered.select(pl.col("mention_id").is_first_distinct()).to_series()
    repeats = ordered.filter(~first)
    moved = repeats.select(
        "record_id",
        "dump_file",
        "dump_key",
        pl.col("mention_id").alias("duplicate_of"),
        pl.lit("cross_dump").alias("rule"),
        pl.lit(100.0).alias("similarity"),
    )
    return (
        ordered.filter(first).drop("_record_index"),
        pl.concat([duplicates.cast(DUPLICATE_SCHEMA), moved.cast(DUPLICATE_SCHEMA)]),
    )


def read_records_of(manifest: pl.DataFrame) -> pl.DataFrame:
    """The manifests with `read_records` filled in: dumps ingested before file counts wrote `raw_records`, what
    the reader read, which is all we know of them."""
    if "raw_records" in manifest.columns:
        return manifest.with_columns(read_records=pl.coalesce("read_records", "raw_records"))
    return manifest


def accounting_table(
    manifest: pl.DataFrame, mentions: pl.DataFrame, quarantine: pl.DataFrame, duplicates: pl.DataFrame
) -> pl.DataFrame:
    """Per dump (`manifest`): what the file holds and where each record went. `raw_records` is the file's own
    count of its records where the format has one (`readers.count_file_records`), so a record the reader
    skipped or merged is `unread` and the dump is not balanced."""
    per_dump = manifest.select(
        "dump_file", "dump_key", "source_format", pl.coalesce("file_records", "read_records").alias("raw_records")
    )
    for name, table in (("kept", mentions), ("duplicates", duplicates), ("quarantined", quarantine)):
        counts = table.group_by("dump_key").agg(pl.len().cast(pl.Int64).alias(name))
        per_dump = per_dump.join(counts, on="dump_key", how="left").with_columns(pl.col(name).fill_null(0))
    return (
        per_dump.with_columns(
            unread=pl.col("raw_records") - pl.col("kept") - pl.col("duplicates") - pl.col("quarantined")
        )
        .with_columns(balanced=pl.col("unread") == 0)
        .select(list(ACCOUNTING_SCHEMA))
        .sort("dump_file")
        .cast(ACCOUNTING_SCHEMA)
    )


@dataclass(frozen=True)
class MentionDataset:
    """The published mention tables of a set of dumps."""

    raw: pl.DataFrame
    mentions: pl.DataFrame
    quarantine: pl.DataFrame
    duplicates: pl.DataFrame
    accounting: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """Table name -> frame, in `PUBLISHED_TABLES` order."""
        frames = (self.raw, self.mentions, self.quarantine, self.duplicates, self.accounting)
        return dict(zip(PUBLISHED_TABLES, frames, strict=True))

    def unbalanced_note(self) -> str | None:
        """'records in the file but not read: dump (n), ...', or None when every dump balances."""
        unbalanced = self.accounting.filter(~pl.col("balanced"))
        if not unbalanced.height:
            return None
        return "records in the file but not read: " + ", ".join(
            f"{r['dump_file']} ({r['unread']})" for r in unbalanced.iter_rows(named=True)
        )


def publish_dataset(
    raw: pl.DataFrame,
    mentions: pl.DataFrame,
    quarantine: pl.DataFrame,
    duplicates: pl.DataFrame,
    manifest: pl.DataFrame,
) -> MentionDataset:
    """The dumps' partitions (concatenated) as the published tables: mentions deduplicated across dumps, and
    the accounting of every dump in `manifest`. An unbalanced dump is published all the same: the
    `accounting_balanced` check fails and names it."""
    kept, duplicates = dedupe_across_dumps(mentions, duplicates)
    accounting = accounting_table(read_records_of(manifest), kept, quarantine, duplicates)
    return MentionDataset(raw=raw, mentions=kept, quarantine=quarantine, duplicates=duplicates, accounting=accounting)


def raw_records_unlike_manifests(raw_records: int, manifest: pl.DataFrame) -> str | None:
    """What is wrong when the published raw_mentions does not hold the records the dumps' manifests say their
    readers read, or None when it does."""
    read = int(read_records_of(manifest).cast({"read_records": pl.Int64})["read_records"].sum())
    if read == raw_records:
        return None
    return f"raw_mentions holds {raw_records} records, the dump manifests {read}"


def dump_manifest(
    dump_file: str, dump_key: str, source_format: str, read_records: int, file_records: int | None, notes: list[str]
) -> pl.DataFrame:
    """The one-row manifest of an ingested dump (also of a dump with no records): what the accounting starts from."""
    row = {
        "dump_file": dump_file,
        "dump_key": dump_key,
        "source_format": source_format,
        "read_records": read_records,
        "file_records": file_records,
        "reader_notes": notes,
    }
    return pl.DataFrame([row], schema=MANIFEST_SCHEMA)
