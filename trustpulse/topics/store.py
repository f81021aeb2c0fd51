"""The saved topic model under `<data_root>/models/topics/`, and assigning mentions to it.

Layout: `models/topics/<version>/` holds BERTopic's safetensors files (`bertopic/`: topic embeddings,
c-TF-IDF, config, topics), `topics.parquet` (our topic table), `assignments.parquet` (text hash ->
topic and probability of every training document) and `manifest.json`. `models/topics/CURRENT` names
the version in use and is replaced atomically, so a reader never sees half a model; older versions
are pruned. In an object store the same holds: a version's objects are uploaded first, then the one `CURRENT`
object is replaced (a single PUT); a reader loads a version from a local copy downloaded once per version.

Assigning: a text the model was fitted on keeps its fitted topic (looked up by text hash); a new text
goes to the topic whose embedding is most similar (what BERTopic does for a safetensors model, which
keeps no UMAP/HDBSCAN), with that cosine similarity as its probability.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from trustpulse.embeddings import ENCODER_ID, encoder_path, text_key
from trustpulse.storage import StorePath, atomic_directory, data_path, local_tree, remove_tree, write_bytes_atomic
from trustpulse.tables import TOPIC_INFO_SCHEMA
from trustpulse.topics.config import TopicConfig
from trustpulse.topics.model import OUTLIER, TopicFit
from trustpulse.topics.vectors import unit_rows

ASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "text_key": pl.String(),
    "topic_id": pl.Int64(),
    "topic_probability": pl.Float64(),
}
KEEP_VERSIONS = 2


def model_dir(data_root: StorePath | str) -> StorePath:
    return data_path(data_root) / "models" / "topics"


@dataclass
class SavedTopics:
    """A loaded topic model: BERTopic (None for a degenerate fit), topics, training assignments."""

    model: Any | None
    info: pl.DataFrame
    assignments: pl.DataFrame
    manifest: dict[str, Any]
    path: StorePath  # the version directory under the data root


def save_topics(fit: TopicFit, texts: list[str], directory: StorePath, config: TopicConfig) -> StorePath:
    """Save a fit as a new version and make it current. Returns the version directory."""
    directory.mkdir(parents=True, exist_ok=True)
    version = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    with atomic_directory(directory / version) as staging:
        if fit.model is not None:
            fit.model.save(
                str(staging / "bertopic"),
                serialization="safetensors",
                save_ctfidf=True,
                save_embedding_model=str(encoder_path()),
            )
        fit.info.write_parquet(staging / "topics.parquet")
        assignments = pl.DataFrame(
            {
                "text_key": [text_key(t) for t in texts],
                "topic_id": fit.topics.astype(np.int64),
                "topic_probability": fit.probabilities.astype(np.float64),
            },
            schema=ASSIGNMENT_SCHEMA,
        )
        assignments.unique(subset="text_key", keep="first", maintain_order=True).write_parquet(
            staging / "assignments.parquet"
        )
        manifest = {
            "version": version,
            "fitted_at": datetime.now(UTC).isoformat(),
            "method": fit.method,
            "n_docs": len(texts),
            "n_topics": fit.n_topics,
            "encoder": ENCODER_ID,
            "config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()},
            "stats": fit.stats,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    write_bytes_atomic(version.encode(), directory / "CURRENT")
    names = sorted(p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in names[:-KEEP_VERSIONS]:
        if old != version:
            remove_tree(directory / old)
    return directory / version


def _with_phrases(info: pl.DataFrame) -> pl.DataFrame:
    """A model saved before topics had phrases: an empty list each."""
    if "phrases" in info.columns:
        return info
    return info.with_columns(phrases=pl.lit([], dtype=pl.List(pl.String)))


def load_topics(directory: StorePath, embedding_model: Any | None = None) -> SavedTopics | None:
    """The current saved model, or None when there is none."""
    pointer = directory / "CURRENT"
    if not pointer.is_file():
        return None
    version = pointer.read_text().strip()
    saved = directory / version
    if not (saved / "manifest.json").is_file():
        return None
    path = local_tree(saved, version)  # a version never changes once CURRENT names it
    manifest = json.loads((path / "manifest.json").read_text())
    model = None
    if (path / "bertopic").is_dir():
        from bertopic import BERTopic

        from trustpulse.embeddings import quiet_model_loading

        with quiet_model_loading():  # BERTopic loads the saved encoder when none is given
            model = BERTopic.load(str(path / "bertopic"), embedding_model=embedding_model)
    return SavedTopics(
        model=model,
        info=_with_phrases(pl.read_parquet(path / "topics.parquet")).cast(TOPIC_INFO_SCHEMA),
        assignments=pl.read_parquet(path / "assignments.parquet").cast(ASSIGNMENT_SCHEMA),
        manifest=manifest,
        path=saved,
    )


def nearest_topic(saved: SavedTopics, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Topic of highest cosine similarity to each embedding (outlier topic included when the model kept
    one), and that similarity clipped to [0, 1]."""
    n = embeddings.shape[0]
    if saved.model is None:  # a degenerate fit: everything in its single topic (or nowhere)
        fallback = 0 if (saved.info["topic_id"] == 0).any() else OUTLIER
        return np.full(n, fallback, np.int64), np.zeros(n)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    ids = np.array(sorted(saved.model.topic_sizes_), dtype=np.int64)
    centroids = np.asarray(saved.model.topic_embeddings_, dtype=np.float32)
    sims = unit_rows(np.asarray(embeddings, np.float32)) @ unit_rows(centroids).T
    best = sims.argmax(axis=1)
    return ids[best], np.clip(sims[np.arange(n), best], 0.0, 1.0).astype(np.float64)


def assign_topics(
    saved: SavedTopics, texts: list[str], embeddings: np.ndarray, rows: np.ndarray | None = None
) -> pl.DataFrame:
    """`topic_id`, `topic_probability`, `assigned` ("fitted" | "nearest") per text, in order.

    `embeddings`: one row per text, or with `rows` (`Embedder.embed_distinct`) the distinct vectors and
    each text's row among them, so that a repeated text is not compared with the centroids again."""
    keys = [text_key(t) for t in texts]
    order = pl.DataFrame({"text_key": keys, "_i": np.arange(len(keys))}, schema={"text_key": pl.String, "_i": pl.Int64})
    known = order.join(saved.assignments, on="text_key", how="left").sort("_i")
    missing = known["topic_id"].is_null().to_numpy()
    topic = known["topic_id"].fill_null(OUTLIER).to_numpy().astype(np.int64)
    prob = known["topic_probability"].fill_null(0.0).to_numpy().astype(np.float64)
    if missing.any():
        wanted = rows[missing] if rows is not None else np.flatnonzero(missing)
        distinct, back = np.unique(wanted, return_inverse=True)
        new_topic, new_prob = nearest_topic(saved, np.asarray(embeddings)[distinct])
        topic[missing] = new_topic[back]
        prob[missing] = new_prob[back]
    return pl.DataFrame(
        {
            "topic_id": topic,
            "topic_probability": prob,
            "assigned": np.where(missing, "nearest", "fitted"),
        },
        schema={"topic_id": pl.Int64, "topic_probability": pl.Float64, "assigned": pl.String},
    )
