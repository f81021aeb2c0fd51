"""Issue 16: a text's sentiment does not depend on its batchmates, their order, the batch size or the padding;
the CLI scores a line alone as in a file; the ONNX build is reproducible; the language rule."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.conftest import save_tiny_classifier  # noqa: E402
from trustpulse.sentiment.cache import SentimentCache  # noqa: E402
from trustpulse.sentiment.languages import NOT_SCORED_LANGUAGE, readable  # noqa: E402
from trustpulse.sentiment.mentions import score_mentions_sentiment  # noqa: E402
from trustpulse.sentiment.model import DEFAULT_OURS_RUNTIME, ONNX_RUNTIMES, SentimentModel  # noqa: E402
from trustpulse.sentiment.onnx_runtime import BUILD_FILE, CACHE_SUBDIR, MODEL_FILE, default_cache_root  # noqa: E402
from trustpulse.tables import SENTIMENT_SCHEMA  # noqa: E402

TOLERANCE = 1e-6
PROB_COLS = ["p_negative", "p_neutral", "p_positive"]
ISSUE_LINE = "@76328 I really hope you all change but I'm sure you won't!"
POOL = [
    ISSUE_LINE,
    "I love this phone, the battery is amazing!",
    "Worst customer service ever. I hate them.",
    "The store opens at 9am on Monday.",
    "@delta my flight was cancelled and nobody answers the phone http://t.co/x",
    "ok",
    "Great post Amber… Thanks for a great post!",
    "Not bad at all, though the app crashes sometimes 😕",
    " ".join(f"Sentence {i} says the brand's support was slow but polite." for i in range(40)),  # > 128 tokens
    "",
]
TEXT = st.one_of(
    st.sampled_from(POOL),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=80),
)


@pytest.fixture(scope="module")
def onnx_model() -> SentimentModel:
    """The default model in the default runtime (built into the user cache on first use)."""
    model = SentimentModel.load(num_threads=1)
    assert model.runtime == DEFAULT_OURS_RUNTIME
    return model


@pytest.fixture(scope="module")
def tiny_torch(tmp_path_factory: pytest.TempPathFactory) -> SentimentModel:
    d = save_tiny_classifier(tmp_path_factory.mktemp("tiny-bert-inv"), seed=1)
    return SentimentModel.load(str(d), label_map={"LABEL_0": "negative", "LABEL_1": "neutral", "LABEL_2": "positive"})


def _probs(df: pl.DataFrame) -> np.ndarray:
    return df.select(PROB_COLS).to_numpy()


def _check_invariance(model: SentimentModel, alone: dict[str, np.ndarray], texts: list[str], batch_size: int) -> None:
    for t in texts:
        if t not in alone:
            alone[t] = _probs(model.score_texts([t], batch_size=1))[0]
    got = _probs(model.score_texts(texts, batch_size=batch_size))
    want = np.stack([alone[t] for t in texts])
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


_ALONE_ONNX: dict[str, dict[str, np.ndarray]] = {}  # per runtime
_ALONE_TORCH: dict[str, np.ndarray] = {}


@pytest.fixture(scope="module", params=ONNX_RUNTIMES)
def any_onnx_model(request: pytest.FixtureRequest) -> SentimentModel:
    """Our model in each ONNX runtime: the default (int8 / fp32 by window length), all-int8, all-fp32."""
    model = SentimentModel.load(num_threads=1, runtime=request.param)
    assert model.runtime == request.param
    return model


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=10), batch_size=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_onnx_probabilities_do_not_depend_on_batch(
    any_onnx_model: SentimentModel, texts: list[str], batch_size: int, seed: int
) -> None:
    """Any batch, any order, any batch size (so any padding): each text's probabilities = scored alone."""
    texts = [texts[i] for i in np.random.default_rng(seed).permutation(len(texts))]
    _check_invariance(any_onnx_model, _ALONE_ONNX.setdefault(any_onnx_model.runtime, {}), texts, batch_size)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=10), batch_size=st.integers(1, 9))
