"""Keep the `dumps` dynamic partitions in step with the files in landing/."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import dagster as dg

from assets.ingest import DUMPS
from trustpulse.landing import landed_dumps
from trustpulse.readers.source import DumpSource
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import DUMP_TABLES, partition_path

DUMPS_TAG = "trustpulse/dumps"  # run tag: the dump-set signature a publish run was computed from
SIGNATURE_METADATA = "dumps_signature"  # the same signature, on each mention_dataset materialisation
DATASET = dg.AssetKey("mention_dataset")
PUBLISHED = dg.AssetKey("published_report")


def dumps_signature(keys: list[str]) -> str:
    """One short hash naming a set of dump partitions (what a publish was computed from)."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]


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


@dataclass(frozen=True)
class DumpSync:
    current: list[DumpSource]
    added: list[str]
    removed: list[str]


def sync_dump_partitions(instance: dg.DagsterInstance, settings: TrustpulseSettings) -> DumpSync:
    """Register a partition per landed dump (name + content hash); drop partitions whose file is gone
    or changed, together with their parquet partitions."""
    current = landed_dumps(settings.landing_dir)
    wanted = {d.key for d in current}
    registered = set(instance.get_dynamic_partitions(DUMPS.name))
    added = sorted(wanted - registered)
    removed = sorted(registered - wanted)
    if added:
        instance.add_dynamic_partitions(DUMPS.name, added)
    for key in removed:
        instance.delete_dynamic_partition(DUMPS.name, key)
        for table in DUMP_TABLES:
            partition_path(settings.warehouse_dir, table, key).unlink(missing_ok=True)
    return DumpSync(current=current, added=added, removed=removed)
