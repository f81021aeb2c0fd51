"""Stage `mention_sentiment`: a transformer classifier over every mention, cached by text hash.

The model is a resource, loaded once per process; texts already scored by the same model (same text
hash, same model id) come from `DATA_ROOT/cache/sentiment/` (parquet shards), so a re-run scores only new
text. The default model runs in ONNX Runtime (static int8, batch-invariant), built at first use into
`DATA_ROOT/cache/sentiment-runtime/`.

Mentions in a language the model does not read (`mentions.lang` not in `SentimentConfig.languages`) are not
scored: `scored = false`, `not_scored_reason = "language"`, label / probabilities / score null.
"""

import time
from collections.abc import Callable, Sequence
from functools import lru_cache

import dagster as dg
import polars as pl

from assets.catalog import catalog_metadata
from assets.metadata import table_metadata
from trustpulse.embeddings import BATCH_SIZE
from trustpulse.progress import RateProgress, duration
from trustpulse.sentiment.cache import SentimentCache, score_with_cache
from trustpulse.sentiment.languages import DEFAULT_LANGUAGES, NOT_SCORED_LANGUAGE, readable
from trustpulse.sentiment.model import SentimentModel
from trustpulse.settings import SentimentConfig, TrustpulseSettings
from trustpulse.storage import table_path, write_parquet_atomic
from trustpulse.tables import SENTIMENT_SCHEMA

RUNTIME_CACHE_DIR = "sentiment-runtime"


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


@dg.asset(deps=[dg.AssetKey("mention_dataset")], group_name="enrich", kinds={"pytorch", "parquet"})
def mention_sentiment(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[TrustpulseSettings],
    sentiment: dg.ResourceParam[SentimentConfig],
) -> dg.MaterializeResult:
    """negative / neutral / positive probabilities and score = p_positive - p_negative per mention."""
    started = time.perf_counter()
    mentions = pl.read_parquet(table_path(settings.warehouse_dir, "mentions"))
    mentions = mentions.select("mention_id", "text", *(["lang"] if "lang" in mentions.columns else []))
    model = load_sentiment_model(sentiment, str(settings.root / "cache" / RUNTIME_CACHE_DIR))
    cache = SentimentCache(settings.root / "cache" / "sentiment")
    cached_before = len(cache)
    context.log.info(f"sentiment: {mentions.height:,} mentions to score with {model.model_id}")
    scored = score_mentions_sentiment(
        mentions,
        model,
        cache,
        sentiment.batch_size,
        on_progress=RateProgress(context.log.info, "sentiment: new texts scored"),
        languages=sentiment.languages,
    )
    labelled = scored.filter(pl.col("scored"))
    not_scored = scored.filter(~pl.col("scored"))["not_scored_reason"].value_counts().to_dicts()
    path = write_parquet_atomic(scored, table_path(settings.warehouse_dir, "mention_sentiment"))
    shares = labelled["label"].value_counts(normalize=True).to_dicts() if labelled.height else []
    net = float(labelled["score"].mean() or 0.0) if labelled.height else 0.0
    newly = len(cache) - cached_before
    context.log.info(
        f"sentiment: {labelled.height:,} mentions scored, {scored.height - labelled.height:,} not scored (language) "
        f"({newly:,} new texts through the model, the rest from the cache) in "
        f"{duration(time.perf_counter() - started)}; net sentiment {net:+.3f}; table written: mention_sentiment"
    )
    return dg.MaterializeResult(
        metadata=table_metadata(
            scored,
            path,
            **catalog_metadata(scored),
            model_id=model.model_id,
            newly_scored=newly,
            net_sentiment=net,
            scored=labelled.height,
            not_scored=dg.MetadataValue.json({d["not_scored_reason"]: d["count"] for d in not_scored}),
            label_shares=dg.MetadataValue.json({d["label"]: round(d["proportion"], 4) for d in shares}),
            seconds=round(time.perf_counter() - started, 3),
        )
    )