def test_torch_fp32_probabilities_do_not_depend_on_batch(
    tiny_torch: SentimentModel, texts: list[str], batch_size: int
) -> None:
    """The torch fp32 runtime (any Hugging Face model, e.g. a multilingual one) is batch-invariant too."""
    _check_invariance(tiny_torch, _ALONE_TORCH, texts, batch_size)


def test_issue_line_alone_and_among_others(onnx_model: SentimentModel) -> None:
    alone = _probs(onnx_model.score_texts([ISSUE_LINE]))[0]
    others = ["first other line, quite long, about a delayed parcel and a refund", ISSUE_LINE, "and another"]
    for batch_size in (1, 2, 3, 64):
        np.testing.assert_allclose(_probs(onnx_model.score_texts(others, batch_size=batch_size))[1], alone, atol=0)


def _cli_rows(path: Path, capsys: pytest.CaptureFixture[str]) -> list[list[str]]:
    from pipelines.cli import main

    assert main(["sentiment", str(path)]) == 0
    return list(csv.reader(io.StringIO(capsys.readouterr().out)))


def test_cli_scores_each_line_alone_as_in_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [ISSUE_LINE, "Thanks @Liz I absolutely agree with you", "the delivery was late again", POOL[8]]
    both = tmp_path / "all.txt"
    both.write_text("\n".join(lines) + "\n")
    in_file = _cli_rows(both, capsys)
    assert in_file[0] == ["label", "score", "p_negative", "p_neutral", "p_positive"]
    assert len(in_file) == len(lines) + 1
    for i, line in enumerate(lines):
        one = tmp_path / f"line{i}.txt"
        one.write_text(line + "\n")
        alone = _cli_rows(one, capsys)
        assert alone[1] == in_file[i + 1], (line, alone[1], in_file[i + 1])


def test_default_runtime_reads_short_windows_in_int8_and_long_ones_in_fp32(onnx_model: SentimentModel) -> None:
    """Tweets (windows of <= 64 tokens) score exactly as the all-int8 runtime scores them, longer windows exactly as
    the all-fp32 runtime does."""
    from trustpulse.sentiment.model import RUNTIME_ONNX_FP32, RUNTIME_ONNX_INT8
    from trustpulse.sentiment.onnx_runtime import SHORT_WINDOW_TOKENS

    int8 = SentimentModel.load(num_threads=1, runtime=RUNTIME_ONNX_INT8)
    fp32 = SentimentModel.load(num_threads=1, runtime=RUNTIME_ONNX_FP32)
    tok = onnx_model.tokenizer
    short = "@united thanks for the quick rebooking, great crew today!"
    long = (
        "Great post Amber, I agree with most of it. We started a company blog two years ago and the first months "
        "were hard: nobody read it, the team had no time, and the posts got shorter and shorter. What changed was "
        "a simple rule that every question in the comments gets an answer within a day."
    )
    assert len(tok(short)["input_ids"]) <= SHORT_WINDOW_TOKENS < len(tok(long)["input_ids"]) <= 128
    got = _probs(onnx_model.score_texts([short, long]))
    np.testing.assert_array_equal(got[0], _probs(int8.score_texts([short]))[0])
    np.testing.assert_array_equal(got[1], _probs(fp32.score_texts([long]))[0])
    assert not np.array_equal(_probs(int8.score_texts([long]))[0], got[1])  # the two models do differ
    fresh = SentimentModel.load(num_threads=1)
    fresh.score_texts([short] * 3)
    assert fresh.model._long is None  # tweets alone never open the fp32 session
    np.testing.assert_array_equal(_probs(fresh.score_texts([long]))[0], got[1])
    assert fresh.model._long is not None


