"""Stage `mention_dataset`: the dumps' partitions published as one table each, plus the accounting.

A mention can arrive in two dumps (the same tweet exported twice): the first dump (by file name) keeps
it and the later copy becomes a `cross_dump` duplicate, so `mention_id` is unique in the published table
and, per dump, raw records = kept + duplicates + quarantined still holds.
"""

import dagster as dg
import polars as pl

from assets.catalog import catalog_metadata
from assets.ingest import DUMPS, raw_mentions
from assets.metadata import table_metadata
from trustpulse.catalog import text_first
from trustpulse.landing import SIGNATURE_METADATA, dumps_signature
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import dump_is_complete, read_partitions, table_path, write_parquet_atomic
from trustpulse.tables import (
    ACCOUNTING_SCHEMA,
    DUPLICATE_SCHEMA,
    MANIFEST_SCHEMA,
    MENTION_SCHEMA,
    QUARANTINE_SCHEMA,
    RAW_SCHEMA,
)


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


@dg.asset(
    deps=[raw_mentions, dg.AssetKey("mentions"), dg.AssetKey("quarantine"), dg.AssetKey("duplicates")],
    group_name="ingest",
    kinds={"polars", "parquet"},
)
def mention_dataset(
    context: dg.AssetExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]
) -> dg.MaterializeResult:
    """warehouse/{raw_mentions,mentions,quarantine,duplicates,ingest_accounting}.parquet for the dumps
    currently registered (one partition each)."""
    wh = settings.warehouse_dir
    registered = context.instance.get_dynamic_partitions(DUMPS.name)
    keys = [k for k in registered if dump_is_complete(wh, k)]  # a dump whose ingest was cut off waits
    raw = read_partitions(wh, "raw_mentions", keys, RAW_SCHEMA)
    mentions, duplicates = dedupe_across_dumps(
        read_partitions(wh, "mentions", keys, MENTION_SCHEMA),
        read_partitions(wh, "duplicates", keys, DUPLICATE_SCHEMA),
    )
    quarantine = read_partitions(wh, "quarantine", keys, QUARANTINE_SCHEMA)
    manifest = read_partitions(wh, "dump_manifest", keys, MANIFEST_SCHEMA)
    if "raw_records" in manifest.columns:  # dumps ingested before file counts: what the reader read is all we know
        manifest = manifest.with_columns(read_records=pl.coalesce("read_records", "raw_records"))
    accounting = accounting_table(manifest, mentions, quarantine, duplicates)
    if manifest["read_records"].sum() != raw.height:
        raise RuntimeError(
            f"raw_mentions holds {raw.height} records, the dump manifests {manifest['read_records'].sum()}"
        )
    unbalanced = accounting.filter(~pl.col("balanced"))
    if unbalanced.height:  # published all the same: the accounting check fails and names the dumps
        context.log.error(
            "records in the file but not read: "
            + ", ".join(f"{r['dump_file']} ({r['unread']})" for r in unbalanced.iter_rows(named=True))
        )
    for name, table in (
        ("raw_mentions", raw),
        ("mentions", mentions),
        ("quarantine", quarantine),
        ("duplicates", duplicates),
        ("ingest_accounting", accounting),
    ):
        write_parquet_atomic(table, table_path(wh, name))
    context.log.info(
        f"published {mentions.height:,} mentions from {len(keys)} dump(s): {raw.height:,} raw records, "
        f"{duplicates.height:,} duplicates, {quarantine.height:,} quarantined; tables written: raw_mentions, "
        "mentions, quarantine, duplicates, ingest_accounting"
    )
    missing = sorted(set(registered) - set(keys))
    if missing:
        context.log.warning(f"dumps registered but not ingested (failed or pending): {missing}")
    return dg.MaterializeResult(
        metadata=table_metadata(
            text_first(mentions),
            table_path(wh, "mentions"),
            **catalog_metadata(mentions),
            **{SIGNATURE_METADATA: dumps_signature(keys)},
            dumps=accounting.height,
            raw_records=int(accounting["raw_records"].sum()),
            kept=mentions.height,
            duplicates=duplicates.height,
            quarantined=quarantine.height,
            dumps_not_ingested=dg.MetadataValue.json(missing),
            accounting=dg.MetadataValue.md(
                "\n".join(
                    ["| dump | raw | kept | duplicates | quarantined | unread |", "|---|---|---|---|---|---|"]
                    + [
                        f"| {r['dump_file']} | {r['raw_records']} | {r['kept']} | {r['duplicates']} | "
                        f"{r['quarantined']} | {r['unread']} |"
                        for r in accounting.iter_rows(named=True)
                    ]
                )
            ),
        )
    )
