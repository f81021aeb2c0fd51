"""Topics: tiny corpora, determinism, the saved model, the taxonomy, the embedding cache, trends, assets.

Corpora are generated here (three themes written from templates); the packaged encoder is used for real
(offline), each text encoded once per test session.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import numpy as np
import plotly.graph_objects as go
import polars as pl
import pytest

from assets.resources import TopicsResource
from assets.topics import TOPIC_ASSETS
from trustpulse.embeddings import Embedder, EmbeddingCache, load_encoder, text_key
from trustpulse.report import figures
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import table_path, write_parquet_atomic
from trustpulse.tables import MENTION_TOPICS_SCHEMA, TREND_SCHEMA
from trustpulse.topics import (
    DEFAULT_TAXONOMY,
    TopicConfig,
    TopicFit,
    assign_topics,
    fit_sample,
    fit_topics,
    load_topics,
    map_taxonomy,
    save_topics,
    topic_input,
    topic_trends,
)
from trustpulse.topics.labels import _stop_words, handle_words, name_topics, phrases_of
from trustpulse.topics.model import ExactKnnUMAP, exact_knn
from trustpulse.topics.vectors import unit_rows

THEMES = {
    "pricing": [
        "the monthly price went up again to ${n}, way too expensive",
        "charged twice for my order #{n}, still waiting for the refund",
        "not worth the money at ${n} a month, cancelling my plan",
        "why is the premium plan ${n} now? the price hike is ridiculous",
        "they charged me a ${n} fee and refused to refund it",
    ],
    "app": [
        "the app crashes every time I open the settings screen on version {n}",
        "after update {n} the app freezes on the login screen",
        "the android app keeps crashing when I upload a photo, bug since version {n}",
        "app stuck on a blank loading screen again, reinstalled {n} times",
        "login screen crashes the app on my phone, error code {n}",
    ],
    "baking": [
        "baked sourdough bread with {n} grams of rye flour this morning",
        "my banana cake recipe needs {n} minutes in the oven at 180 degrees",
        "kneading the bread dough for {n} minutes makes a better crumb",
        "chocolate chip cookies with {n} grams of butter and brown sugar",
        "proofing the pizza dough overnight, {n} hours in the fridge",
    ],
}
SMALL_BERTOPIC = TopicConfig(small_corpus=20, min_topic_size=5, min_topic_share=0.0)


def corpus(per_theme: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, themes = [], []
    for i in range(per_theme):
        for theme, templates in THEMES.items():
            texts.append(templates[i % len(templates)].format(n=rng.randint(2, 999)))
            themes.append(theme)
    return texts, themes


class CountingEncoder:
    """The real encoder, counting what it is asked to encode."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, sentences: list[str], **kwargs: object) -> np.ndarray:
        self.calls.append(len(sentences))
        return load_encoder().encode(sentences, **kwargs)


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    return Embedder(cache=EmbeddingCache(tmp_path_factory.mktemp("emb")))


def purity(topics: np.ndarray, themes: list[str]) -> float:
    """Share of documents in their topic's majority theme."""
    frame = pl.DataFrame({"topic": topics, "theme": themes})
    majority = frame.group_by("topic", "theme").len().group_by("topic").agg(pl.col("len").max())
    return majority["len"].sum() / len(themes)


# ---- tiny corpora ---------------------------------------------------------------------------------


def test_empty_corpus_gives_empty_result() -> None:
    fit = fit_topics([], np.zeros((0, 384), np.float32))
    assert fit.method == "empty" and fit.info.height == 0 and len(fit.topics) == 0


def test_one_mention(embedder: Embedder, tmp_path: Path) -> None:
    texts = ["the app crashes when I log in"]
    fit = fit_topics(texts, embedder.embed(texts))
    assert fit.topics.tolist() == [0] and fit.n_topics == 1
    save_topics(fit, texts, tmp_path, TopicConfig())
    saved = load_topics(tmp_path)
    assert saved is not None
    other = ["a completely different sentence"]
    assert assign_topics(saved, other, embedder.embed(other))["topic_id"].to_list() == [0]


