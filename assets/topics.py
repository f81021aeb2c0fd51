"""Stage topics: `topic_model`, `mention_topics`, `topic_trends`, thin wrappers over `trustpulse.topics.stage`
(which explains when the model is refitted) and `trustpulse.topics.trends`."""

from collections.abc import Callable

import dagster as dg
import polars as pl
from pydantic import Field

from assets.dataset import mention_dataset
from assets.enrichment import read_enrichment_partitions, write_enrichment_partitions
from assets.inputs import read_input, read_optional_input, read_saved_topics
from assets.metadata import table_metadata
from assets.sentiment import mention_sentiment
from trustpulse.enrichment import published_dump_keys
from trustpulse.settings import TopicStageConfig, TrustpulseSettings
from trustpulse.storage import table_path, write_parquet_atomic
from trustpulse.tables import TREND_SCHEMA
from trustpulse.topics.stage import published_mention_topics, refresh_topic_model, topic_embedder, topic_mentions
from trustpulse.topics.trends import topic_trends as trends_table


class TopicModelConfig(dg.Config):
    refit: bool = Field(default=False, description="Refit now (the topics_refit job sets this).")


def _progress(context: dg.AssetExecutionContext) -> Callable[[int, int], None]:
    return lambda done, todo: context.log.info(f"embeddings: {done:,}/{todo:,} new texts encoded")


@dg.asset(deps=[mention_dataset], group_name="enrich", kinds={"bertopic", "parquet"})
def topic_model(
    context: dg.AssetExecutionContext,
    config: TopicModelConfig,
    settings: dg.ResourceParam[TrustpulseSettings],
    topics: dg.ResourceParam[TopicStageConfig],
) -> dg.MaterializeResult:
    """The topic model under DATA_ROOT/models/topics (safetensors) and warehouse/topics.parquet: one row
    per topic with its label (a short phrase from its own mentions, `trustpulse.topics.labels`), phrases,
    keywords, size and the taxonomy entry closest to its centroid."""
    embedder = topic_embedder(topics, settings.root)
    run = refresh_topic_model(
        read_input(context, settings, "mentions"),
        topics,
        settings.root,
        embedder,
        refit_asked=config.refit,
        log=context.log.info,
        on_progress=_progress(context),
    )
    path = write_parquet_atomic(run.topics, table_path(settings.warehouse_dir, "topics"))
    manifest = run.saved.manifest
    return dg.MaterializeResult(
        metadata=table_metadata(
            run.topics,
            path,
            refit=run.refit_reason or "no (assigning to the saved model)",
            model_path=dg.MetadataValue.path(str(run.saved.path)),
            model_version=manifest["version"],
            method=manifest["method"],
            fitted_on=manifest["n_docs"],
            n_topics=manifest["n_topics"],
            fit_stats=dg.MetadataValue.json(manifest.get("stats", {})),
            texts_encoded=embedder.n_encoded,
            texts_from_cache=embedder.n_cached,
        )
    )


@dg.asset(deps=[topic_model, mention_dataset], group_name="enrich", kinds={"polars", "parquet"})
def mention_topics(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[TrustpulseSettings],
    topics: dg.ResourceParam[TopicStageConfig],
) -> dg.MaterializeResult:
    """warehouse/mention_topics.parquet: one row per kept mention (every mention is placed: -1 = outlier,
    where the configuration keeps outliers), its topic label, probability (HDBSCAN membership where the
    clusterer placed it, else cosine similarity to the topic centroid), the zero-shot taxonomy entry with
    its cosine similarity, and the taxonomy entry of its topic (`topic_taxonomy_label`). The
    `mention_topics_complete` check (blocking) holds it to one row per mention.

    Assigned per dump, once per model version (warehouse/partitions/mention_topics/<dump>.parquet): a new dump
    costs the encoding and assignment of its own mentions, a refit re-assigns every dump (embeddings from the cache)."""
    published = read_input(context, settings, "mentions", columns=["mention_id", "dump_key", "text"])
    saved = read_saved_topics(context, settings)
    embedder = topic_embedder(topics, settings.root)
    assembled = published_mention_topics(
        published,
        read_enrichment_partitions(context, settings, "mention_topics", published_dump_keys(published), None),
        saved,
        read_optional_input(context, settings, "topics"),  # absent or without taxonomy: written by older versions
        topics,
        embedder,
        _progress(context),
    )
    write_enrichment_partitions(settings, "mention_topics", assembled.redone)
    df = assembled.table
    context.log.info(f"mention_topics: {len(assembled.redone)} dump(s) assigned, the rest from their partitions")
    path = write_parquet_atomic(df, table_path(settings.warehouse_dir, "mention_topics"))
    return dg.MaterializeResult(
        metadata=table_metadata(
            df,
            path,
            model_version=saved.manifest["version"],
            assigned_to_saved_model=int((df["assigned"] == "nearest").sum()),
            dumps_assigned=dg.MetadataValue.json(sorted(assembled.redone)),
            outliers=int((df["topic_id"] == -1).sum()),
            texts_encoded=embedder.n_encoded,
            texts_from_cache=embedder.n_cached,
        )
    )


@dg.asset(
    deps=[mention_topics, mention_sentiment, mention_dataset],
    group_name="enrich",
    kinds={"polars", "parquet"},
)
def topic_trends(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[TrustpulseSettings],
    topics: dg.ResourceParam[TopicStageConfig],
) -> dg.MaterializeResult:
    """warehouse/topic_trends.parquet: per topic x period (`ScoringConfig.period`, default week, as the scores)
    the mentions, their share of the period, growth against the previous period, the sentiment mix
    (n_negative / n_neutral / n_positive, net_sentiment = (pos - neg) / scored; null while
    `mention_sentiment` does not exist) and `rising`.

    Rising rule: one-sided pooled two-proportion z-test of the topic's share of this period's dated
    mentions against its share of the previous period; rising when p < `rising_alpha` (0.05) and the
    topic has at least `rising_min_mentions` (10) mentions this period. Outliers (-1) are never rising;
    undated mentions are left out."""
    sentiment = read_optional_input(context, settings, "mention_sentiment")
    df = trends_table(
        read_input(context, settings, "mention_topics"),
        topic_mentions(read_input(context, settings, "mentions")),
        sentiment,
        period=settings.scoring.period,
        alpha=topics.rising_alpha,
        min_mentions=topics.rising_min_mentions,
    ).cast(TREND_SCHEMA)
    path = write_parquet_atomic(df, table_path(settings.warehouse_dir, "topic_trends"))
    rising = df.filter(pl.col("rising"))
    return dg.MaterializeResult(
        metadata=table_metadata(
            df,
            path,
            period=settings.scoring.period,
            sentiment_available=sentiment is not None,
            rising=dg.MetadataValue.json(
                [f"{r['topic_label']} @ {r['period_start']:%Y-%m-%d}" for r in rising.to_dicts()][:20]
            ),
        )
    )


topics_refit_job = dg.define_asset_job(
    "topics_refit",
    selection=dg.AssetSelection.assets(topic_model, mention_topics, topic_trends),
    config={"ops": {"topic_model": {"config": {"refit": True}}}},
    description="Refit the topic model on all published mentions, then reassign and redo the trends.",
)
TOPIC_ASSETS = [topic_model, mention_topics, topic_trends]
