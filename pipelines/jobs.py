"""Jobs: ingest one dump (a partition); then enrich, score and publish everything downstream."""

from __future__ import annotations

import dagster as dg

from assets.ingest import clean_mentions, raw_mentions
from pipelines.executor import run_executor

INGEST = dg.AssetSelection.assets(raw_mentions, clean_mentions)

ingest_dump_job = dg.define_asset_job(
    "ingest_dump",
    selection=INGEST,
    description="Read and clean one dump (one partition of the `dumps` dynamic partitions).",
)
publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.all() - INGEST,
    description="From the ingested dumps: mention tables, sentiment, scores, warehouse.duckdb.",
    # one process for the whole run: each model resource loads once, not once per step (unless
    # TRUSTPULSE_EXECUTOR=celery, pipelines/executor.py)
    executor_def=run_executor(),
)
