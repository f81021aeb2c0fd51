"""Keep the `dumps` dynamic partitions in step with the files in landing/."""

from __future__ import annotations

import dagster as dg

from assets.ingest import DUMPS
from trustpulse.landing import SIGNATURE_METADATA, PartitionDiff, diff_partitions, landed_dumps
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import PARTITIONED_TABLES, partition_path

DUMPS_TAG = "trustpulse/dumps"  # run tag: the dump-set signature a publish run was computed from
DATASET = dg.AssetKey("mention_dataset")
PUBLISHED = dg.AssetKey("published_report")


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(key, limit=1).records
    return records[0] if records else None


def last_published_signature(instance: dg.DagsterInstance) -> str | None:
    """The dump-set signature of the mention tables behind the last published report, whoever launched the
    run (the CLI, `publish` from the Launchpad, the schedule, automation); None when the latest mention
    tables were not published (yet)."""
    dataset, published = _latest(instance, DATASET), _latest(instance, PUBLISHED)
    if dataset is None or published is None or published.storage_id < dataset.storage_id:
        return None
    materialization = dataset.asset_materialization
    value = materialization.metadata.get(SIGNATURE_METADATA) if materialization else None
    return str(value.value) if value is not None else None


def remove_partition_files(settings: TrustpulseSettings, keys: list[str]) -> None:
    """Delete the parquet partitions (per-dump tables and per-dump enrichment) of dumps that are being dropped."""
    for key in keys:
        for table in PARTITIONED_TABLES:
            partition_path(settings.warehouse_dir, table, key).unlink(missing_ok=True)


def sync_dump_partitions(instance: dg.DagsterInstance, settings: TrustpulseSettings) -> PartitionDiff:
    """Register a partition per landed dump (name + content hash); drop partitions whose file is gone
    or changed, together with their parquet partitions."""
    diff = diff_partitions(landed_dumps(settings.landing_dir), instance.get_dynamic_partitions(DUMPS.name))
    if diff.added:
        instance.add_dynamic_partitions(DUMPS.name, diff.added)
    for key in diff.stale:
        instance.delete_dynamic_partition(DUMPS.name, key)
    remove_partition_files(settings, diff.stale)
    return diff
