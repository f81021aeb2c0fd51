"""Fit a topic model after BERTopic's recipe, sized to the corpus.

- 0 documents: nothing to fit (`method="empty"`).
- fewer than `small_corpus` documents: UMAP and HDBSCAN need more points than that, so PCA (or nothing,
  below 10 documents) reduces the embeddings and KMeans clusters them, with k picked by cosine silhouette
  (`method="small"`); no outliers.
- otherwise: UMAP (seeded, so single-threaded, on the exact cosine kNN graph) + HDBSCAN with a minimum
  topic size that grows with the corpus, then outliers reassigned to the nearest topic embedding
  (`method="bertopic"`). Callers fit on a sample of at most `TopicConfig.fit_sample` documents
  (`fit_sample`) and assign the rest to the nearest topic.

Keywords come from BERTopic's class-based TF-IDF on the masked texts (`topic_input`: no account, link or
number); a topic's label is a short phrase from its own mentions (`trustpulse.topics.labels`).
Embeddings are precomputed (see `trustpulse.embeddings`) and passed in.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from trustpulse.tables import TOPIC_INFO_SCHEMA
from trustpulse.topics.config import TopicConfig
from trustpulse.topics.labels import TopicName, name_topics
from trustpulse.topics.text import topic_input
from trustpulse.topics.vectors import unit_rows

log = logging.getLogger(__name__)

# BERTopic warns on every assignment to a saved model that topic reduction must not follow; trustpulse never
# reduces topics after assigning, so on a healthy run the warning is noise (every other BERTopic warning stays).
BERTOPIC_ASSIGNMENT_NOTE = "Using a custom list of topic assignments"


class _DropKnownBertopicNote(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return BERTOPIC_ASSIGNMENT_NOTE not in record.getMessage()


logging.getLogger("BERTopic").addFilter(_DropKnownBertopicNote())

OUTLIER = -1
OUTLIER_LABEL = "outliers"
DEGENERATE_LABEL = "all mentions"  # a corpus with no words to tell topics apart


@dataclass
class TopicFit:
    """A fitted model and the training documents' assignments (aligned with the input)."""

    model: Any | None  # bertopic.BERTopic, None when nothing could be fitted
    topics: np.ndarray  # int64, -1 = outlier
    probabilities: np.ndarray  # float64 in [0, 1]
    info: pl.DataFrame  # TOPIC_INFO_SCHEMA, one row per topic (outliers included when present)
    method: str  # empty | degenerate | small | bertopic
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def n_topics(self) -> int:
        return int(self.info.filter(pl.col("topic_id") != OUTLIER).height)


