"""Topics benchmark: topic recovery on the stance dev set (ours vs BERTopic defaults) and fit cost at scale.

Writes ``bench/results/topics.json``. Usage (repo root)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/topics_bench.py [--sizes 1000 10000 100000]

Recovery: `../shared/data/topics-dev/stance_targets.tsv` (topic<TAB>text, 5 targets). Both models get the
same embeddings from the packaged all-MiniLM-L6-v2: ours is `trustpulse.topics.fit_topics` with the
default `TopicConfig` (seeded, so one run), the baseline is `BERTopic(embedding_model=<same encoder>)` with
BERTopic's default UMAP/HDBSCAN (unseeded, so it is run `--default-runs` times and the mean reported).
NMI and ARI count BERTopic's outlier topic (-1) as one more cluster, for both.

Scale: each size runs in its own subprocess so peak RSS (ru_maxrss) is measured separately. The corpus is
sampled from a base pool (the stance tweets and the demo generator's customer texts), each text perturbed
(a word dropped, pool words appended). Encoding 100k texts on this 2-core CPU would take about an hour
(the measured throughput is reported, with the extrapolated encode time per size); the embeddings cache
makes that a one-off per text. So the fit is timed on synthetic embeddings: the base text's embedding plus
Gaussian noise (cosine ~0.96 to the base), re-normalised. `fit_seconds` = exact kNN + UMAP + HDBSCAN +
c-TF-IDF + outlier reassignment on the `TopicConfig.fit_sample` (25,000) documents the assets fit on, after
a warm-up fit that pays numba's JIT compilation (reported as `jit_warmup_seconds`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from scale_bench import git_commit, simd_flags  # noqa: E402  (bench/ is the script's directory)

from trustpulse.embeddings import Embedder, EmbeddingCache, load_encoder  # noqa: E402
from trustpulse.topics import TopicConfig, fit_sample, fit_topics, topic_input  # noqa: E402

DEFAULT_STANCE = REPO_ROOT.parent / "shared" / "data" / "topics-dev" / "stance_targets.tsv"
WORK = REPO_ROOT / "bench" / "work" / "topics"
NOISE_SIGMA = 0.015  # per-dimension noise on a unit 384-d vector: cosine to the base ~0.96


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def read_stance(path: Path) -> tuple[list[str], list[str]]:
    labels, texts = [], []
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            topic, _, text = line.rstrip("\n").partition("\t")
            if text:
                labels.append(topic)
                texts.append(text.strip('"').replace('""', '"'))
    return labels, texts


def embedder() -> Embedder:
    return Embedder(cache=EmbeddingCache(WORK / "cache"), prepare=topic_input)  # as the topic assets embed


# ---- recovery --------------------------------------------------------------------------------------


def scores(y: list[str], topics: np.ndarray) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    topics = np.asarray(topics)
    return {
        "nmi": round(float(normalized_mutual_info_score(y, topics)), 4),
        "ari": round(float(adjusted_rand_score(y, topics)), 4),
        "n_topics": len(set(topics.tolist()) - {-1}),
        "outlier_share": round(float((topics == -1).mean()), 4),
    }


def bench_recovery(path: Path, default_runs: int) -> dict:
    from bertopic import BERTopic

    y, texts = read_stance(path)
    emb = embedder()
    t = time.perf_counter()
    X = emb.embed(texts)
    encode_s = time.perf_counter() - t

    results: dict = {"dataset": str(path.name), "n_docs": len(texts), "n_targets": len(set(y))}
    runs = {}
    for name, config in (
        ("ours", TopicConfig()),
        ("ours_without_outlier_reduction", TopicConfig(reduce_outliers=False)),
    ):
        t = time.perf_counter()
        fit = fit_topics(texts, X, config)
        runs[name] = {**scores(y, fit.topics), "fit_seconds": round(time.perf_counter() - t, 1)}
        print(name, runs[name], flush=True)
    results["ours"] = {**runs["ours"], "config": "TopicConfig() defaults"}
    results["ours_without_outlier_reduction"] = runs["ours_without_outlier_reduction"]

    default = []
    for _ in range(default_runs):
        t = time.perf_counter()
        model = BERTopic(embedding_model=load_encoder())
        topics, _ = model.fit_transform(texts, embeddings=X)
        default.append({**scores(y, topics), "fit_seconds": round(time.perf_counter() - t, 1)})
        print("bertopic_default", default[-1], flush=True)
    results["bertopic_default"] = {
        "config": "BERTopic(embedding_model=<packaged all-MiniLM-L6-v2>), default UMAP (unseeded) / HDBSCAN",
        "runs": default,
        "nmi": round(float(np.mean([r["nmi"] for r in default])), 4),
        "ari": round(float(np.mean([r["ari"] for r in default])), 4),
    }
    results["ours_nmi_ge_default"] = results["ours"]["nmi"] >= results["bertopic_default"]["nmi"]
    results["encode_seconds"] = round(encode_s, 1)
    return results


# ---- scale -----------------------------------------------------------------------------------------


def base_pool(stance: Path, seed: int = 0) -> list[str]:
    from trustpulse.demo import BRANDS, _customer_text

    rng = random.Random(seed)
    pool = read_stance(stance)[1] if stance.exists() else []
    for brand in BRANDS:
        for kind in brand.topics:
            pool += [_customer_text(brand, rng, kind)[0] for _ in range(40)]
    return sorted(set(pool))


def encode_throughput(pool: list[str], n: int = 256) -> float:
    """Texts per second of the packaged encoder on this machine (no cache)."""
    encoder = load_encoder()
    sample = pool[:n]
    encoder.encode(sample[:16])  # warm-up
    t = time.perf_counter()
    encoder.encode(sample, batch_size=64)
    return len(sample) / (time.perf_counter() - t)


def synthetic_corpus(pool: list[str], X: np.ndarray, n: int, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, len(pool), size=n)
    vocab = sorted({w for t in pool for w in t.split() if w.isalpha() and len(w) > 3})
    texts = []
    for i, b in enumerate(base):
        words = pool[b].split()
        if len(words) > 3:
            del words[int(rng.integers(0, len(words)))]
        extra = [vocab[j] for j in rng.integers(0, len(vocab), size=int(rng.integers(0, 3)))]
        texts.append(" ".join([*words, *extra, f"#{i % 997}"]))
    noisy = X[base] + rng.normal(0.0, NOISE_SIGMA, size=(n, X.shape[1])).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return texts, noisy.astype(np.float32)


def scale_worker(n: int, pool_file: Path) -> dict:
    data = np.load(pool_file, allow_pickle=False)
    pool, X = data["texts"].tolist(), data["embeddings"]
    texts, emb = synthetic_corpus(pool, X, n, seed=n)
    config = TopicConfig()
    t = time.perf_counter()
    warm_texts, warm_emb = synthetic_corpus(pool, X, 300, seed=1)
    fit_topics(warm_texts, warm_emb, config)  # numba JIT compilation of UMAP / pynndescent
    jit_s = time.perf_counter() - t
    t = time.perf_counter()
    sample = fit_sample([str(i) for i in range(n)], config.fit_sample, config.seed)  # as `topic_model` does
    fit = fit_topics([texts[i] for i in sample], emb[sample], config)
    fit_s = time.perf_counter() - t
    return {
        "n_docs": n,
        "fit_seconds": round(fit_s, 1),
        "jit_warmup_seconds": round(jit_s, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "method": fit.method,
        "n_topics": fit.n_topics,
        "fitted_on": len(sample),
        "min_topic_size": fit.stats.get("min_topic_size"),
        "outliers_before_reduction": fit.stats.get("outliers_before_reduction"),
    }


def bench_scale(sizes: list[int], stance: Path, timeout_s: int) -> dict:
    pool = base_pool(stance)
    X = embedder().embed(pool)
    WORK.mkdir(parents=True, exist_ok=True)
    pool_file = WORK / "pool.npz"
    np.savez(pool_file, texts=np.array(pool), embeddings=X)
    throughput = encode_throughput(pool)
    out: dict = {
        "base_pool_texts": len(pool),
        "encode_texts_per_second": round(throughput, 1),
        "embeddings": f"synthetic: pool embedding + N(0, {NOISE_SIGMA}) per dimension, renormalised",
        "sizes": [],
    }
    for n in sizes:
        cmd = [sys.executable, __file__, "--scale-worker", str(n), "--pool", str(pool_file)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            out["sizes"].append({"n_docs": n, "error": f"timed out after {timeout_s} s"})
            continue
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode or not lines:
            out["sizes"].append({"n_docs": n, "error": proc.stderr[-2000:]})
            continue
        result = json.loads(lines[-1])
        result["encode_seconds_estimated"] = round(n / throughput, 1)
        out["sizes"].append(result)
        print(result, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stance", type=Path, default=DEFAULT_STANCE)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--default-runs", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=1800, help="per size, seconds")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "topics.json")
    parser.add_argument("--skip-recovery", action="store_true")
    parser.add_argument("--scale-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pool", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.scale_worker:
        print(json.dumps(scale_worker(args.scale_worker, args.pool)), flush=True)
        return

    result: dict = {
        "commit": git_commit(),  # at the start: the code that runs is the code checked out now
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "simd": simd_flags(),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    if args.skip_recovery:
        result["recovery"] = previous.get("recovery")
    else:
        result["recovery"] = bench_recovery(args.stance, args.default_runs)
    result["scale"] = bench_scale(args.sizes, args.stance, args.timeout) if args.sizes else previous.get("scale")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
