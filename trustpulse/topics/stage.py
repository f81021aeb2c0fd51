"""The topics stage: the saved topic model kept or refitted, the `topics` table, `mention_topics` and the check
that every mention has its row. Pure of Dagster: the `topic_model`, `mention_topics` and `topic_trends` assets
(`assets/topics.py`) read the tables, call these and write the results.

The model is refitted on the published mentions only when there is no saved model, when asked to
(`TopicStageConfig.refit`, or the `topics_refit` job), when the saved model is empty and mentions arrived, or when
it was fitted on a corpus too small for UMAP + HDBSCAN and the corpus has grown past that size; otherwise the saved
model stays and new mentions are assigned to it, so topic ids are stable from run to run. Embeddings come from the
shared cache.

`published_mention_topics` assembles `mention_topics` from per-dump assignments (`trustpulse.enrichment`), made
once per dump and model version, so a new dump with no refit costs the encoding and assignment of that dump only.
The encoding stays in the publish run, after the fit, in this order: the encoder is not batch-invariant (a text's
vector depends on the batch it was first encoded in), so encoding per dump at ingest would move the topics.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from trustpulse.embeddings import Embedder, EmbeddingCache, cache_dir_for
from trustpulse.enrichment import Assembled, assemble_from_partitions
from trustpulse.settings import TopicStageConfig
from trustpulse.tables import MENTION_TOPICS_SCHEMA
from trustpulse.topics.model import OUTLIER_LABEL, fit_sample, fit_topics
from trustpulse.topics.store import SavedTopics, assign_topics, load_topics, model_dir, save_topics
from trustpulse.topics.taxonomy import map_taxonomy
from trustpulse.topics.text import topic_input

Progress = Callable[[int, int], None]


def topic_embedder(topics: TopicStageConfig, data_root: Path) -> Embedder:
    """Embeddings of `topic_input(text)` through the data root's cache; `load_encoder` is cached per
    process and only called when a text is not in the cache."""
    cache = EmbeddingCache(cache_dir_for(data_root))
    return Embedder(encoder=None, cache=cache, device=topics.device, prepare=topic_input)


def topic_mentions(mentions: pl.DataFrame) -> pl.DataFrame:
    """The mentions topics are fitted on and assigned to: those with a text."""
    return mentions.filter(pl.col("text").is_not_null())


def should_refit(saved: SavedTopics | None, n_docs: int, asked: bool, small_corpus: int) -> str | None:
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


@dataclass(frozen=True)
class TopicModelRun:
    """The saved model after the stage, the `topics` table built from it, and why it was refitted (None: kept)."""

    saved: SavedTopics
    topics: pl.DataFrame
    refit_reason: str | None


def refresh_topic_model(
    mentions: pl.DataFrame,
    topics: TopicStageConfig,
    data_root: Path,
    embedder: Embedder,
    refit_asked: bool,
    log: Callable[[str], None],
    on_progress: Progress | None = None,
) -> TopicModelRun:
    """Refit and save the model under DATA_ROOT/models/topics when `should_refit` says so, then the `topics`
    table: one row per topic with its label, phrases, keywords, size and the taxonomy entry closest to its
    centroid (null where the model has no centroids)."""
    mentions = topic_mentions(mentions)
    texts = mentions["text"].to_list()
    directory = model_dir(data_root)
    topic_config = topics.topic_config()
    reason = should_refit(load_topics(directory), len(texts), refit_asked or topics.refit, topic_config.small_corpus)
    if reason:
        sample = fit_sample(mentions["mention_id"].to_list(), topic_config.fit_sample, topic_config.seed)
        fit_texts = [texts[i] for i in sample]
        log(f"fitting topics on {len(fit_texts):,} of {len(texts):,} mentions ({reason})")
        fit = fit_topics(fit_texts, embedder.embed(fit_texts, on_progress), topic_config, embed=embedder.embed)
        save_topics(fit, fit_texts, directory, topic_config)
    saved = load_topics(directory)
    if saved is None:
        raise FileNotFoundError(f"no topic model in {directory} after saving one")
    info = saved.info
    centroids = saved.model.topic_embeddings_ if saved.model is not None else None
    if centroids is not None and len(centroids) == info.height:  # both sorted by topic id
        info = pl.concat([info, map_taxonomy(centroids, topics.taxonomy, embedder.embed)], how="horizontal")
    else:
        info = info.with_columns(
            taxonomy_label=pl.lit(None, dtype=pl.String), taxonomy_score=pl.lit(None, dtype=pl.Float64)
        )
    return TopicModelRun(saved=saved, topics=info, refit_reason=reason)


def mention_topics_table(
    mentions: pl.DataFrame,
    saved: SavedTopics,
    topics_table: pl.DataFrame | None,
    topics: TopicStageConfig,
    embedder: Embedder,
    on_progress: Progress | None = None,
) -> pl.DataFrame:
    """One row per mention with a text (every one is placed: -1 = outlier, where the configuration keeps
    outliers): its topic label, probability, the zero-shot taxonomy entry with its cosine similarity, and the
    taxonomy entry of its topic (`topic_taxonomy_label`, from `topics_table` where it has one)."""
    mentions = topic_mentions(mentions)
    texts = mentions["text"].to_list()
    vectors, rows = embedder.embed_distinct(texts, on_progress)  # a vector per distinct input
    assigned = assign_topics(saved, texts, vectors, rows)
    labels = saved.info.select("topic_id", "topic_label")
    if topics_table is not None and "taxonomy_label" in topics_table.columns:
        topic_taxonomy = topics_table.select("topic_id", "taxonomy_label")
        labels = labels.join(
            topic_taxonomy.rename({"taxonomy_label": "topic_taxonomy_label"}), on="topic_id", how="left"
        )
    else:
        labels = labels.with_columns(topic_taxonomy_label=pl.lit(None, dtype=pl.String))
    return (
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


ASSIGNED_WITH = "assigned_with"  # per-dump partition column: what its rows were assigned with (`assignment_key`)


def assignment_key(saved: SavedTopics, topics: TopicStageConfig) -> str:
    """What a dump's topic rows depend on besides its texts: the model version and the taxonomy it is mapped to."""
    taxonomy = json.dumps([topics.taxonomy, topics.taxonomy_min_score], sort_keys=True)
    return f"{saved.manifest['version']}:{hashlib.sha256(taxonomy.encode()).hexdigest()[:16]}"


