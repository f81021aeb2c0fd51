"""Ingest assets, one partition per dump: `raw_mentions`, then `mentions` / `quarantine` / `duplicates`.

Each asset finds its dump, calls one core function (`trustpulse.ingest`), writes its parquet partition through the
data root (see `trustpulse.storage`) and reports metadata; downstream assets declare `deps` and read through
`assets.inputs`.
"""

import time

import dagster as dg
import polars as pl

from assets.catalog import catalog_metadata
from assets.inputs import read_dump_input
from assets.metadata import table_metadata
from trustpulse.brands import load_brandbook
from trustpulse.catalog import text_first
from trustpulse.checks import records_unaccounted
from trustpulse.ingest import clean_dump_partition, limited, read_raw_mentions
from trustpulse.landing import DumpNotFoundError, dump_for_key
from trustpulse.readers import DumpSource
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import forget_dump_outputs, partition_path, write_parquet_atomic

DUMPS = dg.DynamicPartitionsDefinition(name="dumps")
INGEST_GROUP = "ingest"


def landed_dump(settings: TrustpulseSettings, key: str) -> DumpSource:
    """The dump of partition `key` in landing/, with the configured expansion limits."""
    try:
        return limited(dump_for_key(settings.landing_dir, key), settings)
    except DumpNotFoundError as exc:  # a partition added by hand in the UI names no file
        raise dg.Failure(
            description=f"no dump {key!r} in landing/: drop the file into {settings.landing_dir}/ "
            "(the landing sensor adds its partition and ingests it; partitions are not added by hand)",
            allow_retries=False,
        ) from exc


@dg.asset(partitions_def=DUMPS, group_name=INGEST_GROUP, kinds={"polars", "parquet"})
def raw_mentions(
    context: dg.AssetExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]
) -> dg.MaterializeResult:
    """Every record of one dump, untouched, with its file, line span and detected format.

    One partition per file in DATA_ROOT/landing/, added by `landing_sensor`: to ingest a new dump, drop the
    file into landing/ (partitions added by hand name no file and fail)."""
    started = time.perf_counter()
    source = landed_dump(settings, context.partition_key)
    size = source.path.stat().st_size
    dump = read_raw_mentions(
        source,
        settings,
        on_format=lambda fmt: context.log.info(f"{source.name}: reading as {fmt} ({size:,} bytes on disk)"),
        on_chunk=lambda n: context.log.info(f"{source.name}: {n:,} records read"),
    )
    raw = dump.records
    path = write_parquet_atomic(raw, partition_path(settings.warehouse_dir, "raw_mentions", source.key))
    context.log.info(f"{source.name}: {raw.height:,} records read as {dump.source_format}; table written: raw_mentions")
    return dg.MaterializeResult(
        metadata=table_metadata(
            text_first(raw.drop("raw")),
            path,
            **catalog_metadata(raw),
            dump_file=source.name,
            sha256=source.sha256,
            source_format=dump.source_format,
            encoding=source.encoding,
            parse_errors=raw.filter(pl.col("parse_error").is_not_null()).height,
            seconds=round(time.perf_counter() - started, 3),
        )
    )


RECORDS_ACCOUNTED = "dump_records_accounted"
CLEANED_DESCRIPTIONS = {  # one asset per table of `trustpulse.ingest.CLEANED_TABLES`
    "mentions": "Cleaned mentions of one dump: the mention contract.",
    "quarantine": "Records that could not be used, with the raw record and the reason.",
    "duplicates": "Records collapsed into a kept mention, with the rule that matched.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name, deps=[raw_mentions], group_name=INGEST_GROUP, kinds={"polars", "parquet"}, description=description
        )
        for name, description in CLEANED_DESCRIPTIONS.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            RECORDS_ACCOUNTED,
            asset="mentions",
            blocking=True,
            description="Every raw record of the dump ends in exactly one of mentions, duplicates and quarantine; "
            "blocking: a dump that fails it is not published downstream in the run.",
        )
    ],
    partitions_def=DUMPS,
)
def clean_mentions(context: dg.AssetExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]):
    """Clean one dump: boilerplate out, duplicates collapsed, threads, owners, brands, language, PII.
    The `dump_records_accounted` check (blocking) holds raw records = kept + duplicates + quarantined."""
    started = time.perf_counter()
    key = context.partition_key
    forget_dump_outputs(settings.warehouse_dir, key)
    raw = read_dump_input(context, settings, "raw_mentions")
    partition = clean_dump_partition(
        raw,
        landed_dump(settings, key),
        settings,
        load_brandbook(settings.brands_path()),
        settings.resolved_pseudonym_key(),
    )
    counts = partition.cleaned.accounting(raw.height)
    context.log.info(
        f"{key}: {counts['raw_records']:,} raw records = {counts['kept']:,} kept + {counts['duplicates']:,} "
        f"duplicates + {counts['quarantined']:,} quarantined"
    )
    tables = partition.tables()
    paths = {
        name: write_parquet_atomic(t, partition_path(settings.warehouse_dir, name, key)) for name, t in tables.items()
    }
    problem = records_unaccounted(counts["raw_records"], counts["kept"], counts["duplicates"], counts["quarantined"])
    # the manifest goes last: its presence marks the dump's partition as complete (see storage.dump_is_complete),
    # so a dump whose records are not all accounted for is never published
    if problem is None:
        write_parquet_atomic(partition.manifest, partition_path(settings.warehouse_dir, "dump_manifest", key))
    seconds = round(time.perf_counter() - started, 3)
    context.log.info(f"{key}: cleaned in {seconds:.1f} s; tables written: {', '.join(tables)}, dump_manifest")
    for name, table in tables.items():
        yield dg.MaterializeResult(
            asset_key=name,
            metadata=table_metadata(
                text_first(table), paths[name], **catalog_metadata(table), **counts, seconds=seconds
            ),
        )
    yield dg.AssetCheckResult(
        check_name=RECORDS_ACCOUNTED,
        asset_key="mentions",
        passed=problem is None,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{key}: {problem}" if problem else None,
        metadata=counts,
    )
