"""Sentiment scoring: a LoRA-tuned MiniLM classifier (negative / neutral / positive).

Typical use::

    from trustpulse.sentiment import SentimentModel, SentimentCache, score_with_cache

    model = SentimentModel.load()            # once per process
    df = model.score_texts(texts)            # label, p_negative, p_neutral, p_positive, score
    df = score_with_cache(model, texts, SentimentCache("data/cache/sentiment"))

torch / transformers / peft are imported lazily, on ``SentimentModel.load``.
"""

from trustpulse.sentiment.cache import SentimentCache, score_with_cache
from trustpulse.sentiment.model import (
    DEFAULT_MODEL,
    LABELS,
    ModelIntegrityError,
    ModelLoadError,
    SentimentModel,
)

__all__ = [
    "DEFAULT_MODEL",
    "LABELS",
    "ModelIntegrityError",
    "ModelLoadError",
    "SentimentCache",
    "SentimentModel",
    "score_with_cache",
]