def test_stop_words_only_does_not_crash(embedder: Embedder) -> None:
    texts = ["the and of", "it is", "a an the"]
    fit = fit_topics(texts, embedder.embed(texts))
    assert len(fit.topics) == 3


def test_twenty_mentions_find_the_themes(embedder: Embedder) -> None:
    texts, themes = corpus(7)
    texts, themes = texts[:20], themes[:20]
    fit = fit_topics(texts, embedder.embed(texts))
    assert fit.method == "small"
    assert 2 <= fit.n_topics <= 4
    assert (fit.topics >= 0).all()
    assert purity(fit.topics, themes) >= 0.9
    assert fit.info["topic_label"].str.len_chars().min() > 0


# ---- determinism and the saved model ---------------------------------------------------------------


@pytest.fixture(scope="module")
def umap_fit(embedder: Embedder) -> tuple[list[str], list[str], TopicFit]:
    """UMAP + HDBSCAN on 60 mentions (the small-corpus switch lowered), fitted once for the module."""
    texts, themes = corpus(20)
    return texts, themes, fit_topics(texts, embedder.embed(texts), SMALL_BERTOPIC)


def majority_theme(topics: np.ndarray, themes: list[str]) -> dict[int, str]:
    frame = pl.DataFrame({"topic": topics, "theme": themes})
    top = frame.group_by("topic", "theme").len().sort("len", "theme", descending=True)
    return dict(top.unique("topic", keep="first").select("topic", "theme").iter_rows())


def test_same_input_same_topics(embedder: Embedder, umap_fit: tuple[list[str], list[str], TopicFit]) -> None:
    texts, themes, first = umap_fit
    second = fit_topics(texts, embedder.embed(texts), SMALL_BERTOPIC)
    assert first.method == second.method == "bertopic"
    assert first.topics.tolist() == second.topics.tolist()
    assert first.info.equals(second.info)
    assert purity(first.topics, themes) >= 0.9
    small = [fit_topics(texts, embedder.embed(texts)) for _ in range(2)]
    assert small[0].method == "small" and small[0].topics.tolist() == small[1].topics.tolist()
    assert purity(small[0].topics, themes) >= 0.9


def test_saved_model_assigns_new_mentions(
    embedder: Embedder, tmp_path: Path, umap_fit: tuple[list[str], list[str], TopicFit]
) -> None:
    texts, themes, fit = umap_fit
    assert (fit.topics >= 0).all()  # outliers reassigned
    version = save_topics(fit, texts, tmp_path, SMALL_BERTOPIC)
    assert (version / "bertopic" / "topic_embeddings.safetensors").is_file()
    saved = load_topics(tmp_path)
    assert saved is not None and saved.manifest["method"] == "bertopic"

    # the texts it was fitted on keep their topics
    again = assign_topics(saved, texts, embedder.embed(texts))
    assert again["topic_id"].to_list() == fit.topics.tolist()
    assert set(again["assigned"]) == {"fitted"}

    # new texts go to a topic of their theme
    new_texts, new_themes = corpus(5, seed=99)
    new_texts = [f"{t} today" for t in new_texts]
    new = assign_topics(saved, new_texts, embedder.embed(new_texts))
    assert set(new["assigned"]) == {"nearest"}
    theme_of = majority_theme(fit.topics, themes)
    hits = sum(theme_of[got] == t for t, got in zip(new_themes, new["topic_id"], strict=True))
    assert hits / len(new_themes) >= 0.9
    # and a loaded model assigns the same way every time, from a vector per text or per distinct text
    assert assign_topics(saved, new_texts, embedder.embed(new_texts)).equals(new)
    vectors, rows = embedder.embed_distinct([*new_texts, *new_texts])
    assert assign_topics(saved, [*new_texts, *new_texts], vectors, rows).equals(pl.concat([new, new]))


