"""The `mention_sentiment` table: the configured classifier over every mention, cached by text hash.

Each dump is scored by its own ingest run (`sentiment_of_mentions` over its cleaned mentions, kept as its
partition); the published table is assembled from those partitions (`published_sentiment`,
`trustpulse.enrichment`), so a new dump costs the scoring of that dump only.

The model is loaded once per process; texts already scored by the same model (same text hash, same model id) come
from `DATA_ROOT/cache/sentiment/` (parquet shards), so a re-run scores only new text. The default model runs in
ONNX Runtime (static int8 for short windows, fp32 for long ones; batch-invariant), built at first use into
`DATA_ROOT/cache/sentiment-runtime/`.

Mentions in a language the model does not read (`mentions.lang` not in `SentimentConfig.languages`) are not
scored: `scored = false`, `not_scored_reason = "language"`, label / probabilities / score null.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import polars as pl

from trustpulse.embeddings import BATCH_SIZE
from trustpulse.enrichment import assemble_from_partitions
from trustpulse.sentiment.cache import SentimentCache, score_with_cache
from trustpulse.sentiment.languages import DEFAULT_LANGUAGES, NOT_SCORED_LANGUAGE, readable
from trustpulse.sentiment.model import SentimentModel
from trustpulse.settings import SentimentConfig
from trustpulse.tables import SENTIMENT_SCHEMA

RUNTIME_CACHE_DIR = "sentiment-runtime"  # under DATA_ROOT/cache: the ONNX build of the default model
SCORE_CACHE_DIR = "sentiment"  # under DATA_ROOT/cache: scores by text hash and model id


@lru_cache(maxsize=4)
def _load(
    model: str, label_map: tuple[tuple[str, str], ...], quantize: bool | None, device: str, cache_dir: str | None
) -> SentimentModel:
    return SentimentModel.load(
        model, label_map=dict(label_map) or None, quantize=quantize, device=device, cache_dir=cache_dir
    )


def load_sentiment_model(config: SentimentConfig, cache_dir: str | None = None) -> SentimentModel:
    """The configured model, loaded once per process (the ONNX build of ours cached under ``cache_dir``)."""
    return _load(config.model, tuple(sorted(config.label_map.items())), config.quantize, config.device, cache_dir)


def score_mentions_sentiment(
    mentions: pl.DataFrame,
    model: SentimentModel,
    cache: SentimentCache,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> pl.DataFrame:
    """mention_id + label, probabilities, score, model id and whether it was scored, for every mention.

    A mention with a ``lang`` the model does not read (see `trustpulse.sentiment.languages`) is not sent to the
    model: ``scored`` false, ``not_scored_reason`` "language", label / probabilities / score null.
    """
    if mentions.height == 0:
        return pl.DataFrame(schema=SENTIMENT_SCHEMA)
    if "lang" in mentions.columns:
        ok = readable(mentions["lang"], languages)
    else:
        ok = pl.Series("ok", [True] * mentions.height, dtype=pl.Boolean)
    todo = mentions.filter(ok)
    scores = score_with_cache(model, todo["text"].to_list(), cache, batch_size=batch_size, on_progress=on_progress)
    done = pl.concat([todo.select("mention_id"), scores], how="horizontal").with_columns(
        scored=pl.lit(True), not_scored_reason=pl.lit(None, dtype=pl.String)
    )
    skipped = (
        mentions.filter(~ok)
        .select("mention_id")
        .with_columns(scored=pl.lit(False), not_scored_reason=pl.lit(NOT_SCORED_LANGUAGE))
    )
    positions = pl.concat([ok.arg_true(), (~ok).arg_true()])  # input row of each row of `done`, then `skipped`
    both = pl.concat([done, skipped], how="diagonal_relaxed").with_columns(_i=positions)
    return (
        both.sort("_i")
        .with_columns(model_id=pl.lit(model.model_id))
        .select(list(SENTIMENT_SCHEMA))
        .cast(SENTIMENT_SCHEMA)
    )


@dataclass(frozen=True)
class MentionSentiment:
    """The `mention_sentiment` table and what it took: the model, the texts that went through it."""

    table: pl.DataFrame
    model_id: str
    newly_scored: int  # texts sent to the model (the rest came from the cache)
    rescored_dumps: dict[str, pl.DataFrame] = field(default_factory=dict)  # dump key -> partition made now

    @property
    def labelled(self) -> pl.DataFrame:
        return self.table.filter(pl.col("scored"))

    @property
    def net_sentiment(self) -> float:
        """Mean score of the scored mentions (0 when none)."""
        labelled = self.labelled
        return float(labelled["score"].mean() or 0.0) if labelled.height else 0.0

    def label_shares(self) -> dict[str, float]:
        """Share of each label among the scored mentions, rounded to 4 places."""
        labelled = self.labelled
        shares = labelled["label"].value_counts(normalize=True).to_dicts() if labelled.height else []
        return {d["label"]: round(d["proportion"], 4) for d in shares}

    def not_scored(self) -> dict[str, int]:
        """Mentions not scored, by reason."""
        counts = self.table.filter(~pl.col("scored"))["not_scored_reason"].value_counts().to_dicts()
        return {d["not_scored_reason"]: d["count"] for d in counts}


def sentiment_of_mentions(
    mentions: pl.DataFrame,
    config: SentimentConfig,
    cache_root: Path,
    on_start: Callable[[int, str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> MentionSentiment:
    """The sentiment of these mentions (one dump's, in its ingest run), with the configured model and the score cache
    under `cache_root` (DATA_ROOT/cache); `on_start(mentions, model id)` once the model is loaded."""
    mentions = mentions.select("mention_id", "text", *(["lang"] if "lang" in mentions.columns else []))
    model = load_sentiment_model(config, str(cache_root / RUNTIME_CACHE_DIR))
    cache = SentimentCache(cache_root / SCORE_CACHE_DIR)
    cached_before = len(cache)
    if on_start is not None:
        on_start(mentions.height, model.model_id)
    scored = score_mentions_sentiment(
        mentions, model, cache, config.batch_size, on_progress=on_progress, languages=config.languages
    )
    return MentionSentiment(table=scored, model_id=model.model_id, newly_scored=len(cache) - cached_before)


def published_sentiment(
    published: pl.DataFrame,
    partitions: Mapping[str, pl.DataFrame],
    config: SentimentConfig,
    cache_root: Path,
    on_start: Callable[[int, str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> MentionSentiment:
    """The `mention_sentiment` table for the published mentions (`mention_id`, `dump_key`, `text`, `lang`, in
    order) from their dumps' partitions (dump key -> the dump's sentiment). A dump whose partition is missing,
    was scored by another model or lacks one of its published mentions is scored now: `rescored_dumps`."""
    model = load_sentiment_model(config, str(cache_root / RUNTIME_CACHE_DIR))
    cache = SentimentCache(cache_root / SCORE_CACHE_DIR)
    cached_before = len(cache)
    if on_start is not None:
        on_start(published.height, model.model_id)

    def score(mentions: pl.DataFrame) -> pl.DataFrame:
        return score_mentions_sentiment(
            mentions, model, cache, config.batch_size, on_progress=on_progress, languages=config.languages
        )

    lang_of = published.select("mention_id", "lang") if "lang" in published.columns else None

    def is_current(partition: pl.DataFrame) -> bool:
        """Scored by this model under this language rule (a changed `languages` setting redoes the dump)."""
        if not (partition["model_id"] == model.model_id).all():
            return False
        if lang_of is None:
            return True
        rows = partition.select("mention_id", "not_scored_reason").join(lang_of, on="mention_id", how="inner")
        skipped = rows["not_scored_reason"].fill_null("") == NOT_SCORED_LANGUAGE
        return bool((skipped == ~readable(rows["lang"], config.languages)).all())

    assembled = assemble_from_partitions(published, partitions, SENTIMENT_SCHEMA, is_current=is_current, redo=score)
    return MentionSentiment(
        table=assembled.table,
        model_id=model.model_id,
        newly_scored=len(cache) - cached_before,
        rescored_dumps=assembled.redone,
    )
