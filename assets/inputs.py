"""How an asset reads its inputs: only what an upstream asset it declares produced, and a missing input stops it
with a `dg.Failure` that names the table and the asset to materialise.

Lineage follows from the reads: every helper here first calls `check_declared(context, upstream)`, which fails
when the running asset does not declare `upstream` among its deps, so an asset cannot read a table without the
dependency showing in the asset graph (tests/test_pipeline.py records these calls and holds every asset's deps to
exactly what it read).
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg
import polars as pl

from trustpulse.report.render import StagedReport, read_staged
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import (
    StorePath,
    partition_path,
    published_table_paths,
    read_parquet,
    read_partitions,
    table_path,
)
from trustpulse.tables import TABLES
from trustpulse.topics import SavedTopics, load_topics, model_dir

TOPIC_MODEL_ASSET = "topic_model"  # also saves the model under DATA_ROOT/models/topics
REPORT_ASSET = "executive_report"  # stages the report under DATA_ROOT/reports/staging
# per-dump partition table -> the asset that writes it (`dump_manifest` is written by `clean_mentions`, last)
PARTITION_PRODUCERS: dict[str, str] = {
    "raw_mentions": "raw_mentions",
    "mentions": "mentions",
    "quarantine": "quarantine",
    "duplicates": "duplicates",
    "dump_manifest": "mentions",
}


class UndeclaredInputError(Exception):
    """An asset read what an asset it does not declare as a dependency produced: a bug in the asset."""


def declared_upstream(context: dg.AssetExecutionContext) -> set[dg.AssetKey]:
    """The upstream asset keys the running asset declares (for a multi-asset: of the keys being materialised)."""
    deps = context.assets_def.asset_deps
    return {upstream for key in context.selected_asset_keys for upstream in deps.get(key, ())}


def check_declared(context: dg.AssetExecutionContext, upstream: str) -> None:
    """Fail unless the running asset declares `upstream` as a dependency."""
    if dg.AssetKey(upstream) not in declared_upstream(context):
        keys = ", ".join(sorted(k.to_user_string() for k in context.selected_asset_keys))
        raise UndeclaredInputError(f"{keys} reads what `{upstream}` produces but does not declare it in deps")


def producer_of(table: str) -> str:
    """The asset that publishes `warehouse/<table>.parquet`."""
    producer = TABLES[table].asset
    if producer is None:
        raise ValueError(f"{table} is written per dump only, never published")
    return producer


def missing_input(what: str, path: StorePath, upstream: str) -> dg.Failure:
    return dg.Failure(description=f"no {what} ({path}): materialise `{upstream}` first", allow_retries=False)


def published_table_path(context: dg.AssetExecutionContext, settings: TrustpulseSettings, table: str) -> StorePath:
    """The path of a published table the running asset reads (its producer a declared dependency)."""
    check_declared(context, producer_of(table))
    return table_path(settings.warehouse_dir, table)


def read_input(
    context: dg.AssetExecutionContext, settings: TrustpulseSettings, table: str, columns: list[str] | None = None
) -> pl.DataFrame:
    """A published table the running asset needs; a `dg.Failure` naming the asset to materialise when absent."""
    path = published_table_path(context, settings, table)
    if not path.exists():
        raise missing_input(f"{table} table", path, producer_of(table))
    return read_parquet(path, columns=columns)


def read_optional_input(
    context: dg.AssetExecutionContext, settings: TrustpulseSettings, table: str
) -> pl.DataFrame | None:
    """A published table the running asset uses where it exists (None until its producer was materialised)."""
    path = published_table_path(context, settings, table)
    return read_parquet(path) if path.exists() else None


def read_dump_input(context: dg.AssetExecutionContext, settings: TrustpulseSettings, table: str) -> pl.DataFrame:
    """The running partition's own partition of a per-dump table."""
    upstream = PARTITION_PRODUCERS[table]
    check_declared(context, upstream)
    path = partition_path(settings.warehouse_dir, table, context.partition_key)
    if not path.exists():
        raise missing_input(f"{table} partition {context.partition_key!r}", path, upstream)
    return read_parquet(path)


def read_dumps_input(
    context: dg.AssetExecutionContext,
    settings: TrustpulseSettings,
    table: str,
    dump_keys: Iterable[str],
    schema: dict[str, pl.DataType],
) -> pl.DataFrame:
    """The given dumps' partitions of a per-dump table, concatenated (`trustpulse.storage.read_partitions`)."""
    check_declared(context, PARTITION_PRODUCERS[table])
    return read_partitions(settings.warehouse_dir, table, dump_keys, schema)


def published_tables(context: dg.AssetExecutionContext, settings: TrustpulseSettings) -> dict[str, StorePath]:
    """Every parquet table under warehouse/, by name; the producer of each contract table a declared dependency."""
    tables = published_table_paths(settings.warehouse_dir)
    for name in tables:
        if name in TABLES and TABLES[name].asset is not None:
            check_declared(context, producer_of(name))
    return tables


def read_saved_topics(context: dg.AssetExecutionContext, settings: TrustpulseSettings) -> SavedTopics:
    """The topic model `topic_model` saved under DATA_ROOT/models/topics."""
    check_declared(context, TOPIC_MODEL_ASSET)
    directory = model_dir(settings.root)
    saved = load_topics(directory)
    if saved is None:
        raise missing_input("saved topic model", directory, TOPIC_MODEL_ASSET)
    return saved


def read_staged_report(context: dg.AssetExecutionContext, settings: TrustpulseSettings) -> StagedReport:
    """The report `executive_report` staged under DATA_ROOT/reports/staging."""
    check_declared(context, REPORT_ASSET)
    return read_staged(settings.root)