# ---- taxonomy --------------------------------------------------------------------------------------


def test_taxonomy_maps_zero_shot(embedder: Embedder) -> None:
    texts = [
        "I want a refund, the prices are far too high for what you get",
        "customer support never answered my complaint, three days on hold",
        "the new CEO and the management treat their employees badly",
        "they hid the data breach and lied to customers about it",
    ]
    mapped = map_taxonomy(embedder.embed(texts), DEFAULT_TAXONOMY, embedder.embed)
    assert mapped["taxonomy_label"].to_list() == [
        "pricing and value",
        "customer service",
        "leadership and culture",
        "trust and transparency",
    ]
    assert mapped["taxonomy_score"].is_between(-1, 1).all()
    high = map_taxonomy(embedder.embed(texts), DEFAULT_TAXONOMY, embedder.embed, min_score=0.99)
    assert high["taxonomy_label"].null_count() == len(texts)


# ---- embedding cache -------------------------------------------------------------------------------


def test_embedding_cache_encodes_each_text_once(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    texts = ["refund please", "app crashed", "refund please", "sourdough bread"]
    first = Embedder(encoder=encoder, cache=EmbeddingCache(tmp_path))
    X = first.embed(texts)
    assert encoder.calls == [3] and X.shape == (4, 384)
    assert np.array_equal(X[0], X[2])
    # a later process (a new Embedder on the same directory) encodes nothing
    second = Embedder(encoder=encoder, cache=EmbeddingCache(tmp_path))
    assert np.array_equal(second.embed(texts), X)
    assert encoder.calls == [3] and second.n_encoded == 0 and second.n_cached == 3
    progress: list[tuple[int, int]] = []
    second.embed([*texts, "new text"], on_progress=lambda *a: progress.append(a))
    assert encoder.calls == [3, 1] and progress == [(1, 1)]
    assert len(EmbeddingCache(tmp_path)) == 4
    assert text_key("a") != text_key("b")


def test_topic_input_masks_accounts_links_and_numbers(tmp_path: Path) -> None:
    assert topic_input("@NorthwindAir lost my bag on flight 790, see https://t.co/x1") == (
        "@user lost my bag on flight 0, see http"
    )
    assert topic_input("no digits here") == "no digits here"
    encoder = CountingEncoder()
    embedder = Embedder(encoder=encoder, cache=EmbeddingCache(tmp_path), prepare=topic_input)
    texts = ["@ana order 123 never came", "@bo order 98 never came", "my refund is late"]
    X = embedder.embed(texts)
    assert encoder.calls == [2] and X.shape == (3, 384)  # the two order texts are one encoder input
    assert np.array_equal(X[0], X[1]) and not np.array_equal(X[0], X[2])
    assert embedder.n_encoded == 2
    # without a row per repeat: one vector per distinct input, and each text's row
    vectors, rows = embedder.embed_distinct([*texts, texts[2]])
    assert vectors.shape == (2, 384) and rows.tolist() == [0, 0, 1, 1]
    assert np.array_equal(vectors[rows[:3]], X) and encoder.calls == [2]


# ---- trends ----------------------------------------------------------------------------------------


def _trend_inputs() -> tuple[pl.DataFrame, pl.DataFrame]:
    start = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday
    rows = []
    # topic 0 steady (20 a week), topic 1 jumps from 2 to 30 in week 2, one undated mention
    for week, (steady, jumpy) in enumerate([(20, 2), (20, 30)]):
        for i in range(steady + jumpy):
            rows.append(
                {
                    "mention_id": f"w{week}-{i}",
                    "topic_id": 0 if i < steady else 1,
                    "topic_label": "steady" if i < steady else "jumpy",
                    "created_at": start + timedelta(days=7 * week, hours=i),
                }
            )
    rows.append({"mention_id": "undated", "topic_id": 0, "topic_label": "steady", "created_at": None})
    frame = pl.DataFrame(rows, schema_overrides={"created_at": pl.Datetime("us", "UTC")})
    return frame.select("mention_id", "topic_id", "topic_label"), frame.select("mention_id", "created_at")


def test_trends_flag_rising_topics_without_sentiment() -> None:
    topics, mentions = _trend_inputs()
    trends = topic_trends(topics, mentions)
    assert trends.schema == pl.Schema(TREND_SCHEMA)
    assert trends.height == 4 and trends["mentions"].sum() == 72  # undated left out
    week2 = trends.filter(pl.col("period_start") == pl.col("period_start").max())
    assert week2.filter(pl.col("topic_id") == 1)["rising"].item() is True
    assert week2.filter(pl.col("topic_id") == 0)["rising"].item() is False
    assert week2.filter(pl.col("topic_id") == 1)["growth"].item() == pytest.approx(14.0)
    assert trends["net_sentiment"].null_count() == 4 and trends["n_negative"].null_count() == 4


def test_trends_with_sentiment_mix() -> None:
    topics, mentions = _trend_inputs()
    sentiment = topics.select(
        "mention_id",
        label=pl.when(pl.col("topic_id") == 1).then(pl.lit("negative")).otherwise(pl.lit("positive")),
    )
    trends = topic_trends(topics, mentions, sentiment, period="month")
    jumpy = trends.filter(pl.col("topic_id") == 1).row(0, named=True)
    assert jumpy["n_negative"] == 32 and jumpy["net_sentiment"] == -1.0
    assert topic_trends(topics.head(0), mentions).height == 0


# ---- Dagster assets --------------------------------------------------------------------------------


def _write_mentions(root: Path, texts: list[str], dump_keys: list[str] | None = None) -> None:
    """The published mentions: `texts`, from one dump unless `dump_keys` says which dump each comes from."""
    start = datetime(2026, 10, 5, tzinfo=UTC)
    df = pl.DataFrame(
        {
            "mention_id": pl.Series([f"m{i}" for i in range(len(texts))], dtype=pl.String),
            "dump_key": pl.Series(dump_keys or ["dump-1"] * len(texts), dtype=pl.String),
            "text": pl.Series(texts, dtype=pl.String),
            "created_at": [start + timedelta(hours=7 * i) for i in range(len(texts))],
            "brand": [["Acme"]] * len(texts),
            "is_owner": [False] * len(texts),
            "platform": pl.Series(["twitter"] * len(texts), dtype=pl.String),
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC"), "brand": pl.List(pl.String)},
    )
    settings = TrustpulseSettings(data_root=str(root))
    write_parquet_atomic(df, table_path(settings.warehouse_dir, "mentions"))


def _materialise(root: Path, **topics_config: object) -> dict[str, dict]:
    result = dg.materialize(
        TOPIC_ASSETS,
        resources={
            "settings": TrustpulseSettings(data_root=str(root)),
            "topics": TopicsResource(**topics_config),
        },
    )
    assert result.success
    return {
        ev.asset_key.to_user_string(): {k: getattr(v, "value", v) for k, v in ev.materialization.metadata.items()}
        for ev in result.get_asset_materialization_events()
    }


def test_assets_materialise_assign_and_refit(tmp_path: Path, embedder: Embedder) -> None:
    texts, _ = corpus(10)
    _write_mentions(tmp_path, texts)
    meta = _materialise(tmp_path)
    version = meta["topic_model"]["model_version"]
    wh = tmp_path / "warehouse"
    mention_topics = pl.read_parquet(wh / "mention_topics.parquet")
    assert mention_topics.schema == pl.Schema(MENTION_TOPICS_SCHEMA)
    assert mention_topics.height == 30 and mention_topics["topic_label"].null_count() == 0
    trends = pl.read_parquet(wh / "topic_trends.parquet")
    assert trends["mentions"].sum() == 30 and trends["net_sentiment"].null_count() == trends.height
    assert (tmp_path / "cache" / "embeddings").is_dir()

    # a new dump is assigned to the saved model, nothing already seen is encoded again, and the first dump's
    # assignment is kept as it was
    first_dump = wh / "partitions" / "mention_topics" / "dump-1.parquet"
    first_bytes = first_dump.read_bytes()
    more, _ = corpus(12, seed=5)
    words = ["again", "still", "today", "honestly", "twice", "now"]  # new words: new encoder inputs
    new = [f"{text} {word}" for text, word in zip(more[30:], words, strict=True)]
    _write_mentions(tmp_path, texts + new, ["dump-1"] * len(texts) + ["dump-2"] * len(new))
    meta = _materialise(tmp_path)
    assert meta["topic_model"]["model_version"] == version
    assert meta["mention_topics"]["assigned_to_saved_model"] == 6
    assert meta["mention_topics"]["texts_encoded"] == 6
    assert meta["mention_topics"]["dumps_assigned"] == ["dump-2"] and first_dump.read_bytes() == first_bytes

    # refitting is explicit
    meta = _materialise(tmp_path, refit=True)
    assert meta["topic_model"]["model_version"] != version
    assert meta["mention_topics"]["assigned_to_saved_model"] == 0


def test_fit_sample_is_uniform_and_order_free() -> None:
    ids = [f"m{i}" for i in range(5000)]
    sample = fit_sample(ids, 1000, seed=42)
    assert len(sample) == 1000 and list(sample) == sorted(set(sample.tolist()))
    shuffled = ids[::-1]
    assert sorted(shuffled[i] for i in fit_sample(shuffled, 1000, seed=42)) == sorted(ids[i] for i in sample)
    assert 150 < int((sample < 1000).sum()) < 250  # about a fifth of the first fifth: no bias to row order
    assert set(fit_sample(ids, 1000, seed=7).tolist()) != set(sample.tolist())
    assert fit_sample(ids[:10], 1000, seed=42).tolist() == list(range(10))


def test_assets_fit_on_a_sample_and_assign_the_rest(tmp_path: Path, embedder: Embedder) -> None:
    texts, themes = corpus(10)
    _write_mentions(tmp_path, texts)
    meta = _materialise(tmp_path, fit_sample=20)
    assert meta["topic_model"]["fitted_on"] == 20
    mention_topics = pl.read_parquet(tmp_path / "warehouse" / "mention_topics.parquet")
    assert mention_topics.height == 30 and mention_topics["topic_id"].null_count() == 0
    assert (mention_topics["assigned"] == "fitted").sum() == 20
    assert meta["mention_topics"]["assigned_to_saved_model"] == 10
    assert purity(mention_topics["topic_id"].to_numpy(), themes) >= 0.9  # the rest land with their theme


def test_assets_on_no_mentions(tmp_path: Path) -> None:
    _write_mentions(tmp_path, [])
    meta = _materialise(tmp_path)
    assert meta["topic_model"]["method"] == "empty"
    assert pl.read_parquet(tmp_path / "warehouse" / "mention_topics.parquet").height == 0
    assert pl.read_parquet(tmp_path / "warehouse" / "topic_trends.parquet").height == 0


def test_umap_lays_out_repeated_rows_once() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    X = np.vstack([c + 0.05 * rng.normal(size=(40, 16)) for c in centres]).astype(np.float32)
    with_repeats = np.vstack([X, np.repeat(X[:1], 30, axis=0)])  # one text 30 times: more than n_neighbors

    def layout(rows: np.ndarray) -> np.ndarray:
        umap = ExactKnnUMAP(seed=1, n_neighbors=15, n_components=2, min_dist=0.0, metric="cosine")
        return umap.fit_transform(rows)

    repeated = layout(with_repeats)
    assert np.array_equal(repeated[120:], np.repeat(repeated[:1], 30, axis=0))
    assert np.array_equal(repeated[:120], layout(X))  # the repeats do not change the graph


def test_exact_knn_is_the_brute_force_cosine_graph() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((500, 16)).astype(np.float32)
    X[7] = X[8] = X[9]  # identical texts: each row still lists itself first
    indices, distances = exact_knn(X, 5, chunk=64)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    sims = unit @ unit.T
    assert indices.shape == distances.shape == (500, 5)
    assert (indices[:, 0] == np.arange(500)).all() and (distances[:, 0] == 0).all()
    for row in range(500):
        others = np.delete(np.arange(500), row)
        best = others[np.argsort(-sims[row, others], kind="stable")[:4]]
        np.testing.assert_allclose(np.sort(sims[row, indices[row, 1:]]), np.sort(sims[row, best]), atol=1e-6)
    assert set(indices[7, :3]) == {7, 8, 9} and np.allclose(distances[7, :3], 0, atol=1e-6)
    assert (np.diff(distances, axis=1) >= -1e-6).all()
    again, _ = exact_knn(X, 5, chunk=500)
    assert np.array_equal(indices, again)  # the chunking does not change the graph


def test_unit_rows_scales_rows_to_unit_length_and_keeps_zero_rows_and_dtype() -> None:
    X = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, -2.0]], dtype=np.float32)
    unit = unit_rows(X)
    assert unit.dtype == np.float32
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0.0, 0.0], [0.0, -1.0]])
    assert unit_rows(X.astype(np.float64)).dtype == np.float64


