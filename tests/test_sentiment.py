"""Tests for trustpulse.sentiment (no network, no development data; tiny models where possible)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

torch = pytest.importorskip("torch")

from tests.conftest import save_tiny_classifier  # noqa: E402
from trustpulse.sentiment.cache import SentimentCache, cache_key, score_with_cache  # noqa: E402
from trustpulse.sentiment.model import (  # noqa: E402
    DEFAULT_CLASSIFIER_DIR,
    LABELS,
    ModelIntegrityError,
    ModelLoadError,
    SentimentModel,
    base_model_dir,
    load_tokenizer,
    verify_base,
)
from trustpulse.sentiment.windows import make_windows, model_input_text, pool_windows, sentence_starts  # noqa: E402

COLUMNS = ["label", "p_negative", "p_neutral", "p_positive", "score"]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BertForSequenceClassification with opaque LABEL_i names + the packaged tokenizer; the classes
    made clearly distinct so that a permutation shows up in the outputs."""
    d = save_tiny_classifier(tmp_path_factory.mktemp("tiny-bert"), seed=0, classifier_bias=(2.0, 0.0, -2.0))
    return d


TINY_MAP = {"LABEL_0": "positive", "LABEL_1": "negative", "LABEL_2": "neutral"}


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path) -> SentimentModel:
    return SentimentModel.load(str(tiny_model_dir), label_map=TINY_MAP, num_threads=1)


# ------------------------------------------------------------------ loading + checksum
def test_base_checksum_ok() -> None:
    assert verify_base() == base_model_dir()


def test_corrupted_base_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "base"
    bad.mkdir()
    for f in base_model_dir().iterdir():
        if f.is_file() and f.name != "model.safetensors":
            (bad / f.name).symlink_to(f)
    data = bytearray((base_model_dir() / "model.safetensors").read_bytes()[:4096])
    data[-1] ^= 0xFF
    (bad / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="checksum mismatch"):
        SentimentModel.load(base_dir=bad, num_threads=1)
    (bad / "model.safetensors").unlink()
    with pytest.raises(ModelIntegrityError, match="missing"):
        verify_base(bad)


def test_the_classifier_ships_inside_the_package() -> None:
    """The default model's weights are package data (an installed trustpulse needs no repository checkout)."""
    import trustpulse

    package_dir = Path(trustpulse.__file__).parent
    assert DEFAULT_CLASSIFIER_DIR.is_relative_to(package_dir)
    names = ("classifier.safetensors", "classifier.json", "training.json", "MODEL_CARD.md")
    short = ("classifier.safetensors", "classifier.2.safetensors", "classifier.json")
    for name in (*names, *(f"short_windows/{n}" for n in short)):
        assert (DEFAULT_CLASSIFIER_DIR / name).is_file(), name


