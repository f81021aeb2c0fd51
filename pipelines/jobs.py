"""Jobs: ingest one dump (a partition: read, clean, and its per-mention enrichment, so that a new dump costs work
on that dump only); then publish everything downstream (global steps over the dumps' partitions)."""

from __future__ import annotations

import dagster as dg

from assets.enrichment import ENRICHMENT_ASSETS
from assets.ingest import clean_mentions, raw_mentions
from pipelines.executor import run_executor

INGEST = dg.AssetSelection.assets(raw_mentions, clean_mentions, *ENRICHMENT_ASSETS)

ingest_dump_job = dg.define_asset_job(
    "ingest_dump",
    selection=INGEST,
    description="Read and clean one dump (one partition of the `dumps` dynamic partitions), and score its sentiment.",
)
publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.all() - INGEST,
    description="From the ingested dumps' partitions: mention tables, sentiment, topics, scores, warehouse.duckdb.",
    # one process for the whole run: each model resource loads once, not once per step (unless
    # TRUSTPULSE_EXECUTOR=celery, pipelines/executor.py)
    executor_def=run_executor(),
)