# ---- names an executive can read (issue 17) --------------------------------------------------------

HANDLE_CORPUS = [
    *[f"@NorthwindAir my refund for order {n} is still pending, https://t.co/a{n}" for n in range(101, 113)],
    *[f"@LumenMobile the eSIM transfer failed again on my phone {n}" for n in range(201, 213)],
    *[f"@BrightCart my groceries showed up {n} minutes late, delivery slot missed" for n in range(301, 313)],
]
URL_OR_NUMBER = r"https?://|www\.|\d"


def test_labels_are_short_phrases_without_handles_links_or_numbers(embedder: Embedder) -> None:
    prepared = Embedder(cache=embedder.cache, prepare=topic_input)
    fit = fit_topics(HANDLE_CORPUS, prepared.embed(HANDLE_CORPUS), embed=prepared.embed)
    labels = fit.info.filter(pl.col("topic_id") != -1)["topic_label"].to_list()
    assert len(labels) == 3 and len(set(labels)) == 3
    for label in labels:
        assert 2 <= len(label.split()) <= 6, label
        assert "@" not in label and not re.search(URL_OR_NUMBER, label), label
        # the accounts are named only as @handles: their names never reach a label
        assert not {"northwindair", "lumenmobile", "brightcart"} & set(label.lower().split()), label
    by_theme = {label.lower() for label in labels}
    assert any("refund" in x for x in by_theme) and any("esim" in x or "transfer" in x for x in by_theme)
    assert any("delivery" in x or "groceries" in x or "slot" in x for x in by_theme)
    for keywords in fit.info["keywords"].to_list():  # c-TF-IDF reads masked texts too
        assert not {"northwindair", "lumenmobile", "brightcart", "https", "co"} & set(keywords)


