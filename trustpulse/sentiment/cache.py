"""Parquet cache of sentiment scores keyed by sha256(model_id + text)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import polars as pl

from trustpulse.sentiment.model import OUTPUT_SCHEMA

_PROB_COLS = ["label", "p_negative", "p_neutral", "p_positive", "score"]
CACHE_SCHEMA = {"key": pl.String, "model_id": pl.String, **OUTPUT_SCHEMA}


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
    """A parquet file of previously computed scores (one row per key). Loaded lazily, saved atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._df: pl.DataFrame | None = None

    @property
    def frame(self) -> pl.DataFrame:
        if self._df is None:
            if self.path.is_file():
                self._df = pl.read_parquet(self.path).select(list(CACHE_SCHEMA)).cast(CACHE_SCHEMA)
            else:
                self._df = pl.DataFrame(schema=CACHE_SCHEMA)
        return self._df

    def __len__(self) -> int:
        return self.frame.height

    def lookup(self, keys: Sequence[str]) -> pl.DataFrame:
        """Rows of the cache whose key is in ``keys`` (unordered)."""
        return self.frame.filter(pl.col("key").is_in(list(set(keys))))

    def add(self, rows: pl.DataFrame) -> None:
        """Add rows (``key``, ``model_id`` + score columns); a key already present is replaced."""
        rows = rows.select(list(CACHE_SCHEMA)).cast(CACHE_SCHEMA)
        self._df = pl.concat([self.frame, rows]).unique(subset="key", keep="last", maintain_order=True)

    def save(self) -> None:
        """Write to a temporary file in the same directory, then ``os.replace`` it (atomic on POSIX)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        try:
            self.frame.write_parquet(tmp)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def score_with_cache(
    model: _Scorer, texts: Sequence[str], cache: SentimentCache, batch_size: int = 64, progress: bool = False
) -> pl.DataFrame:
    """Score ``texts`` (one row per input, in order), calling the model only for texts not cached.

    New scores are added to the cache and the cache file is rewritten atomically (only when something
    new was scored).
    """
    texts = list(texts)
    model_id = model.model_id
    keys = [cache_key(model_id, t) for t in texts]
    known = set(cache.lookup(keys)["key"].to_list())
    todo: dict[str, str] = {}
    for k, t in zip(keys, texts, strict=True):
        if k not in known and k not in todo:
            todo[k] = t
    if todo:
        scored = model.score_texts(list(todo.values()), batch_size=batch_size, progress=progress)
        scored = scored.with_columns(key=pl.Series(list(todo.keys()), dtype=pl.String), model_id=pl.lit(model_id))
        cache.add(scored)
        cache.save()
    found = cache.lookup(keys)
    order = pl.DataFrame({"key": keys, "_i": range(len(keys))}, schema={"key": pl.String, "_i": pl.Int64})
    out = order.join(found, on="key", how="left").sort("_i")
    return out.select(_PROB_COLS)
