"""Stage `mention_sentiment`: the sentiment of every published mention, assembled from the dumps' partitions that
their ingest runs scored (`assets/enrichment.py:dump_sentiment`; `trustpulse.sentiment.mentions`, which explains
the caches and the languages scored)."""

import time

import dagster as dg

from assets.dataset import mention_dataset
from assets.enrichment import (
    DUMP_SENTIMENT_ASSET,
    dump_sentiment,
    read_enrichment_partitions,
    sentiment_metadata,
    write_enrichment_partitions,
)
from assets.inputs import read_input
from trustpulse.enrichment import published_dump_keys
from trustpulse.progress import RateProgress, duration
from trustpulse.sentiment.mentions import published_sentiment
from trustpulse.settings import SentimentConfig, TrustpulseSettings
from trustpulse.storage import table_path, write_parquet_atomic


@dg.asset(deps=[mention_dataset, dump_sentiment], group_name="enrich", kinds={"pytorch", "parquet"})
def mention_sentiment(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[TrustpulseSettings],
    sentiment: dg.ResourceParam[SentimentConfig],
) -> dg.MaterializeResult:
    """negative / neutral / positive probabilities and score = p_positive - p_negative per mention, from its
    dump's partition; a dump without one (ingested by an earlier version) or scored by another model is scored
    here and its partition written."""
    started = time.perf_counter()
    published = read_input(context, settings, "mentions", columns=["mention_id", "dump_key", "text", "lang"])
    result = published_sentiment(
        published,
        read_enrichment_partitions(
            context, settings, "mention_sentiment", published_dump_keys(published), DUMP_SENTIMENT_ASSET
        ),
        sentiment,
        settings.cache_dir,
        on_start=lambda n, model_id: context.log.info(f"sentiment: {n:,} mentions, model {model_id}"),
        on_progress=RateProgress(context.log.info, "sentiment: new texts scored"),
    )
    write_enrichment_partitions(settings, "mention_sentiment", result.rescored_dumps)
    scored, labelled = result.table, result.labelled
    path = write_parquet_atomic(scored, table_path(settings.warehouse_dir, "mention_sentiment"))
    net = result.net_sentiment
    context.log.info(
        f"sentiment: {labelled.height:,} mentions scored, {scored.height - labelled.height:,} not scored (language) "
        f"({len(result.rescored_dumps)} dump(s) scored here, {result.newly_scored:,} new texts through the model; "
        "the rest from the dumps' partitions) in "
        f"{duration(time.perf_counter() - started)}; net sentiment {net:+.3f}; table written: mention_sentiment"
    )
    return dg.MaterializeResult(
        metadata=sentiment_metadata(
            scored,
            path,
            result,
            started,
            dumps_scored_here=dg.MetadataValue.json(sorted(result.rescored_dumps)),
            net_sentiment=net,
            scored=labelled.height,
            not_scored=dg.MetadataValue.json(result.not_scored()),
            label_shares=dg.MetadataValue.json(result.label_shares()),
        )
    )