def published_mention_topics(
    published: pl.DataFrame,
    partitions: dict[str, pl.DataFrame],
    saved: SavedTopics,
    topics_table: pl.DataFrame | None,
    topics: TopicStageConfig,
    embedder: Embedder,
    on_progress: Progress | None = None,
) -> Assembled:
    """`mention_topics` for the published mentions (`mention_id`, `dump_key`, `text`, in order) from their dumps'
    assignments (dump key -> partition, with `ASSIGNED_WITH`); a dump assigned with another model version or
    taxonomy (a refit), or not yet, is assigned now (`redone`, with `ASSIGNED_WITH`, to write)."""
    key = assignment_key(saved, topics)

    def assign(mentions: pl.DataFrame) -> pl.DataFrame:
        table = mention_topics_table(mentions, saved, topics_table, topics, embedder, on_progress)
        return table.with_columns(pl.lit(key).alias(ASSIGNED_WITH))

    def assigned_with_key(partition: pl.DataFrame) -> bool:
        return ASSIGNED_WITH in partition.columns and bool((partition[ASSIGNED_WITH] == key).all())

    return assemble_from_partitions(
        topic_mentions(published), partitions, MENTION_TOPICS_SCHEMA, is_current=assigned_with_key, redo=assign
    )


def mentions_without_topic_row(mention_topics: pl.DataFrame, mentions: pl.DataFrame) -> str | None:
    """What is wrong when `mention_topics` does not hold exactly one placed row per mention with a text, or None."""
    expected = topic_mentions(mentions).height
    if mention_topics.height == expected and not mention_topics["topic_id"].null_count():
        return None
    return f"mention_topics has {mention_topics.height:,} rows for {expected:,} mentions"
