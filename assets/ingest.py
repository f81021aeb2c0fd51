"""Ingest assets, one partition per dump: `raw_mentions`, then `mentions` / `quarantine` / `duplicates`.

Each asset writes its own parquet partition through the data root (see `trustpulse.storage`) and
reports metadata; downstream assets declare `deps` and read the files.
"""

import time
from dataclasses import replace

import dagster as dg
import polars as pl

from assets.catalog import catalog_metadata
from assets.metadata import table_metadata
from trustpulse.brands import load_brandbook
from trustpulse.catalog import text_first
from trustpulse.cleaning.dump import clean_dump
from trustpulse.cleaning.text import mask_pii, mask_pii_in_raw
from trustpulse.landing import DumpNotFoundError, dump_for_key
from trustpulse.readers import count_file_records, detect_format, read_dump
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import partition_path, write_parquet_atomic
from trustpulse.tables import DUPLICATE_SCHEMA, MANIFEST_SCHEMA, MENTION_SCHEMA, QUARANTINE_SCHEMA, RAW_SCHEMA

DUMPS = dg.DynamicPartitionsDefinition(name="dumps")


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


INGEST_GROUP = "ingest"


@dg.asset(partitions_def=DUMPS, group_name=INGEST_GROUP, kinds={"polars", "parquet"})
def raw_mentions(
    context: dg.AssetExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]
) -> dg.MaterializeResult:
    """Every record of one dump, untouched, with its file, line span and detected format.

    One partition per file in DATA_ROOT/landing/, added by `landing_sensor`: to ingest a new dump, drop the
    file into landing/ (partitions added by hand name no file and fail)."""
    started = time.perf_counter()
    try:
        dump = dump_for_key(settings.landing_dir, context.partition_key)
    except DumpNotFoundError as exc:  # a partition added by hand in the UI names no file
        raise dg.Failure(
            description=f"no dump {context.partition_key!r} in landing/: drop the file into {settings.landing_dir}/ "
            "(the landing sensor adds its partition and ingests it; partitions are not added by hand)",
            allow_retries=False,
        ) from exc
    source = replace(dump, limits=settings.expansion_limits())
    columns = settings.column_map_for(source.name)
    fmt = detect_format(source, settings.format_overrides, columns)
    context.log.info(f"{source.name}: reading as {fmt} ({source.path.stat().st_size:,} bytes on disk)")
    chunks = []
    for chunk in read_dump(source, fmt, columns, settings.chunk_rows):
        chunks.append(chunk)
        context.log.info(f"{source.name}: {sum(c.height for c in chunks):,} records read")
    raw = mask_raw_pii(pl.concat(chunks) if chunks else pl.DataFrame(schema=RAW_SCHEMA), settings.phone_region)
    path = write_parquet_atomic(raw, partition_path(settings.warehouse_dir, "raw_mentions", source.key))
    context.log.info(f"{source.name}: {raw.height:,} records read as {fmt}; table written: raw_mentions")
    return dg.MaterializeResult(
        metadata=table_metadata(
            text_first(raw.drop("raw")),
            path,
            **catalog_metadata(raw),
            dump_file=source.name,
            sha256=source.sha256,
            source_format=fmt,
            encoding=source.encoding,
            parse_errors=raw.filter(pl.col("parse_error").is_not_null()).height,
            seconds=round(time.perf_counter() - started, 3),
        )
    )


CLEANED_TABLES = {
    "mentions": "Cleaned mentions of one dump: the mention contract.",
    "quarantine": "Records that could not be used, with the raw record and the reason.",
    "duplicates": "Records collapsed into a kept mention, with the rule that matched.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name, deps=[raw_mentions], group_name=INGEST_GROUP, kinds={"polars", "parquet"}, description=description
        )
        for name, description in CLEANED_TABLES.items()
    ],
    partitions_def=DUMPS,
)
def clean_mentions(context: dg.AssetExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]):
    """Clean one dump: boilerplate out, duplicates collapsed, threads, owners, brands, language, PII."""
    started = time.perf_counter()
    key = context.partition_key
    raw = pl.read_parquet(partition_path(settings.warehouse_dir, "raw_mentions", key))
    cleaned = clean_dump(raw, settings, load_brandbook(settings.brands_path()), settings.resolved_pseudonym_key())
    counts = cleaned.accounting(raw.height)
    if counts["raw_records"] != counts["kept"] + counts["duplicates"] + counts["quarantined"]:
        raise RuntimeError(f"{key}: accounting does not add up: {counts}")
    context.log.info(
        f"{key}: {counts['raw_records']:,} raw records = {counts['kept']:,} kept + {counts['duplicates']:,} "
        f"duplicates + {counts['quarantined']:,} quarantined"
    )
    source = replace(dump_for_key(settings.landing_dir, key), limits=settings.expansion_limits())
    fmt = (
        raw["source_format"][0]
        if raw.height
        else detect_format(source, settings.format_overrides, settings.column_map_for(source.name))
    )
    tables = {
        "mentions": cleaned.mentions.cast(MENTION_SCHEMA),
        "quarantine": cleaned.quarantine.cast(QUARANTINE_SCHEMA),
        "duplicates": cleaned.duplicates.cast(DUPLICATE_SCHEMA),
    }
    paths = {
        name: write_parquet_atomic(t, partition_path(settings.warehouse_dir, name, key)) for name, t in tables.items()
    }
    # the manifest goes last: its presence marks the dump's partition as complete (see storage.dump_is_complete)
    notes = raw.filter(pl.col("reader_note").is_not_null())["reader_note"].unique(maintain_order=True).to_list()
    notes += list(cleaned.notes)
    manifest = pl.DataFrame(
        [
            {
                "dump_file": source.name,
                "dump_key": key,
                "source_format": fmt,
                "read_records": raw.height,
                "file_records": count_file_records(source, fmt, settings.column_map_for(source.name)),
                "reader_notes": notes,
            }
        ],
        schema=MANIFEST_SCHEMA,
    )
    write_parquet_atomic(manifest, partition_path(settings.warehouse_dir, "dump_manifest", key))
    seconds = round(time.perf_counter() - started, 3)
    context.log.info(f"{key}: cleaned in {seconds:.1f} s; tables written: {', '.join(tables)}, dump_manifest")
    for name, table in tables.items():
        yield dg.MaterializeResult(
            asset_key=name,
            metadata=table_metadata(
                text_first(table), paths[name], **catalog_metadata(table), **counts, seconds=seconds
            ),
        )