def exact_knn(X: np.ndarray, k: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Each row's `k` nearest rows by cosine distance, itself first: (indices int64, distances float32).

    A blocked matrix product: at the fit sample's size (tens of thousands of rows) this is seconds of BLAS,
    where pynndescent's approximate search spends one to two minutes compiling numba code in every new
    process, and it is exact.
    """
    n = X.shape[0]
    k = min(k, n)
    unit = unit_rows(np.asarray(X, dtype=np.float32))
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        sims = unit[rows] @ unit.T
        sims[np.arange(len(rows)), rows] = np.inf  # itself first, even among identical texts
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(rows), 1))
        top_sims = np.take_along_axis(sims, top, axis=1)
        order = np.lexsort((top, -top_sims), axis=1)  # by similarity, ties by row index: deterministic
        indices[rows] = np.take_along_axis(top, order, axis=1)
        # itself: 1 - inf, clipped to distance 0
        distances[rows] = np.clip(1.0 - np.take_along_axis(top_sims, order, axis=1), 0.0, 2.0)
    return indices, distances


class ExactKnnUMAP:
    """UMAP on the exact cosine kNN graph (`exact_knn`) instead of pynndescent's approximate one.

    Only `fit_transform` is offered: documents outside the fit sample are assigned to the nearest topic
    centroid (`trustpulse.topics.store.assign_topics`), never projected.
    """

    def __init__(self, seed: int, n_neighbors: int, **umap_kwargs: Any) -> None:
        self.seed = seed
        self.n_neighbors = n_neighbors
        self.umap_kwargs = umap_kwargs

    def fit_transform(self, X: np.ndarray, y: Any = None) -> np.ndarray:
        """The layout of `X`; identical rows are laid out once and share their point.

        Why: in an exact kNN graph, more than `n_neighbors` identical rows (one text posted many times, or
        texts that read the same once accounts and numbers are masked) are each other's only neighbours, a
        clique cut off from every other document, and UMAP's layout then falls apart: 17 repeated rows of
        the 2,914 in the stance dev set took its NMI from 0.41 to 0.15. UMAP's own `unique=True` does this
        but is not available with a precomputed kNN."""
        import warnings

        from umap import UMAP

        X = np.asarray(X, dtype=np.float32)
        _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)  # the distinct rows in first-seen order: the layout does not depend on sorting
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        distinct = X[first[order]]
        n_components = int(self.umap_kwargs.get("n_components", 2))
        if distinct.shape[0] <= max(n_components, 2) + 1:  # too few points to lay out: all at the origin
            return np.zeros((X.shape[0], n_components), dtype=np.float32)
        n_neighbors = min(self.n_neighbors, distinct.shape[0] - 1)
        # spectral initialisation is not reproducible (ARPACK start vector); PCA initialisation is
        umap = UMAP(
            random_state=self.seed,
            init="pca",
            n_neighbors=n_neighbors,
            precomputed_knn=exact_knn(distinct, n_neighbors),
            **self.umap_kwargs,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*knn_search_index.*")  # we never call transform
            layout = umap.fit_transform(distinct)
        return layout[rank[inverse.ravel()]]

    def fit(self, X: np.ndarray, y: Any = None) -> ExactKnnUMAP:
        self.fit_transform(X)
        return self


def fit_sample(ids: Sequence[str], max_docs: int, seed: int) -> np.ndarray:
    """Sorted row positions of at most `max_docs` documents to fit the topic model on.

    Past a few tens of thousands of documents more training data finds no new topics of the size we keep,
    but UMAP, HDBSCAN and c-TF-IDF cost grows with it (at 1M mentions, tens of minutes); the other
    documents are assigned to the nearest topic centroid, as new mentions are. The sample is the
    `max_docs` ids with the smallest seeded sha256: a uniform sample that does not depend on row order.
    """
    n = len(ids)
    if n <= max_docs:
        return np.arange(n)
    ranks = np.array([hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8] for i in ids], dtype="S8")
    return np.sort(np.argsort(ranks, kind="stable")[:max_docs])


def _vectorizer(config: TopicConfig, n_docs: int, permissive: bool = False) -> Any:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    if permissive:  # for corpora made only of stop words or very short tokens
        return CountVectorizer(token_pattern=r"(?u)\b\w+\b")
    stop = sorted(ENGLISH_STOP_WORDS.union(config.extra_stop_words))
    # bigrams make readable labels; on big corpora they only cost memory, so keep unigrams there
    ngrams = (1, 2) if n_docs <= 50_000 else (1, 1)
    return CountVectorizer(stop_words=stop, ngram_range=ngrams, token_pattern=r"(?u)\b[^\W\d_]{2,}\b")


def _choose_k(X: np.ndarray, seed: int) -> int:
    """KMeans k in [2, min(10, n // 5)] with the best cosine silhouette; 1 below 6 documents or when no
    split is better than a weak one."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = X.shape[0]
    if n < 6 or np.unique(X[:1000], axis=0).shape[0] < 3:
        return 1
    best_k, best_score = 1, 0.05  # a silhouette below this is no structure
    for k in range(2, max(2, min(10, n // 5)) + 1):
        labels = KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(X)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(X, labels, metric="cosine", sample_size=min(n, 2000), random_state=seed)
        if score > best_score + 1e-9:
            best_k, best_score = k, score
    return best_k


def _components(config: TopicConfig, embeddings: np.ndarray) -> tuple[Any, Any, str]:
    from bertopic.dimensionality import BaseDimensionalityReduction
    from hdbscan import HDBSCAN
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    n = embeddings.shape[0]
    if n < config.small_corpus:
        reducer: Any = (
            PCA(n_components=min(10, n - 1), random_state=config.seed) if n >= 10 else BaseDimensionalityReduction()
        )
        k = _choose_k(embeddings, config.seed)
        return reducer, KMeans(n_clusters=k, random_state=config.seed, n_init=10), "small"
    reducer = ExactKnnUMAP(
        seed=config.seed,
        n_neighbors=min(config.n_neighbors, n - 1),
        n_components=config.n_components,
        min_dist=0.0,
        metric="cosine",
    )
    size = config.cluster_size(n)
    clusterer = HDBSCAN(
        min_cluster_size=size,
        min_samples=config.min_samples,
        metric="euclidean",
        cluster_selection_method="eom",
        prediction_data=False,
        core_dist_n_jobs=1,
    )
    return reducer, clusterer, "bertopic"


def topic_centroids(topics: np.ndarray, embeddings: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Sorted topic ids (outliers first when present) and the mean embedding of each, as BERTopic keeps
    them in `topic_embeddings_`."""
    ids = sorted(set(int(t) for t in topics))
    return ids, np.stack([embeddings[topics == t].mean(axis=0) for t in ids])


def centroid_similarity(topics: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Cosine similarity of each document to its own topic's centroid, clipped to [0, 1]."""
    ids, centroids = topic_centroids(topics, embeddings)
    sims = unit_rows(embeddings) @ unit_rows(centroids).T
    col = np.searchsorted(np.array(ids), topics)
    return np.clip(sims[np.arange(len(topics)), col], 0.0, 1.0)


def topic_keywords(model: Any, config: TopicConfig) -> dict[int, list[str]]:
    """c-TF-IDF's top words per topic id."""
    return {int(t): [w for w, _ in (model.get_topic(t) or []) if w][: config.top_n_words] for t in model.topic_sizes_}


def topic_info(model: Any, config: TopicConfig, names: dict[int, TopicName] | None = None) -> pl.DataFrame:
    """One row per topic: id, label, keywords, size, phrases. The label is the topic's name (`names`, from
    `trustpulse.topics.labels.name_topics`) or, without names, its top keywords joined (benchmarks)."""
    rows, seen = [], set()
    keywords = topic_keywords(model, config)
    for topic_id, size in sorted(model.topic_sizes_.items()):
        words = keywords[int(topic_id)]
        name = (names or {}).get(int(topic_id))
        if topic_id == OUTLIER:
            label = OUTLIER_LABEL
        elif name is not None:
            label = name.label
        else:
            label = ", ".join(words[: config.label_words]) or "misc"
        if label in seen and name is not None:  # two topics named alike: a keyword tells them apart, never an id
            label = next((f"{label} ({w})" for w in words if f"{label} ({w})" not in seen), f"{label} (more)")
        elif label in seen:  # two topics with the same top words (e.g. one canned reply, two brands)
            label = f"{label} ({topic_id})"
        seen.add(label)
        phrases = list(name.phrases) if name is not None else []
        rows.append(
            {"topic_id": int(topic_id), "topic_label": label, "keywords": words, "size": int(size), "phrases": phrases}
        )
    return pl.DataFrame(rows, schema=TOPIC_INFO_SCHEMA, orient="row")


def packaged_encoder_embed(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of `texts` from the packaged encoder (loaded once per process)."""
    from trustpulse.embeddings import load_encoder

    return np.asarray(load_encoder().encode(list(texts)), dtype=np.float32)


def _bertopic(config: TopicConfig, reducer: Any, clusterer: Any, vectorizer: Any) -> Any:
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer

    return BERTopic(
        umap_model=reducer,
        hdbscan_model=clusterer,
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=config.top_n_words,
        nr_topics=config.nr_topics,
        calculate_probabilities=False,
        verbose=False,
    )


def _reassign_outliers(
    model: Any, texts: list[str], topics: np.ndarray, embeddings: np.ndarray, config: TopicConfig
) -> np.ndarray:
    """BERTopic's `reduce_outliers(strategy="embeddings")`, then c-TF-IDF and topic embeddings redone."""
    from bertopic.vectorizers import ClassTfidfTransformer

    if OUTLIER not in topics or len(set(topics.tolist())) < 2:
        return topics
    new = np.asarray(
        model.reduce_outliers(
            texts,
            topics.tolist(),
            strategy="embeddings",
            embeddings=embeddings,
            threshold=config.outlier_threshold,
        ),
        dtype=np.int64,
    )
    model.update_topics(
        texts,
        topics=new.tolist(),
        top_n_words=config.top_n_words,
        vectorizer_model=model.vectorizer_model,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
    )
    model.topic_embeddings_ = topic_centroids(new, embeddings)[1]
    return new


def fit_topics(
    texts: list[str],
    embeddings: np.ndarray,
    config: TopicConfig | None = None,
    embed: Callable[[Sequence[str]], np.ndarray] | None = None,
    label: bool = True,
) -> TopicFit:
    """Fit on `texts` with their precomputed `embeddings` (one row per text). Topics are named from their
    own mentions' phrases (`trustpulse.topics.labels`) with `embed` (default: the packaged encoder);
    `label=False` keeps c-TF-IDF keyword labels (benchmarks that only score the partition)."""
    config = config or TopicConfig()
    texts = list(texts)
    n = len(texts)
    if n == 0:
        return TopicFit(None, np.zeros(0, np.int64), np.zeros(0), pl.DataFrame(schema=TOPIC_INFO_SCHEMA), "empty")
    embeddings = np.asarray(embeddings, dtype=np.float32)
    raw_texts, texts = texts, [topic_input(t) for t in texts]  # keywords never name an account or a link
    reducer, clusterer, method = _components(config, embeddings)
    model = None
    for permissive in (False, True):
        candidate = _bertopic(config, reducer, clusterer, _vectorizer(config, n, permissive))
        try:
            topics, probs = candidate.fit_transform(texts, embeddings=embeddings)
        except ValueError as err:  # empty vocabulary: stop words only, or no words at all
            if "vocabulary" not in str(err):
                raise
            log.info("topic fit failed (%s); retrying with a permissive vectorizer", err)
            continue
        model = candidate
        break
    if model is None:
        topics = np.zeros(n, np.int64)
        info = pl.DataFrame(
            [{"topic_id": 0, "topic_label": DEGENERATE_LABEL, "keywords": [], "size": n, "phrases": []}],
            schema=TOPIC_INFO_SCHEMA,
            orient="row",
        )
        return TopicFit(None, topics, np.ones(n), info, "degenerate", {"n_docs": n})

    topics = np.asarray(topics, dtype=np.int64)
    if method == "bertopic" and (topics == OUTLIER).all():
        # HDBSCAN found no dense region at all: cluster as a small corpus would be, rather than
        # calling every mention an outlier
        log.info("HDBSCAN found no topic in %d documents; falling back to KMeans", n)
        return fit_topics(raw_texts, embeddings, replace(config, small_corpus=n + 1), embed, label)
    clustered = topics != OUTLIER  # placed by the clusterer itself
    n_outliers = int((~clustered).sum())
    if config.reduce_outliers and method == "bertopic":
        topics = _reassign_outliers(model, texts, topics, embeddings, config)
    else:
        model.topic_embeddings_ = topic_centroids(topics, embeddings)[1]
    # probability: HDBSCAN's membership strength where HDBSCAN placed the document, else the cosine
    # similarity to the topic's centroid (KMeans topics, reassigned outliers)
    probabilities = centroid_similarity(topics, embeddings)
    if method == "bertopic" and probs is not None:
        hdbscan_probs = np.asarray(probs, dtype=np.float64)
        if hdbscan_probs.shape == (n,):
            probabilities = np.where(clustered, hdbscan_probs, probabilities)
    stats = {
        "n_docs": n,
        "min_topic_size": config.cluster_size(n) if method == "bertopic" else None,
        "outliers_before_reduction": n_outliers,
        "outliers": int((topics == OUTLIER).sum()),
    }
    names = None
    if label:
        keywords = topic_keywords(model, config)
        names = name_topics(raw_texts, topics, embeddings, embed or packaged_encoder_embed, keywords, OUTLIER)
    return TopicFit(model, topics, probabilities, topic_info(model, config, names), method, stats)