def test_phrases_never_hold_a_handle_link_number_or_only_stop_words() -> None:
    stop = _stop_words()
    banned = handle_words(["@acme hi", "@bob ok"])
    found = phrases_of("@acme Acme lost my bag on flight 790, see https://t.co/x1 thanks! the and of", stop, banned)
    assert "lost my bag" in found and "flight" not in found
    for key, (surface, _) in found.items():
        words = key.split()
        assert 2 <= len(words) <= 6 and not re.search(URL_OR_NUMBER, surface)
        assert "acme" not in words and not set(words) <= stop, key
    assert phrases_of("Thank you so much", stop, banned) == {}  # stop words and fillers only


def test_naming_is_deterministic(embedder: Embedder) -> None:
    prepared = Embedder(cache=embedder.cache, prepare=topic_input)
    X = prepared.embed(HANDLE_CORPUS)
    topics = np.repeat([0, 1, 2], 12)
    first = name_topics(HANDLE_CORPUS, topics, X, prepared.embed)
    assert first == name_topics(HANDLE_CORPUS, topics, X, prepared.embed)
    runs = [fit_topics(HANDLE_CORPUS, X, embed=prepared.embed) for _ in range(2)]
    assert runs[0].topics.tolist() == runs[1].topics.tolist() and runs[0].info.equals(runs[1].info)