def test_weights_are_saved_in_shards_under_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkpoint over ``MAX_SHARD_BYTES`` is saved in shards (no file the repository cannot keep), read back
    whole, hashed whole (a change in any shard changes the model id), and a smaller re-save leaves no stale shard;
    the packaged files are all under the 15 MB limit."""
    import torch

    from trustpulse.sentiment import checkpoint
    from trustpulse.sentiment.model import _checkpoint_sha256

    monkeypatch.setattr(checkpoint, "MAX_SHARD_BYTES", 1000)
    state = {f"t{i}": torch.full((100,), float(i), dtype=torch.float16) for i in range(7)}  # 200 bytes each
    checkpoint.save_weights(state, tmp_path)
    (tmp_path / checkpoint.CONFIG_FILE).write_text("{}")
    shards = checkpoint.weight_files(tmp_path)
    assert [p.name for p in shards] == ["classifier.safetensors", "classifier.2.safetensors"]
    from safetensors.torch import load_file

    read = {k: v for shard in shards for k, v in load_file(str(shard)).items()}
    assert read.keys() == state.keys() and all(torch.equal(read[k], state[k]) for k in state)
    before = _checkpoint_sha256(tmp_path)
    checkpoint.save_weights(state | {"t6": torch.zeros(100, dtype=torch.float16)}, tmp_path)  # only shard 2 differs
    assert _checkpoint_sha256(tmp_path) != before
    checkpoint.save_weights({"t0": state["t0"]}, tmp_path)
    assert [p.name for p in checkpoint.weight_files(tmp_path)] == ["classifier.safetensors"]
    assert not (tmp_path / "classifier.2.safetensors").exists()
    assert all(p.stat().st_size < 15 * 2**20 for p in DEFAULT_CLASSIFIER_DIR.rglob("*") if p.is_file())


def test_default_model_scores() -> None:
    m = SentimentModel.load(num_threads=1)
    assert m.model_id.startswith("trustpulse-minilm-sentiment@")
    texts = [
        "I love this phone, the battery is amazing!",
        "Worst customer service ever. I hate them.",
        "",
        "The store opens at 9am on Monday.",
    ]
    df = m.score_texts(texts)
    assert df.columns == COLUMNS and df.height == 4
    assert df["label"].to_list()[:3] == ["positive", "negative", "neutral"]
    probs = df.select("p_negative", "p_neutral", "p_positive").to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(df["score"].to_numpy(), probs[:, 2] - probs[:, 0])


# ---------------------------------------------------------------------- label mapping
def test_label_map_for_custom_model(tiny_model_dir: Path, tiny: SentimentModel) -> None:
    from transformers import AutoModelForSequenceClassification

    with pytest.raises(ModelLoadError, match="not recognisable"):
        SentimentModel.load(str(tiny_model_dir), num_threads=1)
    with pytest.raises(ModelLoadError, match="no entry"):
        SentimentModel.load(str(tiny_model_dir), label_map={"LABEL_0": "positive"}, num_threads=1)
    assert tiny.model_id == str(tiny_model_dir)

    text = "the delivery was late again"
    df = tiny.score_texts([text])
    raw_model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    tok = load_tokenizer(tiny_model_dir)
    with torch.no_grad():
        logits = raw_model(**tok([model_input_text(text)], return_tensors="pt")).logits
        raw = torch.softmax(logits, -1)[0].numpy()
    # LABEL_0 -> positive, LABEL_1 -> negative, LABEL_2 -> neutral
    np.testing.assert_allclose(df.row(0)[1:4], (raw[1], raw[2], raw[0]), atol=1e-5)
    assert df["label"][0] == "positive"  # bias +2 on LABEL_0


def test_unknown_hub_model_offline_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match=r"no-such-org/no-such-model.*HF_HUB_OFFLINE=1"):
        SentimentModel.load("no-such-org/no-such-model", num_threads=1)


# ------------------------------------------------------------------- windows + pooling
def test_make_windows_respects_sentences_and_limit() -> None:
    # Three sentences of 4, 5 and 12 tokens; the last exceeds the limit of 6 and is split by tokens.
    ids = list(range(21))
    starts = [0, 1, 2, 3, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]
    windows = make_windows(ids, starts, [0, 10, 20], max_content=6)
    assert windows == [[0, 1, 2, 3], [4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14], [15, 16, 17, 18, 19, 20]]
    assert make_windows(ids, starts, [0, 10, 20], max_content=10) == [list(range(9)), list(range(9, 19)), [19, 20]]
    assert sentence_starts("One. Two! Three?\nFour") == [0, 5, 10, 17]


def test_pool_weights_by_window_length() -> None:
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    out = pool_windows(probs, owner=[0, 0, 1], weights=[30, 10, 5], n_texts=3)
    np.testing.assert_allclose(out[0], [0.75, 0.0, 0.25])
    np.testing.assert_allclose(out[1], [0.0, 1.0, 0.0])
    assert np.isnan(out[2]).all()


def test_long_text_windows_and_pooling(tiny: SentimentModel, monkeypatch: pytest.MonkeyPatch) -> None:
    text = " ".join(f"Sentence number {i} talks about the brand and its service." for i in range(60))
    windows, owner, weights, empty = tiny._windows([text, "short one"])
    assert not empty.any()
    assert len(windows) > 2 and max(len(w) for w in windows) <= 128
    assert owner == [0] * (len(windows) - 1) + [1]
    assert all(w == len(win) - 2 for w, win in zip(weights, windows, strict=True))  # [CLS] .. [SEP]
    n_content = len(tiny.tokenizer(model_input_text(text), add_special_tokens=False)["input_ids"])
    assert sum(weights[:-1]) == n_content  # nothing truncated

    # Pooled output = length-weighted mean of the window probabilities.
    seen: dict[str, np.ndarray] = {}
    real_forward = tiny._forward

    def spy(ws: list[list[int]], batch_size: int, progress: bool) -> np.ndarray:
        seen["p"] = real_forward(ws, batch_size, progress)
        return seen["p"]

    monkeypatch.setattr(tiny, "_forward", spy)
    df = tiny.score_texts([text, "short one"], batch_size=4)
    canon = seen["p"] @ tiny.label_matrix
    w = np.array(weights[:-1], dtype=float)
    expected = (canon[:-1] * w[:, None]).sum(0) / w.sum()
    np.testing.assert_allclose(df.row(0)[1:4], expected, atol=1e-6)


# ------------------------------------------------------------------------- bad input
def test_bad_input_does_not_crash(tiny: SentimentModel) -> None:
    broken = b"caf\xc3\xa9 \xff\xfe bad bytes \xed\xa0\x80".decode("utf-8", errors="surrogateescape")
    huge = "Great product. " * 6667  # 100,005 characters
    no_spaces = "x" * 100_000
    texts = ["", "   \n\t ", broken, huge, no_spaces, "fine"]
    df = tiny.score_texts(texts, batch_size=32)
    assert df.columns == COLUMNS and df.height == len(texts)
    assert df.row(0) == ("neutral", 0.0, 1.0, 0.0, 0.0)
    assert df.row(1) == ("neutral", 0.0, 1.0, 0.0, 0.0)
    probs = df.select("p_negative", "p_neutral", "p_positive").to_numpy()
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    assert tiny.score_texts([]).columns == COLUMNS


# ------------------------------------------------------------------------------ cache
class CountingScorer:
    """A real model that records the texts of each call."""

    def __init__(self, model: SentimentModel) -> None:
        self.model = model
        self.model_id = model.model_id
        self.calls: list[list[str]] = []

    def score_texts(self, texts, batch_size=64, progress=False):
        self.calls.append(list(texts))
        return self.model.score_texts(texts, batch_size=batch_size, progress=progress)

    @property
    def sizes(self) -> list[int]:
        return [len(c) for c in self.calls]


def test_cache_scores_only_new_texts(tiny: SentimentModel, tmp_path: Path) -> None:
    counting = CountingScorer(tiny)
    path = tmp_path / "cache" / "sentiment"
    texts = ["good", "bad", "good", "meh"]
    progress: list[tuple[int, int]] = []
    first = score_with_cache(
        counting, texts, SentimentCache(path), chunk_size=2, on_progress=lambda *a: progress.append(a)
    )
    assert counting.sizes == [2, 1] and progress == [(2, 3), (3, 3)]  # 3 distinct texts, saved 2 + 1
    assert first.columns == COLUMNS and first.height == 4
    assert first.row(0) == first.row(2)
    assert len(list(path.glob("part-*.parquet"))) == 2

    second = score_with_cache(counting, texts, SentimentCache(path))  # fresh object: reads the shards
    assert counting.sizes == [2, 1]
    assert second.equals(first)

    third = score_with_cache(counting, ["meh", "new text"], SentimentCache(path))
    assert counting.sizes == [2, 1, 1] and third.row(0) == first.row(3)
    assert len(SentimentCache(path)) == 4
    assert not list(path.glob(".*.tmp"))
    assert cache_key("a", "x") != cache_key("b", "x")


def test_cache_scores_texts_the_model_reads_alike_once(tiny: SentimentModel, tmp_path: Path) -> None:
    counting = CountingScorer(tiny)
    # the model reads "@user ... http" for the first two: one forward for both, the same scores as scoring each
    texts = ["@ana loved it http://a.co/1", "@bo loved it https://b.co/2", "loved it"]
    scored = score_with_cache(counting, texts, SentimentCache(tmp_path / "sentiment"))
    assert counting.calls == [[texts[0], texts[2]]]
    assert scored.row(0) == scored.row(1)  # one cached score
    alone = tiny.score_texts([texts[1], texts[2]])
    assert scored["label"].to_list() == alone["label"].to_list()[:1] * 2 + alone["label"].to_list()[1:]
    np.testing.assert_allclose(scored["score"].to_numpy()[1:], alone["score"].to_numpy(), atol=1e-6)


def test_cache_compacts_many_shards(tiny: SentimentModel, tmp_path: Path) -> None:
    texts = [f"text number {i}" for i in range(40)]
    cache = SentimentCache(tmp_path / "sentiment")
    first = score_with_cache(tiny, texts, cache, chunk_size=2)  # 20 shards > MAX_SHARDS: merged into one
    assert len(list((tmp_path / "sentiment").glob("part-*.parquet"))) == 1
    assert len(cache) == 40
    assert score_with_cache(tiny, texts, SentimentCache(tmp_path / "sentiment")).equals(first)


def test_labels_constant() -> None:
    assert LABELS == ("negative", "neutral", "positive")


# ------------------------------------------------------------------------------ training
def _write_tiny_training_data(directory: Path) -> list[str]:
    """A few hundred bytes of labelled tweets in the training script's formats; its data arguments."""
    words = {"negative": "awful hate broken", "neutral": "store monday opens", "positive": "love great amazing"}
    rows = [f"{label}\t@someone {words[label]} #{i} http://x.co/{i}" for i in range(20) for label in LABELS]
    (directory / "train.tsv").write_text("label\ttext\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (directory / "val_text.txt").write_text("\n".join(words[label] for label in LABELS) + "\n", encoding="utf-8")
    (directory / "val_labels.txt").write_text("0\n1\n2\n", encoding="utf-8")
    return [
        *("--train", str(directory / "train.tsv")),
        *("--dev-text", str(directory / "val_text.txt")),
        *("--dev-labels", str(directory / "val_labels.txt")),
    ]


def test_training_smoke_run_writes_loadable_students(tmp_path: Path) -> None:
    """`python -m trustpulse.sentiment.train --limit` end to end on a tiny set (a few steps per stage): teachers, the
    6-layer student and the small students all learn the short texts and the long comments, the selection; each
    saved student loads as a model of our kind and the selected one has the best selection score."""
    out = tmp_path / "run"
    long_form = tmp_path / "long.tsv"
    words = {"negative": "awful hate broken", "neutral": "store monday opens", "positive": "love great amazing"}
    rows = [
        f"lf{i}\t{words[label]} and a few more words here, number {i}.\t{label}" for i in range(7) for label in LABELS
    ]
    long_form.write_text("id\ttext\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    args = [*_write_tiny_training_data(tmp_path), "--airline", "", "--vader", "", "--out", str(out)]
    args += ["--long-form", str(long_form), "--long-form-repeat", "16"]
    args += ["--limit", "48", "--folds", "2", "--teacher-epochs", "1", "--student-epochs", "1"]
    args += ["--compress-layers", "3", "2", "--compress-alphas", "0.9", "0.5", "--compress-epochs", "1"]
    args += ["--batch-size", "16", "--evals", "2", "--threads", "1", "--device", "cpu"]
    done = subprocess.run(
        [sys.executable, "-m", "trustpulse.sentiment.train", *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    # 48 SemEval-format rows: 5 % of each class (at least one) held out -> 3, 45 trained on. 21 long comments:
    # 15 % of each class (one of 7) held out -> 3; the other 18 are one window each, repeated 16 times.
    assert summary["data"]["counts"] == {"semeval": 48, "longform_texts": 21}
    assert summary["data"]["holdout"] == 3 and summary["data"]["train"] == 45 + 18 * 16
    assert [t["name"] for t in summary["teachers"]] == ["teacher0", "teacher1"]
    assert [s["name"] for s in summary["distilled"]] == ["student6"]
    assert [s["name"] for s in summary["compressed"]] == ["student3", "student2"]
    members = [*summary["teachers"], *summary["distilled"], *summary["compressed"]]
    assert all(m["longform_holdout"] is not None for m in members)
    # every student trains on the 333 rows (21 steps of 16); each teacher on the rows outside its fold
    assert [h["step"] for h in summary["distilled"][0]["history"]] == [10, 21]
    assert [h["step"] for h in summary["compressed"][0]["history"]] == [10, 21]
    # the pair: first best tweet holdout reads short windows, first best long-form holdout long ones
    saved = [*summary["distilled"], *summary["compressed"]]
    short = max(saved, key=lambda s: s["holdout"]["macro_recall"])["name"]
    long_ = max(saved, key=lambda s: s["longform_holdout"]["macro_recall"])["name"]
    assert summary["selected"] == {"short_windows": short, "long_windows": long_}
    from trustpulse.sentiment.checkpoint import weight_files

    def weights(d: Path) -> list[tuple[str, bytes]]:  # the 6-layer student is saved in two shards
        return [(p.name, p.read_bytes()) for p in weight_files(d)]

    selected = out / "selected"
    assert weights(selected) == weights(out / long_)
    others = sorted(p.name for p in selected.iterdir() if not p.name.endswith(".safetensors"))
    if short == long_:
        assert others == ["classifier.json", "training.json"]
    else:
        assert others == ["classifier.json", "short_windows", "training.json"]
        assert weights(selected / "short_windows") == weights(out / short)
    pair = SentimentModel.load(str(out / "selected"), runtime="torch-fp32", num_threads=1)
    assert pair.score_texts(["I love it"]).columns == COLUMNS
    for name, layers in (("student3", [0, 2, 5]), ("student2", [0, 5])):
        config = json.loads((out / name / "classifier.json").read_text())
        assert config["base_layers"] == layers
        model = SentimentModel.load(str(out / name), runtime="torch-fp32", num_threads=1)
        assert model.model.module.config.num_hidden_layers == len(layers)
        assert model.model_id.startswith("trustpulse-minilm-sentiment@")
        assert model.score_texts(["I love it", "I hate it"]).columns == COLUMNS


def test_the_shipped_pair_is_chosen_on_the_two_holdouts_alone() -> None:
    """Short windows go to the best tweet-holdout member, long ones to the best long-form-holdout member (pooled per
    comment); the dev split plays no part; without long-form data one member reads both; ties go to the first."""
    from trustpulse.sentiment.train import choose_readers

    def logits(pred: list[int]) -> np.ndarray:
        return np.eye(3, dtype=np.float32)[pred] * 5

    y = np.array([0, 1, 2, 0, 1, 2])
    # long-form holdout: 3 comments; comment 1 has two windows (rows 1 and 2, weights 1 and 3)
    group = {"y": np.array([0, 1, 2]), "owner": [0, 1, 1, 2], "weight": [1, 1, 3, 1]}
    data = {"y": y, "holdout": np.arange(6), "longform_holdout": group}
    tweets_best = {"name": "a", "holdout": logits([0, 1, 2, 0, 1, 2]), "longform_holdout": logits([0, 0, 0, 0])}
    # pooled, comment 1 is read by its heavier second window (neutral): all three right
    comments_best = {"name": "b", "holdout": logits([0, 1, 2, 0, 0, 0]), "longform_holdout": logits([0, 2, 1, 2])}
    tie = {"name": "c", "holdout": logits([0, 1, 2, 0, 1, 2]), "longform_holdout": logits([0, 2, 1, 2])}
    dev_only = {"name": "d", "holdout": logits([1] * 6), "longform_holdout": logits([1] * 4), "dev": "perfect"}
    short, long_ = choose_readers([dev_only, tweets_best, comments_best, tie], data)
    assert (short["name"], long_["name"]) == ("a", "b")
    short, long_ = choose_readers([tie, tweets_best, comments_best], data)
    assert (short["name"], long_["name"]) == ("c", "c")
    without = {"y": y, "holdout": np.arange(6), "longform_holdout": None}
    short, long_ = choose_readers([comments_best, tweets_best], without)
    assert short is long_ and short["name"] == "a"


def test_teacher_folds_keep_a_long_comments_windows_together() -> None:
    """Folds are drawn per text: every window of a long comment (and each of its repeats) is in one fold, so a
    teacher never predicts a window of a comment it learnt from; short texts spread over all folds."""
    from trustpulse.sentiment.train import teacher_folds

    # rows 0-39 short texts; rows 40-45 windows of comment 0 (40-42) and comment 1 (43-45), trained twice each
    comment_of = {40: 0, 41: 0, 42: 0, 43: 1, 44: 1, 45: 1}
    train = np.concatenate([np.arange(40), np.repeat(np.arange(40, 46), 2)])
    rows, folds = teacher_folds({"train": train, "comment_of": comment_of}, 4, seed=13)
    assert rows.tolist() == list(range(46))
    fold = dict(zip(rows.tolist(), folds.tolist(), strict=True))
    assert len({fold[r] for r in (40, 41, 42)}) == 1 and len({fold[r] for r in (43, 44, 45)}) == 1
    assert sorted(set(folds.tolist())) == [0, 1, 2, 3]
    # 42 texts (40 short + 2 comments) over 4 folds: 10 or 11 texts each
    from collections import Counter

    text_of = {r: ("comment", comment_of[r]) if r in comment_of else ("short", r) for r in range(46)}
    texts_per_fold = Counter(fold[r] for r in {text_of[r]: r for r in range(46)}.values())
    assert sum(texts_per_fold.values()) == 42 and all(10 <= n <= 11 for n in texts_per_fold.values())


def test_long_form_holdout_holds_out_whole_repositories(tmp_path: Path) -> None:
    """Where the file names sources, the long-form holdout is whole repositories (no repository on both sides),
    at least the fraction of the comments; without sources each row is its own origin."""
    import random

    from trustpulse.sentiment.train import origin_holdout, read_long_form

    counts = {"a/blog": 6, "b/forum": 3, "c/reviews": 5, "d/list": 2, "e/site": 4}  # 20 comments
    lines = ["id\tsource\ttext\tlabel"]
    for repo, n in counts.items():
        lines += [f"{repo[0]}{k}\t{repo}:comments.yml #{k}\tcomment {k} of {repo}\tneutral" for k in range(n)]
    path = tmp_path / "long.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    texts, labels, origins = read_long_form([path])
    assert len(texts) == 20 and set(origins) == set(counts) and labels == [1] * 20
    held = origin_holdout(origins, 0.25, random.Random(13))
    held_repos = {origins[i] for i in held}
    assert sum(counts[r] for r in held_repos) == len(held) >= 5  # whole repositories, >= 25 % of 20
    assert all(origins[i] not in held_repos for i in range(20) if i not in held)
    # repositories are taken until the fraction is reached, no further: without the last one it was not reached
    assert any(len(held) - counts[r] < 5 for r in held_repos)
    assert origin_holdout(origins, 0.25, random.Random(13)) == held  # seeded

    (tmp_path / "plain.tsv").write_text("text\tlabel\nfirst text\tpositive\nsecond\tnegative\n", encoding="utf-8")
    assert read_long_form([tmp_path / "plain.tsv"])[2] == [f"{tmp_path / 'plain.tsv'}:2", f"{tmp_path / 'plain.tsv'}:3"]


def test_adding_a_long_form_file_keeps_the_earlier_files_holdout(tmp_path: Path) -> None:
    """The long-form holdout is drawn file by file: a run on the first file plus a second one holds out exactly
    the first file's comments that a run on the first file alone held out (so two runs can be compared on them),
    plus whole repositories of the second file."""
    import argparse
    import random

    from transformers import AutoTokenizer

    from trustpulse.sentiment.train import LONG_FORM_HOLDOUT_FRACTION, append_long_form

    def write(name: str, repos: dict[str, int]) -> Path:
        lines = ["id\tsource\ttext\tlabel"]
        for repo, n in repos.items():
            lines += [f"x\t{repo}:c.yml #{k}\tcomment number {k} from {repo}.\tneutral" for k in range(n)]
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    first = write("first.tsv", {f"a{i}/blog": 3 + i % 4 for i in range(12)})  # 54 comments
    second = write("second.tsv", {f"b{i}/blog": 2 + i % 3 for i in range(9)})  # 27 comments
    tokenizer = AutoTokenizer.from_pretrained(str(base_model_dir()))

    def held_texts(files: list[Path]) -> tuple[list[str], int]:
        args = argparse.Namespace(long_form=files, limit=0)
        ids: list[list[int]] = []
        _, holdout = append_long_form(args, tokenizer, random.Random(13), ids, [], [], {})
        texts = {int(o): tokenizer.decode(ids[r][1:-1]) for r, o in zip(holdout["rows"], holdout["owner"], strict=True)}
        return [texts[k] for k in sorted(texts)], holdout["texts"]

    alone, n_alone = held_texts([first])
    both, n_both = held_texts([first, second])
    assert (n_alone, n_both) == (54, 81)
    assert both[: len(alone)] == alone and len(alone) >= LONG_FORM_HOLDOUT_FRACTION * 54
    added = both[len(alone) :]
    assert added and all("from b" in t for t in added) and len(added) >= LONG_FORM_HOLDOUT_FRACTION * 27
    repos = {t.split(" from ")[1].rstrip(".").replace(" ", "") for t in added}  # decode spaces "b6 / blog"
    counts = {f"b{i}/blog": 2 + i % 3 for i in range(9)}
    assert len(added) == sum(counts[r] for r in repos)  # whole repositories of the second file
    # a repository in two files could be held out in one and trained on in the other: refused
    again = write("again.tsv", {"a3/blog": 2, "c0/blog": 2})
    with pytest.raises(ValueError, match=r"again\.tsv: repositories \['a3/blog'\]"):
        held_texts([first, again])


def test_a_saved_checkpoint_given_to_distill_from_is_scored_as_a_member(tmp_path: Path) -> None:
    """``--distill-from`` a saved checkpoint (the packaged short-window reader): it is exported as the students'
    base, scored on the same holdout rows as they are (its logits are those of the checkpoint itself) and can be
    chosen as a reader, its ``saved`` being the checkpoint itself (which the run only reads)."""
    from trustpulse.sentiment.checkpoint import export_as_base, load_classifier
    from trustpulse.sentiment.train import choose_readers, six_layer_logits, source_member

    source = DEFAULT_CLASSIFIER_DIR / "short_windows"
    tok = load_tokenizer()
    texts = ["I love this, thank you!", "The update broke my phone. Awful.", "The store opens at nine.", "ok"]
    ids = [tok(t)["input_ids"] for t in texts]
    data = {
        "ids": ids,
        "dev_ids": ids[:2],
        "pad_id": tok.pad_token_id,
        "y": np.array([2, 0, 1, 1]),
        "holdout": np.array([0, 1, 2]),
        "airline_holdout": np.array([3]),
        # one held comment, labelled positive, whose two windows are rows 1 and 2 (the source reads neither so)
        "longform_holdout": {"rows": np.array([1, 2]), "owner": [0, 0], "weight": [5.0, 5.0], "y": np.array([2])},
    }
    base = export_as_base(source, base_model_dir(), tmp_path / "as-base")
    logits, dev = six_layer_logits(base, [data["ids"], data["dev_ids"]], data["pad_id"], "cpu")
    member = source_member(source, logits, dev, data)
    with torch.no_grad():
        expected = load_classifier(source, base_model_dir())(input_ids=torch.tensor([ids[1]])).logits.numpy()
    assert member["saved"] == str(source) and member["source"] and member["name"] == "distill-source:short_windows"
    np.testing.assert_allclose(member["holdout"][1], expected[0], atol=0.05)  # fp16 export
    np.testing.assert_allclose(member["longform_holdout"][0], expected[0], atol=0.05)
    assert member["holdout"].argmax(1).tolist() == [2, 0, 1] and member["dev"].shape == (2, 3)
    student = {
        "name": "student3",
        "holdout": member["holdout"][:, ::-1].copy(),  # reads the tweets wrong
        "longform_holdout": np.array([[0.0, 0.0, 3.0], [0.0, 0.0, 3.0]], dtype=np.float32),  # reads the comment right
    }
    short, long_ = choose_readers([member, student], data)
    assert short is member and long_ is student


def test_long_form_training_files_are_kept_apart_from_the_dev_sets() -> None:
    """No training comment comes from a repository of either long-comment dev set, or shares a 60-character
    (lower-cased, whitespace-collapsed) substring with a dev text; nor do the two dev sets with each other: the dev
    figure measures unseen text."""
    import csv
    import re

    from trustpulse.sentiment.train import LONG_FORM_FILES, read_long_form

    def norm(text: str) -> str:
        return re.sub(r"\s+", " ", text.replace("\\n", " ").lower()).strip()

    def shingles(text: str, step: int) -> set[str]:
        return {text[i : i + 60] for i in range(0, max(1, len(text) - 59), step)}

    dev_dir = Path(__file__).resolve().parents[1] / "bench" / "data" / "long_comments"
    dev = {}
    for name in ("comments.tsv", "threads.tsv"):
        with open(dev_dir / name, encoding="utf-8", newline="") as f:
            dev[name] = list(csv.DictReader(f, delimiter="\t"))
    assert [len(rows) for rows in dev.values()] == [237, 1006]
    repos = {name: {r["source"].split(":")[0].strip() for r in rows} for name, rows in dev.items()}
    dev_shingles = {name: set().union(*(shingles(norm(r["text"]), 1) for r in rows)) for name, rows in dev.items()}
    texts, _, origins = read_long_form(list(LONG_FORM_FILES))
    assert len(texts) == 2466
    assert not set(origins) & (repos["comments.tsv"] | repos["threads.tsv"] | {"eklausme/saaze-lemire"})
    assert not repos["comments.tsv"] & repos["threads.tsv"]
    every_dev = dev_shingles["comments.tsv"] | dev_shingles["threads.tsv"]
    assert [t[:60] for t in map(norm, texts) if shingles(t, 1) & every_dev] == []
    assert [r["id"] for r in dev["threads.tsv"] if shingles(norm(r["text"]), 1) & dev_shingles["comments.tsv"]] == []


def test_class_bias_keeps_every_class_above_the_floor_when_it_can() -> None:
    """The calibrated bias maximises the score among biases that keep every holdout class recall >= the floor."""
    from trustpulse.sentiment.train import balanced, calibrate_bias, macro_recall

    # 10 holdout rows per class; neutral rows lean negative, so without a bias neutral recall is 0.3
    y = np.repeat([0, 1, 2], 10)
    logits = np.zeros((30, 3))
    logits[np.arange(30), y] = 1.0
    logits[10:17] = [1.0, 0.6, 0.0]  # 7 of 10 neutral rows: negative by 0.4
    data = {"y": y, "holdout": np.arange(30)}
    assert macro_recall(y, logits.argmax(1))[1] == [1.0, 0.3, 1.0]

    def score(b: np.ndarray) -> float:  # an objective blind to neutral that resists any bias
        recalls = macro_recall(y, (logits + b).argmax(1))[1]
        return recalls[0] + recalls[2] - 0.1 * float(np.abs(b).sum())

    unconstrained = calibrate_bias(score)
    assert unconstrained.tolist() == [0.0, 0.0, 0.0]
    bias = calibrate_bias(score, balanced(logits, data, 0.65))
    recalls = macro_recall(y, (logits + bias).argmax(1))[1]
    assert min(recalls) >= 0.65 and recalls[1] == 1.0  # negative lowered by more than 0.4, neutral restored
    assert bias.tolist() == pytest.approx([-0.45, 0.0, 0.0])  # the smallest grid step past the 0.4 margin
    # an unreachable floor falls back to the unconstrained choice
    assert calibrate_bias(score, lambda b: False).tolist() == [0.0, 0.0, 0.0]


def test_long_comment_bench_reads_line_breaks_as_line_breaks(tmp_path: Path) -> None:
    """The long-comment files store a line break as the two characters backslash + n; the bench must turn them back
    into line breaks (sentence boundaries for windowing), as the training reader does. It did not before: 161 of
    the 237 dev texts reached the model with a literal backslash-n."""
    import importlib.util

    from trustpulse.sentiment.train import read_long_form

    spec = importlib.util.spec_from_file_location("long_comments_bench", REPO / "bench" / "long_comments_bench.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = tmp_path / "comments.tsv"
    path.write_text(
        "id\tsource\tlang\twords\tcut\ttext\tlabel_pass1\tlabel\n"
        "c1\tx/y:z\ten\t7\t\tGreat post!\\nBut one thing bugs me.\tpositive\tpositive\n",
        encoding="utf-8",
    )
    assert bench.read_comments(path)["text"].to_list() == ["Great post!\nBut one thing bugs me."]
    assert read_long_form([path])[0] == ["Great post!\nBut one thing bugs me."]
    dev = bench.read_comments(REPO / "bench" / "data" / "long_comments" / "comments.tsv")["text"].to_list()
    assert not any("\\n" in t for t in dev) and sum("\n" in t for t in dev) > 100


def test_long_comment_bench_resamples_whole_threads() -> None:
    """The bench's interval resamples threads (a comment's source without its locator), not comments: a set whose
    two threads are read perfectly and wholly wrong spans from 0 to 1; one read perfectly has no width."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("long_comments_bench", REPO / "bench" / "long_comments_bench.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert (
        bench.thread_of("shared/seeds/002_b9bd.txt lines 206-206 (comment, first copy)") == "shared/seeds/002_b9bd.txt"
    )
    assert (
        bench.thread_of("github x/blog @ 7ec2 content/2012/a.md #comment-55328")
        == "github x/blog @ 7ec2 content/2012/a.md"
    )
    assert bench.thread_of("Joyuri1022/JohnLewisComment:youtube_comments.csv @Zorin9") == (
        "Joyuri1022/JohnLewisComment:youtube_comments.csv"
    )
    assert (
        bench.thread_of("mrtzh/m.github.io:_posts/nips.markdown@ff558ef #5765")
        == "mrtzh/m.github.io:_posts/nips.markdown@ff558ef"
    )
    gold = ["negative", "neutral", "positive"] * 2
    assert bench.thread_interval(gold, gold, ["a"] * 3 + ["b"] * 3) == [1.0, 1.0]
    wrong = ["neutral", "positive", "negative"]
    low, high = bench.thread_interval(gold, gold[:3] + wrong, ["a"] * 3 + ["b"] * 3)
    assert (low, high) == (0.0, 1.0)


# ------------------------------------------------------------------------------ checkpoints
def test_students_start_from_evenly_spaced_base_layers() -> None:
    from trustpulse.sentiment.checkpoint import evenly_spaced_layers

    assert evenly_spaced_layers(6) == [0, 1, 2, 3, 4, 5]
    assert evenly_spaced_layers(4) == [0, 2, 3, 5]  # 0, 5/3, 10/3, 5 rounded
    assert evenly_spaced_layers(3) == [0, 2, 5]  # 2.5 rounds down
    assert evenly_spaced_layers(2) == [0, 5]
    assert evenly_spaced_layers(1) == [5]
    with pytest.raises(ValueError):
        evenly_spaced_layers(7)


def test_checkpoint_round_trip_keeps_every_trained_tensor_and_the_base_word_embeddings(tmp_path: Path) -> None:
    """A checkpoint holds every tensor but the word embeddings (fp16); loading restores them (fp16-rounded) and
    takes the word embeddings from the base unchanged; exported as a base it gives the same classifier again."""
    from safetensors.torch import load_file

    from trustpulse.sentiment.checkpoint import (
        WORD_EMBEDDINGS,
        build_classifier,
        export_as_base,
        load_classifier,
        save_classifier,
    )

    base = base_model_dir()
    model = build_classifier(base, [1, 4])
    # The encoder's layer 1 is the base's layer 4.
    base_state = load_file(str(base / "model.safetensors"))
    assert torch.equal(
        model.bert.encoder.layer[1].attention.self.query.weight,
        base_state["encoder.layer.4.attention.self.query.weight"],
    )
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name != WORD_EMBEDDINGS:
                p.add_(0.01 * torch.randn(p.shape, generator=generator))
    save_classifier(model, tmp_path / "ck", [1, 4], {"note": "test"})
    saved = load_file(str(tmp_path / "ck" / "classifier.safetensors"))
    assert WORD_EMBEDDINGS not in saved and all(v.dtype == torch.float16 for v in saved.values())
    assert json.loads((tmp_path / "ck" / "classifier.json").read_text())["note"] == "test"

    loaded = load_classifier(tmp_path / "ck", base)
    expected = model.state_dict()
    for name, tensor in loaded.state_dict().items():
        if name == WORD_EMBEDDINGS:
            assert torch.equal(tensor, base_state["embeddings.word_embeddings.weight"])
        elif tensor.is_floating_point():
            assert torch.equal(tensor, expected[name].half().float()), name

    exported = export_as_base(tmp_path / "ck", base, tmp_path / "as-base")
    again = build_classifier(exported, [0, 1]).eval()
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102]])
    with torch.no_grad():
        np.testing.assert_allclose(again(input_ids=ids).logits.numpy(), loaded(input_ids=ids).logits.numpy(), atol=2e-3)
