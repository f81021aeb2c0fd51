"""Stage `mention_sentiment`: the configured classifier over every published mention
(`trustpulse.sentiment.mentions.sentiment_of_mentions`, which explains the caches and the languages scored)."""

import time

import dagster as dg

from assets.catalog import catalog_metadata
from assets.dataset import mention_dataset
from assets.inputs import read_input
from assets.metadata import table_metadata
from trustpulse.progress import RateProgress, duration
from trustpulse.sentiment.mentions import sentiment_of_mentions
from trustpulse.settings import SentimentConfig, TrustpulseSettings
from trustpulse.storage import table_path, write_parquet_atomic


@dg.asset(deps=[mention_dataset], group_name="enrich", kinds={"pytorch", "parquet"})
def mention_sentiment(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[TrustpulseSettings],
    sentiment: dg.ResourceParam[SentimentConfig],
) -> dg.MaterializeResult:
    """negative / neutral / positive probabilities and score = p_positive - p_negative per mention."""
    started = time.perf_counter()
    result = sentiment_of_mentions(
        read_input(context, settings, "mentions"),
        sentiment,
        settings.cache_dir,
        on_start=lambda n, model_id: context.log.info(f"sentiment: {n:,} mentions to score with {model_id}"),
        on_progress=RateProgress(context.log.info, "sentiment: new texts scored"),
    )
    scored, labelled = result.table, result.labelled
    path = write_parquet_atomic(scored, table_path(settings.warehouse_dir, "mention_sentiment"))
    net = result.net_sentiment
    context.log.info(
        f"sentiment: {labelled.height:,} mentions scored, {scored.height - labelled.height:,} not scored (language) "
        f"({result.newly_scored:,} new texts through the model, the rest from the cache) in "
        f"{duration(time.perf_counter() - started)}; net sentiment {net:+.3f}; table written: mention_sentiment"
    )
    return dg.MaterializeResult(
        metadata=table_metadata(
            scored,
            path,
            **catalog_metadata(scored),
            model_id=result.model_id,
            newly_scored=result.newly_scored,
            net_sentiment=net,
            scored=labelled.height,
            not_scored=dg.MetadataValue.json(result.not_scored()),
            label_shares=dg.MetadataValue.json(result.label_shares()),
            seconds=round(time.perf_counter() - started, 3),
        )
    )
