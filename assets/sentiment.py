"""Stage `mention_sentiment`: a transformer classifier over every mention, cached by text hash.

The model is a resource, loaded once per process; texts already scored by the same model (same text
hash, same model id) come from `DATA_ROOT/cache/sentiment/` (parquet shards), so a re-run scores only new
text.
"""

import time
from collections.abc import Callable
from functools import lru_cache

import dagster as dg
import polars as pl
from pydantic import Field

from trustpulse.embeddings import BATCH_SIZE
from trustpulse.metadata import table_metadata
from trustpulse.sentiment.cache import SentimentCache, score_with_cache
from trustpulse.sentiment.model import DEFAULT_MODEL, SentimentModel
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import table_path, write_parquet_atomic

SENTIMENT_SCHEMA: dict[str, pl.DataType] = {
    "mention_id": pl.String(),
    "label": pl.String(),
    "p_negative": pl.Float64(),
    "p_neutral": pl.Float64(),
    "p_positive": pl.Float64(),
    "score": pl.Float64(),
    "model_id": pl.String(),
}


@lru_cache(maxsize=4)
def _load(model: str, label_map: tuple[tuple[str, str], ...], quantize: bool | None, device: str) -> SentimentModel:
    return SentimentModel.load(model, label_map=dict(label_map) or None, quantize=quantize, device=device)


class SentimentResource(dg.ConfigurableResource):
    """Which sentiment model scores the mentions."""

    model: str = Field(
        default=DEFAULT_MODEL,
        description="'trustpulse-minilm-sentiment' (the packaged base + our adapter), or any Hugging Face "
        "sequence-classification model id or local path (e.g. cardiffnlp/twitter-roberta-base-sentiment-latest).",
    )
    label_map: dict[str, str] = Field(
        default_factory=dict, description="The model's label names -> negative / neutral / positive."
    )
    quantize: bool | None = Field(default=None, description="Dynamic int8 on CPU (default: on for our model).")
    batch_size: int = Field(default=BATCH_SIZE, description="Texts per forward pass.")
    device: str = Field(default="cpu", description="torch device: 'cpu', or 'cuda' where a GPU is available.")

    def load(self) -> SentimentModel:
        """The model, loaded once per process."""
        return _load(self.model, tuple(sorted(self.label_map.items())), self.quantize, self.device)


def score_mentions_sentiment(
    mentions: pl.DataFrame,
    model: SentimentModel,
    cache: SentimentCache,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """mention_id + label, probabilities, score and model id for every mention."""
    if mentions.height == 0:
        return pl.DataFrame(schema=SENTIMENT_SCHEMA)
    scores = score_with_cache(model, mentions["text"].to_list(), cache, batch_size=batch_size, on_progress=on_progress)
    return (
        pl.concat([mentions.select("mention_id"), scores], how="horizontal")
        .with_columns(model_id=pl.lit(model.model_id))
        .select(list(SENTIMENT_SCHEMA))
        .cast(SENTIMENT_SCHEMA)
    )


@dg.asset(deps=[dg.AssetKey("mention_dataset")], group_name="enrich", kinds={"pytorch", "parquet"})
def mention_sentiment(
    context: dg.AssetExecutionContext, settings: TrustpulseSettings, sentiment: SentimentResource
) -> dg.MaterializeResult:
    """negative / neutral / positive probabilities and score = p_positive - p_negative per mention."""
    started = time.perf_counter()
    mentions = pl.read_parquet(table_path(settings.warehouse_dir, "mentions"), columns=["mention_id", "text"])
    model = sentiment.load()
    cache = SentimentCache(settings.root / "cache" / "sentiment")
    cached_before = len(cache)
    scored = score_mentions_sentiment(
        mentions,
        model,
        cache,
        sentiment.batch_size,
        on_progress=lambda done, todo: context.log.info(f"sentiment: {done:,}/{todo:,} new texts scored"),
    )
    path = write_parquet_atomic(scored, table_path(settings.warehouse_dir, "mention_sentiment"))
    shares = scored["label"].value_counts(normalize=True).to_dicts() if scored.height else []
    return dg.MaterializeResult(
        metadata=table_metadata(
            scored,
            path,
            model_id=model.model_id,
            newly_scored=len(cache) - cached_before,
            net_sentiment=float(scored["score"].mean() or 0.0) if scored.height else 0.0,
            label_shares=dg.MetadataValue.json({d["label"]: round(d["proportion"], 4) for d in shares}),
            seconds=round(time.perf_counter() - started, 3),
        )
    )
