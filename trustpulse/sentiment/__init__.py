"""Sentiment scoring: a fine-tuned MiniLM classifier (negative / neutral / positive).

Typical use::

    from trustpulse.sentiment import SentimentModel, SentimentCache, score_with_cache

    model = SentimentModel.load()            # once per process
    df = model.score_texts(texts)            # label, p_negative, p_neutral, p_positive, score
    df = score_with_cache(model, texts, SentimentCache("data/cache/sentiment"))

The names below are imported on first use, so that ``trustpulse.sentiment.train`` and
``trustpulse.sentiment.checkpoint`` run where only torch and transformers are installed (a training GPU).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SentimentCache": "trustpulse.sentiment.cache",
    "score_with_cache": "trustpulse.sentiment.cache",
    "DEFAULT_MODEL": "trustpulse.sentiment.model",
    "LABELS": "trustpulse.sentiment.model",
    "ModelIntegrityError": "trustpulse.sentiment.model",
    "ModelLoadError": "trustpulse.sentiment.model",
    "SentimentModel": "trustpulse.sentiment.model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'trustpulse.sentiment' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