def test_every_mention_is_placed(tmp_path: Path, embedder: Embedder) -> None:
    """Every kept mention has a row in mention_topics, outliers (-1) kept where the configuration keeps them."""
    texts, _ = corpus(80)
    texts += ["completely unrelated: the orchestra played a late symphony", "quantum field theory lecture notes"]
    _write_mentions(tmp_path, texts)
    _materialise(tmp_path, refit=True, reduce_outliers=False, min_topic_share=0.0, min_topic_size=5)
    mentions = pl.read_parquet(tmp_path / "warehouse" / "mentions.parquet")
    placed = pl.read_parquet(tmp_path / "warehouse" / "mention_topics.parquet")
    assert placed.height == mentions.height == 242
    assert sorted(placed["mention_id"].to_list()) == sorted(mentions["mention_id"].to_list())
    assert placed["topic_id"].null_count() == 0 and placed["topic_label"].null_count() == 0
    assert placed.filter(pl.col("topic_id") == -1)["topic_label"].unique().to_list() in ([], ["outliers"])
    # each mention carries its topic's taxonomy entry (null where none fits the topic's centre)
    topics = pl.read_parquet(tmp_path / "warehouse" / "topics.parquet").select("topic_id", expected="taxonomy_label")
    joined = placed.join(topics, on="topic_id", how="left")
    assert joined["topic_taxonomy_label"].eq_missing(joined["expected"]).all()


