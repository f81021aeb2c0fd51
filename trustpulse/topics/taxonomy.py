"""Zero-shot mapping of mentions (and topics) to a business taxonomy by embedding similarity.

Each taxonomy entry is embedded as "name: description"; a mention goes to the entry whose embedding is
most similar (cosine), and `taxonomy_score` is that similarity. Below `min_score` no entry fits and the
label is null: a taxonomy is a lens on the discovered topics, not a forced partition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import polars as pl

from trustpulse.tables import TAXONOMY_SCHEMA
from trustpulse.topics.vectors import unit_rows


def taxonomy_prompts(taxonomy: Mapping[str, str]) -> list[str]:
    return [f"{name}: {description}" for name, description in taxonomy.items()]


def map_taxonomy(
    embeddings: np.ndarray,
    taxonomy: Mapping[str, str],
    embed: Callable[[Sequence[str]], np.ndarray],
    min_score: float = 0.0,
) -> pl.DataFrame:
    """`taxonomy_label`, `taxonomy_score` per embedding row; `embed` encodes the taxonomy prompts."""
    n = np.asarray(embeddings).shape[0]
    if n == 0 or not taxonomy:
        return pl.DataFrame({"taxonomy_label": [None] * n, "taxonomy_score": [None] * n}, schema=TAXONOMY_SCHEMA)
    names = list(taxonomy)
    prompt_vectors = np.asarray(embed(taxonomy_prompts(taxonomy)), dtype=np.float32)
    sims = unit_rows(np.asarray(embeddings, dtype=np.float32)) @ unit_rows(prompt_vectors).T
    best = sims.argmax(axis=1)
    score = sims[np.arange(n), best].astype(np.float64)
    labels = [names[i] if s >= min_score else None for i, s in zip(best, score, strict=True)]
    return pl.DataFrame({"taxonomy_label": labels, "taxonomy_score": score}, schema=TAXONOMY_SCHEMA)