def _main_checkpoint_alone(tmp_path: Path) -> Path:
    """The packaged model's main checkpoint without its short-window reader."""
    from trustpulse.sentiment.checkpoint import CONFIG_FILE, SHORT_WINDOWS_KEY, WEIGHTS_FILE
    from trustpulse.sentiment.model import DEFAULT_CLASSIFIER_DIR

    alone = tmp_path / "long-reader"
    alone.mkdir()
    (alone / WEIGHTS_FILE).write_bytes((DEFAULT_CLASSIFIER_DIR / WEIGHTS_FILE).read_bytes())
    config = json.loads((DEFAULT_CLASSIFIER_DIR / CONFIG_FILE).read_text())
    assert config.pop(SHORT_WINDOWS_KEY) == "short_windows"
    (alone / CONFIG_FILE).write_text(json.dumps(config))
    return alone


@pytest.mark.parametrize("runtime", ["onnx-int8-fp32", "torch-fp32"])
def test_the_packaged_model_reads_short_windows_with_one_checkpoint_and_long_ones_with_the_other(
    runtime: str, tmp_path: Path
) -> None:
    """Windows of up to 64 tokens are read by ``classifier/short_windows`` (the best tweet reader of the run),
    longer ones by the main checkpoint, in the ONNX runtime and in plain torch alike."""
    from trustpulse.sentiment.model import DEFAULT_CLASSIFIER_DIR, RUNTIME_ONNX_FP32, RUNTIME_ONNX_INT8

    short_rt, long_rt = (RUNTIME_ONNX_INT8, RUNTIME_ONNX_FP32) if runtime.startswith("onnx") else (runtime, runtime)
    pair = SentimentModel.load(num_threads=1, runtime=runtime)
    short_reader = SentimentModel.load(DEFAULT_CLASSIFIER_DIR / "short_windows", num_threads=1, runtime=short_rt)
    long_reader = SentimentModel.load(_main_checkpoint_alone(tmp_path), num_threads=1, runtime=long_rt)
    short = "@united thanks for the quick rebooking, great crew today!"
    long = (  # one window of 65 to 128 tokens
        "Great post Amber, I agree with most of it. We started a company blog two years ago and the first months "
        "were hard: nobody read it, the team had no time, and the posts got shorter and shorter. What changed was "
        "a simple rule that every question in the comments gets an answer within a day."
    )
    got = _probs(pair.score_texts([short, long]))
    np.testing.assert_allclose(got[0], _probs(short_reader.score_texts([short]))[0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(got[1], _probs(long_reader.score_texts([long]))[0], rtol=0, atol=1e-6)
    assert np.abs(_probs(long_reader.score_texts([short]))[0] - got[0]).max() > 1e-3  # the two readers differ


def test_the_model_id_changes_with_the_short_window_reader_and_the_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cached scores are keyed by the model id: it must change when only the short-window checkpoint changes, and
    when only the routing cut does (torch-fp32, what a GPU gets; the ONNX ids are built on the same sha)."""
    import shutil

    from trustpulse.sentiment import onnx_runtime
    from trustpulse.sentiment.model import DEFAULT_CLASSIFIER_DIR

    copy = shutil.copytree(DEFAULT_CLASSIFIER_DIR, tmp_path / "pair")
    before = SentimentModel.load(copy, num_threads=1, runtime="torch-fp32").model_id
    config = copy / "short_windows" / "classifier.json"
    config.write_text(json.dumps(json.loads(config.read_text()) | {"note": "retrained"}))
    changed_reader = SentimentModel.load(copy, num_threads=1, runtime="torch-fp32").model_id
    monkeypatch.setattr(onnx_runtime, "SHORT_WINDOW_TOKENS", 32)
    changed_cut = SentimentModel.load(copy, num_threads=1, runtime="torch-fp32").model_id
    assert len({before, changed_reader, changed_cut}) == 3


def test_rebuilt_cache_gives_the_same_model_and_probabilities(onnx_model: SentimentModel, tmp_path: Path) -> None:
    """A fresh build (another cache directory: the int8 and the fp32 model) is byte-identical and scores
    identically."""
    rebuilt = SentimentModel.load(num_threads=1, cache_dir=tmp_path)
    assert rebuilt.model_id == onnx_model.model_id
    builds = sorted((tmp_path / CACHE_SUBDIR).iterdir())
    recipes = sorted(json.loads((b / BUILD_FILE).read_text())["recipe"] for b in builds)
    assert recipes == ["ort-fp32-v1", "ort-static-int8-v2"]
    for built in builds:
        assert (built / MODEL_FILE).read_bytes() == (
            default_cache_root() / CACHE_SUBDIR / built.name / MODEL_FILE
        ).read_bytes()
    built = next(b for b in builds if json.loads((b / BUILD_FILE).read_text())["recipe"] == "ort-static-int8-v2")
    texts = [t for t in POOL if t]
    np.testing.assert_array_equal(_probs(rebuilt.score_texts(texts)), _probs(onnx_model.score_texts(texts)))
    # A damaged cached file is detected and rebuilt, not used.
    (built / MODEL_FILE).write_bytes(b"broken")
    again = SentimentModel.load(num_threads=1, cache_dir=tmp_path)
    np.testing.assert_array_equal(_probs(again.score_texts(texts)), _probs(onnx_model.score_texts(texts)))


def test_built_runtime_loads_and_scores_without_torch(onnx_model: SentimentModel, tmp_path: Path) -> None:
    """Once built, the default runtime loads in a fresh process without importing torch (its import is most of
    a cold start) and scores exactly as the in-process model does."""
    import subprocess
    import sys

    texts = [t for t in POOL if t]
    (tmp_path / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    code = (
        "import json, sys\n"
        "from trustpulse.sentiment.model import SentimentModel\n"
        f"m = SentimentModel.load(num_threads=1, cache_dir={str(default_cache_root())!r})\n"
        f"texts = json.loads(open({str(tmp_path / 'texts.json')!r}, encoding='utf-8').read())\n"
        "probs = m.score_texts(texts).select('p_negative', 'p_neutral', 'p_positive').to_numpy().tolist()\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'transformers': 'transformers' in sys.modules, "
        "'model_id': m.model_id, 'probs': probs}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["torch"] is False
    assert out["transformers"] is False  # the runtime tokenises with the tokenizers library alone
    assert out["model_id"] == onnx_model.model_id
    np.testing.assert_array_equal(np.array(out["probs"]), _probs(onnx_model.score_texts(texts)))


def test_the_runtime_tokenizers_are_the_bases_auto_tokenizer() -> None:
    """``load_tokenizer`` (PreTrainedTokenizerFast, no torch import) and the ONNX runtimes' ``BaseTokenizer`` (the
    ``tokenizers`` library alone) give the ids and offsets AutoTokenizer gives on the base: tweets, long text,
    accents, CJK, emoji, escapes and zero-width characters."""
    from transformers import AutoTokenizer

    from trustpulse.sentiment.model import BaseTokenizer, base_model_dir, load_tokenizer
    from trustpulse.sentiment.windows import model_input_text

    auto = AutoTokenizer.from_pretrained(str(base_model_dir()), local_files_only=True)
    ours = load_tokenizer()
    runtime = BaseTokenizer(base_model_dir())
    texts = [model_input_text(t) for t in POOL] + [
        "Ünïcödé café naïve",
        "日本語のテキスト",
        "a\u200bb \ufffd",
        "ALL CAPS!!! 😀😀",
        " ".join(["word"] * 600),  # past the base's 512 positions and tokenizer.json's own 128-token truncation
    ]
    windows = {"add_special_tokens": False, "return_offsets_mapping": True, "truncation": False}
    for tokenizer, calls in ((ours, (windows, {"truncation": True, "max_length": 128})), (runtime, (windows, {}))):
        for kwargs in calls:
            want, got = auto(texts, **kwargs, verbose=False), tokenizer(texts, **kwargs)
            assert got["input_ids"] == want["input_ids"]
            if "offset_mapping" in want:
                assert [list(map(tuple, o)) for o in got["offset_mapping"]] == [
                    list(map(tuple, o)) for o in want["offset_mapping"]
                ]
        assert tokenizer(texts[0])["input_ids"] == auto(texts[0])["input_ids"]
        assert tokenizer.pad_token_id == auto.pad_token_id
    assert len(runtime(texts[-1])["input_ids"]) == 602


# ------------------------------------------------------------------------------ languages
def test_language_rule() -> None:
    langs = pl.Series("lang", ["en", "de", "ja", "und", None, "EN", ""])
    assert readable(langs).to_list() == [True, False, False, True, True, True, True]
    assert readable(langs, ["en", "de"]).to_list() == [True, True, False, True, True, True, True]
    assert readable(langs, []).all()


class _Counting:
    def __init__(self, model: SentimentModel) -> None:
        self.model, self.model_id, self.seen = model, model.model_id, []

    def score_texts(self, texts, batch_size=64, progress=False):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        return self.model.score_texts(texts, batch_size=batch_size, progress=progress)


def test_other_languages_are_marked_not_scored(tiny_torch: SentimentModel, tmp_path: Path) -> None:
    mentions = pl.DataFrame(
        {
            "mention_id": ["a", "b", "c", "d", "e"],
            "text": [
                "Great service, thank you!",
                "Der Kundendienst ist eine Katastrophe, nie wieder!",
                "最悪のサービスです。二度と使いません。",
                "ok",
                "Terrible support again",
            ],
            "lang": ["en", "de", "ja", "und", "en"],
        }
    )
    counting = _Counting(tiny_torch)
    out = score_mentions_sentiment(mentions, counting, SentimentCache(tmp_path / "s"))  # type: ignore[arg-type]
    assert out.schema == pl.Schema(SENTIMENT_SCHEMA)
    assert out["mention_id"].to_list() == ["a", "b", "c", "d", "e"]
    assert out["scored"].to_list() == [True, False, False, True, True]
    assert out["not_scored_reason"].to_list() == [None, NOT_SCORED_LANGUAGE, NOT_SCORED_LANGUAGE, None, None]
    skipped = out.filter(~pl.col("scored"))
    assert skipped.select("label", "score", *PROB_COLS).null_count().row(0) == (2,) * 5
    assert sorted(counting.seen) == sorted(["Great service, thank you!", "ok", "Terrible support again"])
    alone = tiny_torch.score_texts(["Terrible support again"])
    assert out.filter(pl.col("mention_id") == "e")["score"][0] == pytest.approx(alone["score"][0], abs=TOLERANCE)
    # A multilingual model: languages=[] scores everything.
    every = score_mentions_sentiment(mentions, tiny_torch, SentimentCache(tmp_path / "m"), languages=[])
    assert every["scored"].all() and every["label"].null_count() == 0
    # Without a lang column (older tables) every mention is scored.
    assert score_mentions_sentiment(mentions.drop("lang"), tiny_torch, SentimentCache(tmp_path / "n"))["scored"].all()


def test_a_changed_language_rule_rescores_the_dumps_scored_under_the_old_one(
    tiny_torch: SentimentModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dump's sentiment partition is reused only when it was made by the same model under the same language
    rule: switching to `languages: []` (a multilingual model) must score the French mention skipped before."""
    from trustpulse.sentiment import mentions as mention_sentiment
    from trustpulse.settings import SentimentConfig

    monkeypatch.setattr(mention_sentiment, "load_sentiment_model", lambda config, cache_dir=None: tiny_torch)
    published = pl.DataFrame(
        {"mention_id": ["a", "b"], "dump_key": ["d", "d"], "text": ["great service", "c'est nul"], "lang": ["en", "fr"]}
    )
    english = mention_sentiment.published_sentiment(published, {}, SentimentConfig(), tmp_path)
    assert set(english.rescored_dumps) == {"d"}
    assert english.table.filter(pl.col("mention_id") == "b")["not_scored_reason"].item() == NOT_SCORED_LANGUAGE
    partitions = english.rescored_dumps
    assert not mention_sentiment.published_sentiment(published, partitions, SentimentConfig(), tmp_path).rescored_dumps
    every = mention_sentiment.published_sentiment(published, partitions, SentimentConfig(languages=[]), tmp_path)
    assert set(every.rescored_dumps) == {"d"}
    assert every.table.filter(pl.col("mention_id") == "b")["scored"].item() is True
