"""Topics benchmark: topic recovery that cannot overfit one dev set (ours vs BERTopic defaults), and fit cost.

Writes ``bench/results/topics.json`` (with the commit and the machine). Usage (repo root)::

    HF_HUB_OFFLINE=1 .venv/bin/python bench/topics_bench.py [--seeds 0 1 2] [--sizes 1000 10000 100000]

Recovery protocol (docs/topics.md): two labelled sets, `../shared/data/topics-dev/stance_targets.tsv` (5
targets) and the complaint `reason` of the negative tweets in `../shared/data/airline-care/dev.tsv` ("Can't
Tell" left out). Every candidate configuration in `CANDIDATES` and BERTopic's defaults (UMAP seeded) run
on both sets with every seed, on the same embeddings (packaged all-MiniLM-L6-v2 of `topic_input`, as the
assets embed). `transfer`: the candidate with the best mean NMI on one set, reported on the other (both
directions) beside the defaults there. `ours_default_config`: `TopicConfig()` against the defaults on each
set. NMI and ARI count the outlier topic (-1) as one more cluster, for both models.

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
from dataclasses import replace
from itertools import permutations
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from scale_bench import git_commit, simd_flags  # noqa: E402  (bench/ is the script's directory)

from trustpulse.embeddings import Embedder, EmbeddingCache, load_encoder  # noqa: E402
from trustpulse.topics import TopicConfig, fit_sample, fit_topics, topic_input  # noqa: E402

DEFAULT_STANCE = REPO_ROOT.parent / "shared" / "data" / "topics-dev" / "stance_targets.tsv"
DEFAULT_AIRLINE = REPO_ROOT.parent / "shared" / "data" / "airline-care" / "dev.tsv"
NO_REASON = "Can't Tell"
DEFAULTS = "bertopic_default"
OURS = "ours"  # TopicConfig() as checked out: the configuration the assets use
# Candidate configurations, every setting that differs between them spelled out (so that a row keeps its
# meaning when the defaults change). "tuned_v1" is the configuration tuned on the stance set before issue 17.
CANDIDATES: dict[str, dict] = {
    OURS: {},
    "tuned_v1": {"min_topic_size": 10, "min_topic_share": 0.01, "reduce_outliers": True},
    "share1pct_keep_outliers": {"min_topic_size": 10, "min_topic_share": 0.01, "reduce_outliers": False},
    "size10_reduce": {"min_topic_size": 10, "min_topic_share": 0.0, "reduce_outliers": True},
    "size10_keep_outliers": {"min_topic_size": 10, "min_topic_share": 0.0, "reduce_outliers": False},
    "share2pct_reduce": {"min_topic_size": 10, "min_topic_share": 0.02, "reduce_outliers": True},
}
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


def read_airline_reasons(path: Path) -> tuple[list[str], list[str]]:
    """The negative airline tweets with a complaint reason ("Can't Tell" is no reason and is left out)."""
    import polars as pl

    df = pl.read_csv(path, separator="\t", quote_char='"', infer_schema_length=0)
    df = df.filter((pl.col("sentiment") == "negative") & pl.col("reason").is_not_null())
    df = df.filter(~pl.col("reason").is_in(["", NO_REASON]) & pl.col("text").is_not_null())
    return df["reason"].to_list(), df["text"].to_list()


def scores(y: list[str], topics: np.ndarray) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    topics = np.asarray(topics)
    return {
        "nmi": round(float(normalized_mutual_info_score(y, topics)), 4),
        "ari": round(float(adjusted_rand_score(y, topics)), 4),
        "n_topics": len(set(topics.tolist()) - {-1}),
        "outlier_share": round(float((topics == -1).mean()), 4),
    }


def bertopic_default_topics(texts: list[str], X: np.ndarray, seed: int) -> np.ndarray:
    """BERTopic's defaults (UMAP n_neighbors=15, n_components=5, min_dist=0, cosine; HDBSCAN min_cluster_size=10,
    eom; no outlier reduction), with UMAP seeded so that a seed is a run."""
    from bertopic import BERTopic
    from umap import UMAP

    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", low_memory=False, random_state=seed)
    topics, _ = BERTopic(umap_model=umap, embedding_model=load_encoder()).fit_transform(texts, embeddings=X)
    return np.asarray(topics)


def _summary(runs: list[dict]) -> dict:
    out: dict = {}
    for metric in ("nmi", "ari"):
        values = np.array([r[metric] for r in runs])
        out[metric] = round(float(values.mean()), 4)
        out[f"{metric}_sd"] = round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4)
        out[f"{metric}_min"] = round(float(values.min()), 4)
    out["n_topics"] = round(float(np.mean([r["n_topics"] for r in runs])), 1)
    out["outlier_share"] = round(float(np.mean([r["outlier_share"] for r in runs])), 4)
    out["runs"] = runs
    return out


def bench_recovery(sets: dict[str, Path], seeds: list[int], candidates: dict[str, dict]) -> dict:
    """Every candidate configuration and BERTopic's defaults on every set and seed; then, for each ordered pair
    of sets, the configuration chosen on the first (best mean NMI) reported on the second."""
    data = {
        "stance": read_stance(sets["stance"]),
        "airline_reasons": read_airline_reasons(sets["airline_reasons"]),
    }
    emb = embedder()
    table: dict = {}
    for name, (y, texts) in data.items():
        t = time.perf_counter()
        X = emb.embed(texts)
        print(f"{name}: {len(texts)} texts, {len(set(y))} labels, encoded in {time.perf_counter() - t:.0f} s")
        table[name] = {"n_docs": len(texts), "n_labels": len(set(y)), "configs": {}}
        for cname, overrides in {**candidates, DEFAULTS: {}}.items():
            runs = []
            for seed in seeds:
                t = time.perf_counter()
                if cname == DEFAULTS:
                    topics = bertopic_default_topics(texts, X, seed)
                else:
                    topics = fit_topics(texts, X, replace(TopicConfig(seed=seed), **overrides), label=False).topics
                runs.append({"seed": seed, **scores(y, topics), "fit_seconds": round(time.perf_counter() - t, 1)})
                print(name, cname, runs[-1], flush=True)
            table[name]["configs"][cname] = {"overrides": overrides, **_summary(runs)}
    transfer = []
    for chosen_on, reported_on in permutations(table, 2):
        configs = {k: v for k, v in table[chosen_on]["configs"].items() if k != DEFAULTS}
        best = max(configs, key=lambda k: (configs[k]["nmi"], k))
        got, base = table[reported_on]["configs"][best], table[reported_on]["configs"][DEFAULTS]
        transfer.append(
            {
                "chosen_on": chosen_on,
                "reported_on": reported_on,
                "chosen": best,
                "nmi": got["nmi"],
                "ari": got["ari"],
                "bertopic_default_nmi": base["nmi"],
                "bertopic_default_ari": base["ari"],
                "ge_default": got["nmi"] >= base["nmi"],
            }
        )
    ours = {
        name: {
            "nmi": t["configs"][OURS]["nmi"],
            "ari": t["configs"][OURS]["ari"],
            "bertopic_default_nmi": t["configs"][DEFAULTS]["nmi"],
            "bertopic_default_ari": t["configs"][DEFAULTS]["ari"],
            "nmi_ge_default": t["configs"][OURS]["nmi"] >= t["configs"][DEFAULTS]["nmi"],
        }
        for name, t in table.items()
    }
    return {
        "seeds": seeds,
        "metric_note": "NMI and ARI against the labels; BERTopic's outlier topic (-1) counts as one more cluster",
        "sets": table,
        "transfer": transfer,
        "ours_default_config": ours,
    }


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
    parser.add_argument("--airline", type=Path, default=DEFAULT_AIRLINE)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--configs", nargs="*", default=list(CANDIDATES), help="candidate names to run")
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="scale sizes (none: keep the last run's)")
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
        sets = {"stance": args.stance, "airline_reasons": args.airline}
        result["recovery"] = bench_recovery(sets, args.seeds, {k: CANDIDATES[k] for k in args.configs})
    if args.sizes:
        result["scale"] = bench_scale(args.sizes, args.stance, args.timeout)
    else:
        result["scale"] = previous.get("scale")
        result["scale_commit"] = previous.get("scale_commit", previous.get("commit"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
