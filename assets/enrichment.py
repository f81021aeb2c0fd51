"""Per-dump enrichment in each dump's ingest run: `dump_sentiment`, the dump's partition of `mention_sentiment`.
The published `mention_sentiment` and `mention_topics` are assembled from per-dump partitions
(`trustpulse.enrichment`); the helpers here read and write those partitions through `trustpulse.storage`.
(Topic embeddings are not encoded here: see `trustpulse.topics.stage`.)
"""

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets import inputs
from assets.catalog import catalog_metadata
from assets.ingest import DUMPS, INGEST_GROUP
from assets.inputs import read_dump_input
from assets.metadata import table_metadata
from trustpulse.progress import RateProgress, duration
from trustpulse.sentiment.mentions import sentiment_of_mentions
from trustpulse.settings import SentimentConfig, TrustpulseSettings
from trustpulse.storage import partition_path, read_partitions, write_parquet_atomic

DUMP_SENTIMENT_ASSET = "dump_sentiment"  # writes partitions/mention_sentiment/<dump key>.parquet


def read_enrichment_partitions(
    context: dg.AssetExecutionContext,
    settings: TrustpulseSettings,
    table: str,
    dump_keys: Iterable[str],
    producer: str | None,
) -> dict[str, pl.DataFrame]:
    """Dump key -> its partition of `table` (empty when there is none). `producer`: the upstream asset that writes
    them, a declared dependency; None for the running asset's own partitions (assignments it made earlier)."""
    if producer is not None:
        inputs.check_declared(context, producer)
    return {key: read_partitions(settings.warehouse_dir, table, [key]) for key in dump_keys}


def write_enrichment_partitions(
    settings: TrustpulseSettings, table: str, partitions: Mapping[str, pl.DataFrame]
) -> list[Path]:
    """Write each dump's (re)made partition of `table`."""
    return [
        write_parquet_atomic(partition, partition_path(settings.warehouse_dir, table, key))
        for key, partition in partitions.items()
    ]


@dg.asset(partitions_def=DUMPS, deps=["mentions"], group_name=INGEST_GROUP, kinds={"pytorch", "parquet"})
def dump_sentiment(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[TrustpulseSettings],
    sentiment: dg.ResourceParam[SentimentConfig],
) -> dg.MaterializeResult:
    """The sentiment of one dump's cleaned mentions (warehouse/partitions/mention_sentiment/<dump>.parquet):
    scored once, by the dump's ingest run; `mention_sentiment` publishes the rows of the published mentions."""
    started = time.perf_counter()
    key = context.partition_key
    result = sentiment_of_mentions(
        read_dump_input(context, settings, "mentions"),
        sentiment,
        settings.cache_dir,
        on_start=lambda n, model_id: context.log.info(f"{key}: {n:,} mentions to score with {model_id}"),
        on_progress=RateProgress(context.log.info, "sentiment: new texts scored"),
    )
    scored = result.table
    (path,) = write_enrichment_partitions(settings, "mention_sentiment", {key: scored})
    context.log.info(
        f"{key}: {result.labelled.height:,} mentions scored ({result.newly_scored:,} new texts through the model) "
        f"in {duration(time.perf_counter() - started)}"
    )
    return dg.MaterializeResult(metadata=sentiment_metadata(scored, path, result, started))


def sentiment_metadata(table: pl.DataFrame, path: Path, result: Any, started: float, **extra: Any) -> dict[str, Any]:
    """The metadata of a sentiment table (a dump's partition or the published table): the table, its catalog
    entry, the model, how many texts went through it, ``extra``, and the seconds since ``started``."""
    return table_metadata(
        table,
        path,
        **catalog_metadata(table),
        model_id=result.model_id,
        newly_scored=result.newly_scored,
        **extra,
        seconds=round(time.perf_counter() - started, 3),
    )


ENRICHMENT_ASSETS = [dump_sentiment]
