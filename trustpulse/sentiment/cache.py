"""Cache of sentiment scores keyed by sha256(model_id + normalised text): parquet shards under one directory."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import polars as pl

from trustpulse.embeddings import BATCH_SIZE
from trustpulse.sentiment.model import OUTPUT_SCHEMA
from trustpulse.sentiment.windows import model_input_text
from trustpulse.shard_cache import ShardCache, missing

_PROB_COLS = ["label", "p_negative", "p_neutral", "p_positive", "score"]
CHUNK = 4096  # texts scored (and saved) per step
CACHE_SCHEMA: dict[str, pl.DataType] = {"key": pl.String, "model_id": pl.String, **OUTPUT_SCHEMA}


class _Scorer(Protocol):
    @property
    def model_id(self) -> str: ...

    def score_texts(self, texts: Sequence[str], batch_size: int = ..., progress: bool = ...) -> pl.DataFrame: ...


def cache_key(model_id: str, text: str) -> str:
    """sha256 of ``model_id`` NUL ``text``; surrogates are kept distinct via ``surrogatepass``."""
    h = hashlib.sha256(model_id.encode("utf-8"))
    h.update(b"\x00")
    h.update(text.encode("utf-8", errors="surrogatepass"))
    return h.hexdigest()


class SentimentCache:
    """Scores by key in a `ShardCache` directory (one shard per scored chunk)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.store = ShardCache(directory, CACHE_SCHEMA)

    @property
    def directory(self) -> Path:
        return self.store.directory

    def __len__(self) -> int:
        return len(self.store)

    def lookup(self, keys: Sequence[str]) -> pl.DataFrame:
        """Rows of the cache whose key is in ``keys`` (unordered)."""
        return self.store.get(keys)

    def add(self, rows: pl.DataFrame) -> None:
        """Save rows (``key``, ``model_id`` + score columns) as one shard."""
        self.store.put(rows)

    def compact_if_needed(self) -> None:
        self.store.compact_if_needed()


def score_with_cache(
    model: _Scorer,
    texts: Sequence[str],
    cache: SentimentCache,
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
    chunk_size: int = CHUNK,
    on_progress: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """Score ``texts`` (one row per input, in order), calling the model only for distinct texts not cached.

    Texts are keyed by what the model reads, ``model_input_text(text)`` (every `SentimentModel` scores that),
    so texts that differ only in the account they mention or the link they cite are scored once.

    New scores are saved to the cache chunk by chunk (a crash keeps the chunks done);
    ``on_progress(done, todo)`` is called after each chunk.
    """
    texts = list(texts)
    model_id = model.model_id
    keys = [cache_key(model_id, model_input_text(t)) for t in texts]
    found = [cache.lookup(keys)]  # read once; new scores are kept in memory as they are saved
    todo_keys, todo_texts = missing(keys, texts, set(found[0]["key"].to_list()))
    for start in range(0, len(todo_keys), chunk_size):
        chunk_keys = todo_keys[start : start + chunk_size]
        scored = model.score_texts(todo_texts[start : start + chunk_size], batch_size=batch_size, progress=progress)
        rows = scored.with_columns(key=pl.Series(chunk_keys, dtype=pl.String), model_id=pl.lit(model_id))
        cache.add(rows)
        found.append(rows.select(found[0].columns).cast(CACHE_SCHEMA))
        if on_progress:
            on_progress(start + len(chunk_keys), len(todo_keys))
    if todo_keys:
        cache.compact_if_needed()
    order = pl.DataFrame({"key": keys, "_i": range(len(keys))}, schema={"key": pl.String, "_i": pl.Int64})
    out = order.join(pl.concat(found), on="key", how="left").sort("_i")
    return out.select(_PROB_COLS)
