"""Batch-invariant CPU runtime: our classifier exported to ONNX, statically int8-quantised, run by ONNX Runtime.

Why: dynamic int8 quantisation (torch ``quantize_dynamic``, ORT ``quantize_dynamic``) computes each activation
scale from the whole batch tensor, so a text's probabilities depended on its batchmates and on the padding. Here
every activation scale is a constant fixed once by calibration (static quantisation), the int8 GEMMs accumulate
exactly in int32, and every float op is row-wise with padded positions masked to an exact zero: a text's
probabilities are a function of that text only (tests/test_sentiment_invariance.py checks equality to 1e-6 over
random batches, orders, batch sizes and padding).

The quantised model is never committed: it is built at first use from the sha256-verified base + our checkpoint
(``build_runtime``: export with the TorchScript exporter, opset 17, eager attention; MinMax calibration on the
256 packaged tweets in ``calibration.txt``; every MatMul in int8, the attention's two included: uint8 activations,
per-channel int8 weights, outputs left in fp32 so that no output is rounded twice) and cached in a
directory keyed by the sha256 of everything that determines it (checkpoint, base, calibration set, recipe,
library versions).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from trustpulse.storage import atomic_directory, file_sha256

# v2 (v1 quantised MatMul outputs too, and kept the FFN output projection and the attention's two MatMuls in fp32):
# every MatMul in int8, outputs not requantised. On the 6-layer reader, all windows int8: 1.6x the throughput of v1,
# tweet holdout 0.744 against 0.7444, long-form holdout 0.7615 against 0.7664 (training.json, int8_recipe_v2).
RECIPE_VERSION = "ort-static-int8-v2"
FP32_RECIPE_VERSION = "ort-fp32-v1"  # the exported graph, unquantised
# Windows of at most this many tokens ([CLS] and [SEP] included: every TweetEval tweet, 99.98 % of the SemEval
# tweets) go to the short-window reader (and, in the default runtime, to int8); longer ones to the long-window
# reader (in fp32).
SHORT_WINDOW_TOKENS = 64
ONNX_OPSET = 17
CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.txt"
CALIBRATION_MAX_TOKENS = 128
# MatMul outputs stay fp32: int8 x int8 -> fp32 in one kernel, no extra rounding, no Quantize/Dequantize pair.
QUANT_EXTRA_OPTIONS = {"OpTypesToExcludeOutputQuantization": ["MatMul"]}
MODEL_FILE = "model.onnx"
BUILD_FILE = "build.json"
CACHE_ENV_VAR = "TRUSTPULSE_MODEL_CACHE"
CACHE_SUBDIR = "sentiment-onnx"
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "logits"
# Dummy export input: two rows, the second padded, so the traced graph keeps the attention-mask path.
_DUMMY_IDS = [[101, 2023, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0]]


def default_cache_root() -> Path:
    """``$TRUSTPULSE_MODEL_CACHE``, else ``$XDG_CACHE_HOME/trustpulse``, else ``~/.cache/trustpulse``."""
    env = os.environ.get(CACHE_ENV_VAR, "").strip()
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "trustpulse"


def library_versions() -> dict[str, str]:
    """Versions of the libraries that build and run the model, from package metadata (importing torch to ask
    would cost a cold start more than the whole load)."""
    from importlib.metadata import version

    return {name: version(name) for name in ("torch", "transformers", "onnx", "onnxruntime")}


def recipe_version(quantize: bool) -> str:
    return RECIPE_VERSION if quantize else FP32_RECIPE_VERSION


def calibration_texts(path: Path = CALIBRATION_FILE) -> list[str]:
    """The packaged calibration set: 256 tweets from the SemEval *train* split (seed 13), already normalised."""
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def build_key(
    classifier_sha256: str, base_sha256: str, quantize: bool = True, calibration: Path = CALIBRATION_FILE
) -> str:
    """sha256 of everything that determines the built model (the cache directory name)."""
    spec = {
        "recipe": recipe_version(quantize),
        "classifier": classifier_sha256,
        "base": base_sha256,
        "calibration": file_sha256(calibration),
        "opset": ONNX_OPSET,
        "versions": library_versions(),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _export_fp32(model: Any, path: Path) -> None:
    import torch

    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    else:  # pragma: no cover - older transformers
        model.config._attn_implementation = "eager"
    ids = torch.tensor(_DUMMY_IDS, dtype=torch.long)
    mask = (ids != 0).long()
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, OUTPUT_NAME: {0: "batch"}}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches of transformers
        torch.onnx.export(
            model,
            (ids, mask),
            str(path),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes=dyn,
            opset_version=ONNX_OPSET,
            dynamo=False,
        )


def _quantized_matmuls(fp32_path: Path) -> list[str]:
    import onnx

    return [n.name for n in onnx.load(str(fp32_path)).graph.node if n.op_type == "MatMul"]


@contextmanager
def _root_logger_quiet() -> Iterator[None]:
    """onnxruntime's quantiser logs "Please consider pre-processing before quantization" on the root logger at
    every build; the recipe is fixed and tested, so on a healthy run that advice is noise."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _quantize(fp32_path: Path, out_path: Path, tokenizer: Any, texts: Sequence[str]) -> int:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    encoded = [
        tokenizer(t, truncation=True, max_length=CALIBRATION_MAX_TOKENS, verbose=False)["input_ids"] for t in texts
    ]

    class Reader(CalibrationDataReader):
        """One unpadded text per calibration step (scales from real tokens only)."""

        def __init__(self) -> None:
            self._it: Iterator[list[int]] = iter(encoded)

        def get_next(self) -> dict[str, np.ndarray] | None:
            ids = next(self._it, None)
            if ids is None:
                return None
            arr = np.asarray([ids], dtype=np.int64)
            return {INPUT_NAMES[0]: arr, INPUT_NAMES[1]: np.ones_like(arr)}

    nodes = _quantized_matmuls(fp32_path)
    with _root_logger_quiet():
        quantize_static(
            str(fp32_path),
            str(out_path),
            Reader(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul"],
            nodes_to_quantize=nodes,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options=QUANT_EXTRA_OPTIONS,
        )
    return len(nodes)


def build_runtime(
    model: Any, tokenizer: Any, out_dir: Path, key: str, meta: dict[str, Any], quantize: bool = True
) -> Path:
    """Export (+ quantise) ``model`` into ``out_dir`` (built in a hidden staging directory, then renamed)."""
    try:
        with atomic_directory(out_dir) as tmp:
            fp32 = tmp / "fp32.onnx"
            _export_fp32(model, fp32)
            n_quant = 0
            if quantize:
                n_quant = _quantize(fp32, tmp / MODEL_FILE, tokenizer, calibration_texts())
                fp32.unlink()
            else:
                fp32.rename(tmp / MODEL_FILE)
            info = {
                "key": key,
                "recipe": recipe_version(quantize),
                "quantized_matmuls": n_quant,
                "calibration_texts": len(calibration_texts()),
                "model_sha256": file_sha256(tmp / MODEL_FILE),
                "versions": library_versions(),
                **meta,
            }
            (tmp / BUILD_FILE).write_text(json.dumps(info, indent=2) + "\n")
    except OSError:
        if not (out_dir / MODEL_FILE).is_file():  # someone else's finished build is as good as ours
            raise
    return out_dir


class OrtClassifier:
    """An ONNX Runtime session over a sequence classifier: ``(ids, mask) -> logits`` (numpy)."""

    def __init__(self, path: Path, num_threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.path = path
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {INPUT_NAMES[0]: ids.astype(np.int64, copy=False), INPUT_NAMES[1]: mask.astype(np.int64, copy=False)}
        return self.session.run([OUTPUT_NAME], feed)[0]


class LogitsBackend(Protocol):
    """What scores a batch of windows: token ids and attention mask in, logits out (numpy)."""

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray: ...


class LengthRoutedClassifier:
    """Windows of at most ``short_tokens`` tokens through one backend, longer ones through another.

    Why: the packaged model is two checkpoints of one training run (``checkpoint.SHORT_WINDOWS_KEY``): the one
    with the best tweet holdout reads short windows (tweets, short messages), the one with the best long-form
    holdout reads long ones. And in the default runtime short windows run in int8 and long ones in fp32: all-int8
    (calibrated on tweets) scored about 2 points of macro recall below fp32 on long comments and the same on
    tweets. A row's route depends on its own length only (its attention mask), and each backend is
    batch-invariant, so a text's probabilities still depend on that text alone. The long backend opens at the
    first long window: tweets alone never pay for it.
    """

    def __init__(self, short: LogitsBackend, open_long: Callable[[], LogitsBackend], short_tokens: int) -> None:
        self.short, self.short_tokens = short, short_tokens
        self._open_long = open_long
        self._long: LogitsBackend | None = None  # opened at the first long window: tweets alone never pay for it

    def _session(self, short: bool) -> LogitsBackend:
        if short:
            return self.short
        if self._long is None:
            self._long = self._open_long()
        return self._long

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        is_short = mask.sum(axis=1) <= self.short_tokens
        out: np.ndarray | None = None
        for short in (True, False):
            rows = is_short == short
            if rows.any():
                values = self._session(short).logits(ids[rows], mask[rows])
                if out is None:
                    out = np.empty((len(ids), values.shape[1]), dtype=values.dtype)
                out[rows] = values
        assert out is not None, "an empty batch"
        return out
