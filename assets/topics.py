"""Stage topics: `topic_model`, `mention_topics`, `topic_trends` (thin wrappers over `trustpulse.topics`).

`topic_model` fits BERTopic on the published mentions only when there is no saved model, when asked to
(`TopicStageConfig.refit`, or the `topics_refit` job), when the saved model is empty and mentions arrived,
or when it was fitted on a corpus too small for UMAP + HDBSCAN and the corpus has grown past that size;
otherwise the saved model stays and new mentions are
assigned to it, so topic ids are stable from run to run. Embeddings come from the shared cache.
"""

from collections.abc import Callable

import dagster as dg
import polars as pl
from pydantic import Field

from assets.metadata import table_metadata
from trustpulse.embeddings import Embedder, EmbeddingCache, cache_dir_for
from trustpulse.settings import TopicStageConfig, TrustpulseSettings
from trustpulse.storage import table_path, write_parquet_atomic
from trustpulse.tables import MENTION_TOPICS_SCHEMA, TREND_SCHEMA
from trustpulse.topics import (
    SavedTopics,
    assign_topics,
    fit_sample,
    fit_topics,
    load_topics,
    map_taxonomy,
    model_dir,
    save_topics,
    topic_input,
)
from trustpulse.topics.model import OUTLIER_LABEL
from trustpulse.topics.trends import topic_trends as trends_table


def topic_embedder(topics: TopicStageConfig, settings: TrustpulseSettings) -> Embedder:
    """Embeddings of `topic_input(text)` through the data root's cache; `load_encoder` is cached per
    process and only called when a text is not in the cache."""
    cache = EmbeddingCache(cache_dir_for(settings.root))
    return Embedder(encoder=None, cache=cache, device=topics.device, prepare=topic_input)


class TopicModelConfig(dg.Config):
    refit: bool = Field(default=False, description="Refit now (the topics_refit job sets this).")


def _mentions(settings: TrustpulseSettings) -> pl.DataFrame:
    path = table_path(settings.warehouse_dir, "mentions")
    if not path.exists():
        return pl.DataFrame(schema={"mention_id": pl.String, "text": pl.String, "created_at": pl.Datetime("us", "UTC")})
    return pl.read_parquet(path).filter(pl.col("text").is_not_null())


def _progress(context: dg.AssetExecutionContext) -> Callable[[int, int], None]:
    return lambda done, todo: context.log.info(f"embeddings: {done:,}/{todo:,} new texts encoded")


def _should_refit(saved: SavedTopics | None, n_docs: int, asked: bool, small_corpus: int) -> str | None:
    """Why to refit, or None to keep the saved model."""
    if asked:
        return "asked"
    if saved is None:
        return "no saved model"
    method, fitted_on = saved.manifest.get("method"), int(saved.manifest.get("n_docs", 0))
    if method in ("empty", "degenerate") and n_docs > fitted_on:
        return f"the saved model is {method} and there are new mentions"
    if method == "small" and n_docs >= small_corpus > fitted_on:
        return "the corpus has grown large enough for UMAP + HDBSCAN"
    return None


@dg.asset(deps=[dg.AssetKey("mention_dataset")], group_name="enrich", kinds={"bertopic", "parquet"})
def topic_model(
    context: dg.AssetExecutionContext,
    config: TopicModelConfig,
    settings: dg.ResourceParam[TrustpulseSettings],
    topics: dg.ResourceParam[TopicStageConfig],
) -> dg.MaterializeResult:
    """The topic model under DATA_ROOT/models/topics (safetensors) and warehouse/topics.parquet: one row
    per topic with its label (a short phrase from its own mentions, `trustpulse.topics.labels`), phrases,
    keywords, size and the taxonomy entry closest to its centroid."""
    mentions = _mentions(settings)
    texts = mentions["text"].to_list()
    directory = model_dir(settings.root)
    embedder = topic_embedder(topics, settings)
    topic_config = topics.topic_config()
    reason = _should_refit(load_topics(directory), len(texts), config.refit or topics.refit, topic_config.small_corpus)
    if reason:
        sample = fit_sample(mentions["mention_id"].to_list(), topic_config.fit_sample, topic_config.seed)
        fit_texts = [texts[i] for i in sample]
        context.log.info(f"fitting topics on {len(fit_texts):,} of {len(texts):,} mentions ({reason})")
        fit = fit_topics(fit_texts, embedder.embed(fit_texts, _progress(context)), topic_config, embed=embedder.embed)
        save_topics(fit, fit_texts, directory, topic_config)
    saved = load_topics(directory)
    assert saved is not None
    info = saved.info
    centroids = saved.model.topic_embeddings_ if saved.model is not None else None
    if centroids is not None and len(centroids) == info.height:  # both sorted by topic id
        info = pl.concat([info, map_taxonomy(centroids, topics.taxonomy, embedder.embed)], how="horizontal")
    else:
        info = info.with_columns(
            taxonomy_label=pl.lit(None, dtype=pl.String), taxonomy_score=pl.lit(None, dtype=pl.Float64)
        )
    path = write_parquet_atomic(info, table_path(settings.warehouse_dir, "topics"))
    manifest = saved.manifest
    return dg.MaterializeResult(
        metadata=table_metadata(
            info,
            path,
            refit=reason or "no (assigning to the saved model)",
            model_path=dg.MetadataValue.path(str(saved.path)),
            model_version=manifest["version"],
            method=manifest["method"],
            fitted_on=manifest["n_docs"],
            n_topics=manifest["n_topics"],
            fit_stats=dg.MetadataValue.json(manifest.get("stats", {})),
            texts_encoded=embedder.n_encoded,
            texts_from_cache=embedder.n_cached,
        )
    )


