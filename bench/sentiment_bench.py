"""Sentiment benchmark: dev macro-recall and CPU throughput vs a RoBERTa-base-sized classifier.

Writes ``bench/results/sentiment.json``. Usage (repo root)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/sentiment_bench.py \\
        --dev-text ../shared/data/tweeteval-val/val_text.txt \\
        --dev-labels ../shared/data/tweeteval-val/val_labels.txt

The RoBERTa baseline is built from ``RobertaConfig()`` defaults (125M parameters, random weights, no
download) and fed the same 2,000 dev tweets, tokenised with our tokenizer (ids are only used for
their lengths; compute does not depend on the values), with the same length-sorted batching, in fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from trustpulse.embeddings import BATCH_SIZE  # noqa: E402
from trustpulse.sentiment.model import LABELS, SentimentModel  # noqa: E402
from trustpulse.sentiment.train import macro_recall, read_dev  # noqa: E402
from trustpulse.sentiment.windows import normalise_text  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "tweeteval-val"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bench_ours(model_name: str, texts: list[str], y: np.ndarray, quantize: bool, threads: int, batch_size: int) -> dict:
    t = time.perf_counter()
    model = SentimentModel.load(model_name, quantize=quantize, num_threads=threads)
    load_s = time.perf_counter() - t
    model.score_texts(texts[:64], batch_size=batch_size)  # warm-up
    t = time.perf_counter()
    df = model.score_texts(texts, batch_size=batch_size)
    secs = time.perf_counter() - t
    pred = np.array([LABELS.index(lab) for lab in df["label"].to_list()])
    score, rec = macro_recall(y, pred)
    return {
        "model_id": model.model_id,
        "quantized_int8": quantize,
        "dev_macro_recall": round(score, 4),
        "dev_recall": {lab: round(r, 4) for lab, r in zip(LABELS, rec, strict=True)},
        "dev_accuracy": round(float((pred == y).mean()), 4),
        "load_seconds": round(load_s, 2),
        "seconds": round(secs, 2),
        "texts_per_second": round(len(texts) / secs, 1),
    }


def bench_roberta(texts: list[str], threads: int, batch_size: int) -> dict:
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    from trustpulse.sentiment.model import load_tokenizer

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model = RobertaForSequenceClassification(RobertaConfig(num_labels=3)).eval()
    tok = load_tokenizer()
    ids = tok([normalise_text(t) for t in texts], truncation=True, max_length=128)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))

    def run(sel_ids: list[list[int]]) -> None:
        with torch.inference_mode():
            for s in range(0, len(sel_ids), batch_size):
                chunk = sel_ids[s : s + batch_size]
                width = max(len(x) for x in chunk)
                inp = torch.ones((len(chunk), width), dtype=torch.long)  # 1 = RoBERTa <pad>
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for r, x in enumerate(chunk):
                    inp[r, : len(x)] = torch.tensor(x, dtype=torch.long) + 3  # keep clear of special ids
                    mask[r, : len(x)] = 1
                model(input_ids=inp, attention_mask=mask)

    run([ids[i] for i in order[:64]])  # warm-up
    t = time.perf_counter()
    # Tokenisation is inside our model's timing too, so include it here for a fair comparison.
    ids = tok([normalise_text(t) for t in texts], truncation=True, max_length=128)["input_ids"]
    run([ids[i] for i in order])
    secs = time.perf_counter() - t
    return {
        "model": "RobertaForSequenceClassification(RobertaConfig(num_labels=3)), random weights, fp32",
        "parameters": sum(p.numel() for p in model.parameters()),
        "seconds": round(secs, 2),
        "texts_per_second": round(len(texts) / secs, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="sentiment model benchmark")
    p.add_argument("--dev-text", type=Path, default=DEFAULT_DATA / "val_text.txt")
    p.add_argument("--dev-labels", type=Path, default=DEFAULT_DATA / "val_labels.txt")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "sentiment.json")
    p.add_argument("--model", default="trustpulse-minilm-sentiment")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    p.add_argument("--skip-roberta", action="store_true")
    args = p.parse_args(argv)

    texts, labels = read_dev(args.dev_text, args.dev_labels)
    texts, y = texts[: args.n], np.array(labels[: args.n])
    result: dict = {
        "n_texts": len(texts),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    kw = {"threads": args.threads, "batch_size": args.batch_size}
    result["ours_fp32"] = bench_ours(args.model, texts, y, quantize=False, **kw)
    print(json.dumps(result["ours_fp32"]), flush=True)
    result["ours_int8"] = bench_ours(args.model, texts, y, quantize=True, **kw)
    print(json.dumps(result["ours_int8"]), flush=True)
    result["peak_rss_mb_ours"] = round(peak_rss_mb(), 1)
    drop = result["ours_fp32"]["dev_macro_recall"] - result["ours_int8"]["dev_macro_recall"]
    result["int8_macro_recall_drop_points"] = round(100 * drop, 2)
    result["int8_accepted"] = bool(100 * drop < 0.5)
    best = "ours_int8" if result["int8_accepted"] else "ours_fp32"
    result["default_inference"] = best
    if not args.skip_roberta:
        result["roberta_base_random"] = bench_roberta(texts, args.threads, args.batch_size)
        print(json.dumps(result["roberta_base_random"]), flush=True)
        rb = result["roberta_base_random"]["texts_per_second"]
        result["speedup_vs_roberta"] = {
            "fp32": round(result["ours_fp32"]["texts_per_second"] / rb, 2),
            "int8": round(result["ours_int8"]["texts_per_second"] / rb, 2),
            "default": round(result[best]["texts_per_second"] / rb, 2),
        }
    result["peak_rss_mb_total"] = round(peak_rss_mb(), 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}), flush=True)
    print(f"wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
