"""Jobs: ingest one dump (a partition), and publish (tables + DuckDB views)."""

from __future__ import annotations

import dagster as dg

from assets.dataset import mention_dataset
from assets.ingest import clean_mentions, raw_mentions
from assets.warehouse import warehouse

ingest_dump_job = dg.define_asset_job(
    "ingest_dump",
    selection=dg.AssetSelection.assets(raw_mentions, clean_mentions),
    description="Read and clean one dump (one partition of the `dumps` dynamic partitions).",
)
publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.assets(mention_dataset, warehouse),
    description="Publish the ingested dumps as warehouse tables and rebuild warehouse.duckdb.",
)