@dg.asset(deps=[topic_model, dg.AssetKey("mention_dataset")], group_name="enrich", kinds={"polars", "parquet"})
def mention_topics(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[TrustpulseSettings],
    topics: dg.ResourceParam[TopicStageConfig],
) -> dg.MaterializeResult:
    """warehouse/mention_topics.parquet: one row per kept mention (every mention is placed: -1 = outlier,
    where the configuration keeps outliers), its topic label, probability (HDBSCAN membership where the
    clusterer placed it, else cosine similarity to the topic centroid), the zero-shot taxonomy entry with
    its cosine similarity, and the taxonomy entry of its topic (`topic_taxonomy_label`)."""
    mentions = _mentions(settings)
    saved = load_topics(model_dir(settings.root))
    if saved is None:
        raise RuntimeError("no saved topic model: materialise `topic_model` first")
    embedder = topic_embedder(topics, settings)
    texts = mentions["text"].to_list()
    vectors, rows = embedder.embed_distinct(texts, _progress(context))  # a vector per distinct input
    assigned = assign_topics(saved, texts, vectors, rows)
    labels = saved.info.select("topic_id", "topic_label")
    topics_path = table_path(settings.warehouse_dir, "topics")
    if topics_path.exists() and "taxonomy_label" in pl.read_parquet_schema(topics_path):
        topic_taxonomy = pl.read_parquet(topics_path, columns=["topic_id", "taxonomy_label"])
        labels = labels.join(
            topic_taxonomy.rename({"taxonomy_label": "topic_taxonomy_label"}), on="topic_id", how="left"
        )
    else:
        labels = labels.with_columns(topic_taxonomy_label=pl.lit(None, dtype=pl.String))
    df = (
        pl.concat(
            [
                mentions.select("mention_id"),
                assigned,
                map_taxonomy(vectors, topics.taxonomy, embedder.embed, topics.taxonomy_min_score)[rows],
            ],
            how="horizontal",
        )
        .join(labels, on="topic_id", how="left", maintain_order="left")
        .with_columns(pl.col("topic_label").fill_null(OUTLIER_LABEL))
        .select(list(MENTION_TOPICS_SCHEMA))
        .cast(MENTION_TOPICS_SCHEMA)
    )
    if df.height != mentions.height or df["topic_id"].null_count():  # every kept mention has its row
        raise RuntimeError(f"mention_topics has {df.height:,} rows for {mentions.height:,} mentions")
    path = write_parquet_atomic(df, table_path(settings.warehouse_dir, "mention_topics"))
    return dg.MaterializeResult(
        metadata=table_metadata(
            df,
            path,
            model_version=saved.manifest["version"],
            assigned_to_saved_model=int((df["assigned"] == "nearest").sum()),
            outliers=int((df["topic_id"] == -1).sum()),
            texts_encoded=embedder.n_encoded,
            texts_from_cache=embedder.n_cached,
        )
    )


@dg.asset(
    deps=[mention_topics, dg.AssetKey("mention_sentiment"), dg.AssetKey("mention_dataset")],
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
    wh = settings.warehouse_dir
    sentiment_path = table_path(wh, "mention_sentiment")
    sentiment = pl.read_parquet(sentiment_path) if sentiment_path.exists() else None
    mention_topics_path = table_path(wh, "mention_topics")
    if not mention_topics_path.exists():
        raise RuntimeError("no mention_topics table: materialise `mention_topics` first")
    df = trends_table(
        pl.read_parquet(mention_topics_path),
        _mentions(settings),
        sentiment,
        period=settings.scoring.period,
        alpha=topics.rising_alpha,
        min_mentions=topics.rising_min_mentions,
    ).cast(TREND_SCHEMA)
    path = write_parquet_atomic(df, table_path(wh, "topic_trends"))
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
