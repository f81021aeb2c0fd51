"""Macro recall of the sentiment model on long real comments (issue 16): blog threads, forum posts, Reddit, reviews.

Reads two labelled sets (``DATA_SETS``), bench/data/long_comments/comments.tsv (236 English comments: the seeds,
the test fixtures, one blog) and bench/data/long_comments/threads.tsv (1,006 discussion-thread comments and reviews
from 44 repositories), each with columns id, source, lang, words, cut, text, label_pass1[, label_pass2][, label]
(Python's csv module, tab-separated, ``"`` quoting, line breaks inside a text stored as the two characters
``\\n``). The gold label is the final ``label`` column (after the two passes are resolved) when the file has one
filled for every row; otherwise ``label_pass1``, and the output says so. Only ``lang == "en"`` rows are scored. Long
texts are windowed and pooled inside ``SentimentModel.score_texts`` exactly as in production.

Writes bench/results/long_comments.json: commit (+ dirty flag), model id, and for the sets scored as one: n,
per-class n, macro recall (the target is >= 0.70), per-class recall, accuracy, confusion matrix (rows = gold,
columns = predicted), the same split at 80 words, how many texts needed more than one window; under ``sets``, the
same figures for each set with its label source and the agreement between its label passes (raw % and Cohen's
kappa) when ``label_pass2`` is filled.

Run (repo root): HF_HUB_OFFLINE=1 .venv/bin/python bench/long_comments_bench.py [--threads 1] [--data FILE ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trustpulse.sentiment.model import DEFAULT_MODEL, LABELS, SentimentModel  # noqa: E402
from trustpulse.sentiment.train import macro_recall  # noqa: E402
from trustpulse.settings import LONG_COMMENT_WORDS  # noqa: E402

DATA = ROOT / "bench" / "data" / "long_comments" / "comments.tsv"
# Two sets, both labelled in two blind passes with disagreements resolved, scored as one (and each on its own).
DATA_SETS = (DATA, ROOT / "bench" / "data" / "long_comments" / "threads.tsv")
RESULT = ROOT / "bench" / "results" / "long_comments.json"
TARGET_MACRO_RECALL = 0.70
LONG_WORDS = LONG_COMMENT_WORDS


def git_commit() -> dict:
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    # code, model and data only: results written by benches do not make a run dirty
    dirty = bool(git("status", "--porcelain", "--", "trustpulse", "bench", "models", ":!bench/results"))
    return {"commit": git("rev-parse", "HEAD"), "dirty": dirty}


def read_comments(path: Path) -> pl.DataFrame:
    df = pl.read_csv(path, separator="\t", quote_char='"', infer_schema_length=0)
    missing = {"id", "lang", "text", "label_pass1"} - set(df.columns)
    if missing:
        raise SystemExit(f"{path}: missing columns {sorted(missing)}")
    # the file stores a line break as the two characters backslash + n
    return df.with_columns(pl.col("text").str.replace_all("\\n", "\n", literal=True))


def gold_labels(df: pl.DataFrame) -> tuple[str, pl.Series]:
    """The resolved ``label`` column when it is complete, else pass 1 (and say which)."""
    if "label" in df.columns and df["label"].null_count() == 0 and (df["label"].str.strip_chars() != "").all():
        return "label", df["label"]
    return "label_pass1", df["label_pass1"]


def check_labels(name: str, values: pl.Series) -> None:
    bad = sorted(set(values.drop_nulls().to_list()) - set(LABELS))
    if bad:
        raise SystemExit(f"column {name}: unknown labels {bad} (expected {LABELS})")


def cohen_kappa(a: list[str], b: list[str]) -> float:
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pe = sum((a.count(lab) / n) * (b.count(lab) / n) for lab in LABELS)
    return float((po - pe) / (1 - pe)) if pe < 1 else 1.0


def pass_agreement(df: pl.DataFrame) -> dict | None:
    if "label_pass2" not in df.columns:
        return None
    both = df.filter(pl.col("label_pass2").is_not_null() & (pl.col("label_pass2").str.strip_chars() != ""))
    if both.height == 0:
        return None
    check_labels("label_pass2", both["label_pass2"])
    a, b = both["label_pass1"].to_list(), both["label_pass2"].to_list()
    return {
        "n": both.height,
        "n_without_pass2": df.height - both.height,
        "raw_agreement": round(sum(x == y for x, y in zip(a, b, strict=True)) / len(a), 4),
        "cohen_kappa": round(cohen_kappa(a, b), 4),
        "confusion_pass1_rows_pass2_columns": confusion(a, b),
    }


def confusion(gold: list[str], pred: list[str]) -> dict:
    m = {g: {p: 0 for p in LABELS} for g in LABELS}
    for g, p in zip(gold, pred, strict=True):
        m[g][p] += 1
    return m


def metrics(gold: list[str], pred: list[str]) -> dict:
    y = np.array([LABELS.index(g) for g in gold])
    p = np.array([LABELS.index(x) for x in pred])
    score, rec = macro_recall(y, p)
    return {
        "n": len(gold),
        "n_per_class": {lab: int((y == i).sum()) for i, lab in enumerate(LABELS)},
        "macro_recall": round(score, 4),
        "recall": {lab: round(r, 4) for lab, r in zip(LABELS, rec, strict=True)},
        "accuracy": round(float((y == p).mean()), 4) if len(y) else None,
        "confusion_gold_rows_predicted_columns": confusion(gold, pred),
    }


def thread_of(source: str) -> str:
    """The thread (source file) a comment comes from: its ``source`` without the comment locator (``#id``,
    ``lines a-b``, ``(note)``, ``@author``). Comments of one thread are not independent draws."""
    return re.split(r"#| lines | \(| @(?=\w)", source)[0].strip()


def thread_interval(gold: list[str], pred: list[str], threads: list[str], draws: int = 2000) -> list[float]:
    """95 % interval of the macro recall from a bootstrap over threads (whole threads resampled, seeded)."""
    names = sorted(set(threads))
    index = {name: i for i, name in enumerate(names)}
    counts = np.zeros((len(names), len(LABELS), len(LABELS)))
    for g, p, t in zip(gold, pred, threads, strict=True):
        counts[index[t], LABELS.index(g), LABELS.index(p)] += 1
    rng = np.random.default_rng(16)
    scores = []
    for _ in range(draws):
        weights = np.bincount(rng.integers(0, len(names), len(names)), minlength=len(names))
        matrix = np.tensordot(weights, counts, axes=1)
        per_class = matrix.sum(axis=1)
        present = per_class > 0
        scores.append(float(np.mean(np.diag(matrix)[present] / per_class[present])))
    return [round(float(q), 4) for q in np.percentile(scores, [2.5, 97.5])]


def score_set(path: Path, model: SentimentModel) -> dict:
    """One labelled file scored: its gold labels, predictions, word counts and windows per text, and its record."""
    df = read_comments(path)
    label_source, gold_all = gold_labels(df)
    check_labels(label_source, gold_all)
    df = df.with_columns(gold_all.alias("_gold"))
    if label_source != "label":
        print(f"note: no complete final `label` column in {path.name}; scoring against label_pass1 (one pass)")
    en = df.filter(pl.col("lang") == "en")
    texts = en["text"].to_list()
    pass1 = en["label_pass1"].to_list()
    _, owner, _, _ = model._windows(texts)  # the same windowing score_texts does; only counted here
    t = time.perf_counter()
    pred = model.score_texts(texts)["label"].to_list()
    gold = en["_gold"].to_list()
    agreed = [i for i, g in enumerate(gold) if pass1[i] == g]
    return {
        "gold": gold,
        "pred": pred,
        "threads": [thread_of(x) for x in (en["source"].to_list() if "source" in en.columns else texts)],
        "words": [int(w) for w in en["words"].to_list()] if "words" in en.columns else [len(x.split()) for x in texts],
        "windows": np.bincount(np.array(owner, dtype=int), minlength=len(texts)),
        "seconds": time.perf_counter() - t,
        "record": {
            "data": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
            "data_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "label_source": label_source,
            "label_source_note": (
                "final resolved labels" if label_source == "label" else "pass-1 labels only (second pass not yet done)"
            ),
            "rows_in_file": df.height,
            "rows_not_english_not_scored": df.height - en.height,
            "pass_agreement": pass_agreement(df),
            # the same predictions against pass 1 alone, and on the texts whose final label is pass 1's
            "macro_recall_pass1_labels": metrics(pass1, pred)["macro_recall"],
            "macro_recall_where_final_is_pass1": metrics([gold[i] for i in agreed], [pred[i] for i in agreed])[
                "macro_recall"
            ],
        },
    }


def summary(gold: list[str], pred: list[str], words: list[int], threads: list[str]) -> dict:
    """Macro recall and the rest on these texts, its interval over their threads, and the same split at
    ``LONG_WORDS`` words."""
    by_length = {}
    for name, keep in (
        (f"under_{LONG_WORDS}_words", [w < LONG_WORDS for w in words]),
        (f"{LONG_WORDS}_words_or_more", [w >= LONG_WORDS for w in words]),
    ):
        sel = [i for i, k in enumerate(keep) if k]
        by_length[name] = {
            k: v
            for k, v in metrics([gold[i] for i in sel], [pred[i] for i in sel]).items()
            if k in ("n", "n_per_class", "macro_recall", "recall")
        }
    return {
        **metrics(gold, pred),
        "macro_recall_95_interval_over_threads": thread_interval(gold, pred, threads),
        "thread_count": len(set(threads)),
        "by_length": by_length,
        "words_median": float(np.median(words)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, nargs="+", default=list(DATA_SETS), help="labelled sets, scored as one")
    ap.add_argument("--out", type=Path, default=RESULT)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--runtime", default=None, help="default: the model's production runtime")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1: a shared machine)")
    args = ap.parse_args()

    t = time.perf_counter()
    model = SentimentModel.load(args.model, runtime=args.runtime, num_threads=args.threads)
    load_s = time.perf_counter() - t
    if len({path.name for path in args.data}) < len(args.data):
        raise SystemExit(f"--data: two files share a name: {[str(path) for path in args.data]}")
    sets = {path.name: score_set(path, model) for path in args.data}
    gold = [g for one in sets.values() for g in one["gold"]]
    pred = [p for one in sets.values() for p in one["pred"]]
    words = [w for one in sets.values() for w in one["words"]]
    windows = np.concatenate([one["windows"] for one in sets.values()])
    threads = [f"{name}:{t}" for name, one in sets.items() for t in one["threads"]]
    overall = summary(gold, pred, words, threads)
    result = {
        **git_commit(),
        "model_id": model.model_id,
        "runtime": model.runtime,
        "scored_as_one": list(sets),
        **overall,
        "target_macro_recall": TARGET_MACRO_RECALL,
        "meets_target": overall["macro_recall"] >= TARGET_MACRO_RECALL,
        "texts_windowed": int((windows > 1).sum()),
        "windows_total": int(windows.sum()),
        "data_sha256": {name: one["record"]["data_sha256"] for name, one in sets.items()},
        "sets": {
            name: one["record"]
            | {
                k: v
                for k, v in summary(one["gold"], one["pred"], one["words"], one["threads"]).items()
                if k not in ("accuracy", "confusion_gold_rows_predicted_columns", "words_median")
            }
            for name, one in sets.items()
        },
        "threads": args.threads,
        "load_seconds": round(load_s, 2),
        "score_seconds": round(sum(one["seconds"] for one in sets.values()), 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, one in result["sets"].items():
        print(
            f"  {name}: {one['n']} comments from {one['thread_count']} threads ({one['label_source']}), "
            f"macro recall {one['macro_recall']:.3f}, 95 % interval {one['macro_recall_95_interval_over_threads']}"
        )
    print(
        f"{result['model_id']} on {overall['n']} English long comments ({len(sets)} sets): "
        f"macro recall {overall['macro_recall']:.3f} (target {TARGET_MACRO_RECALL}; 95 % interval over threads "
        f"{overall['macro_recall_95_interval_over_threads']}), "
        f"recall {overall['recall']}, accuracy {overall['accuracy']}"
    )
    print("confusion (gold rows, predicted columns):", json.dumps(overall["confusion_gold_rows_predicted_columns"]))
    print(f"{result['texts_windowed']} texts needed more than one window; wrote {args.out}")


if __name__ == "__main__":
    main()