def _report_stub(topics: pl.DataFrame, min_n: int = 5) -> SimpleNamespace:
    period = SimpleNamespace(title="week of 5 Oct 2026", label="2026-10-05", grain="week")
    return SimpleNamespace(topics=topics, min_n=min_n, period=period, in_period=lambda df, label=None: df)


def _topic_rows(sizes: dict[int, int]) -> pl.DataFrame:
    rows = []
    for topic, n in sizes.items():
        for i in range(n):
            label = "negative" if i % 3 == 0 else "positive"
            rows.append(
                {
                    "mention_id": f"{topic}-{i}",
                    "topic_id": topic,
                    "topic_label": f"Topic {chr(65 + topic)} name",
                    "label": label,
                    "taxonomy_label": "customer service",
                    "period": "2026-10-05",
                }
            )
    return pl.DataFrame(rows)


def test_small_data_gets_a_sentence_not_one_bubble() -> None:
    one_topic = figures.topic_map(_report_stub(_topic_rows({0: 36})))[0]
    assert isinstance(one_topic, str) and "No topic map" in one_topic and "Topic A name" in one_topic
    too_few = figures.topic_map(_report_stub(_topic_rows({0: 30, 1: 4, 2: 3})))[0]  # one topic with 5+ scored
    assert isinstance(too_few, str) and "3 topics" in too_few and "1 of them has" in too_few
    chart, _ = figures.topic_map(_report_stub(_topic_rows({0: 30, 1: 9})))
    assert isinstance(chart, go.Figure)
    trace = chart.data[0]
    assert list(trace.y) == ["Topic B name · customer service", "Topic A name · customer service"]
    # share negative: 10 of 30 (i % 3 == 0) and 3 of 9; Wilson 95% of 10/30 is 19.2%..51.2% (by hand)
    assert list(trace.x) == pytest.approx([100 * 3 / 9, 100 * 10 / 30])
    assert trace.x[1] - trace.error_x.arrayminus[1] == pytest.approx(19.23, abs=0.01)
    assert trace.x[1] + trace.error_x.array[1] == pytest.approx(51.22, abs=0.01)
