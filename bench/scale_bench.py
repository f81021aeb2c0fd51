"""Scale benchmark: generated dumps of N mentions from landing to report, wall time per stage, peak RSS.

    python bench/scale_bench.py --sizes 100000[,1000000] [--deadline-minutes M] [--incremental] [--realistic]
        [--out bench/results/scale.json]

Each size runs `trustpulse run` in a fresh data root in a child process; stage times come from the Dagster
step statistics of its runs, peak RSS from the child's rusage. A second run with no new dumps measures the
idle re-run. Targets (issue 8): 100k mentions <= 15 min and <= 4 GiB on 2 cores; idle re-run <= 30 s.

`--incremental` then lands one more dump of about 1,000 mentions (generated like the others, another seed) and
runs `trustpulse run` again: the new dump's ingest run and the publish run are timed (Dagster run records) and
set against the full run (issue 19's target: publish <= 10 % of the full run).

`--realistic`: the demo generator repeats its templates (100k mentions held 34,890 distinct texts), so the
encoders did a third of the work real text would ask. This mode keeps the generator's structure (threads, owner
replies, formats, brands) but writes every customer text as a development tweet (../shared/data/semeval-sentiment/
train.tsv, 48k) followed by a fragment of another one, so nearly every text is distinct; the result records the
distinct texts and encoder inputs. Owner replies stay the generator's, canned ones signed with the agent's initials
and the case number (as brands' are).

`--deadline-minutes` stops a size's run after that long and records it as incomplete: the finished
stages with their times, the stage in flight with its elapsed time and last progress message. The machine
is described by its cores, a float32 matmul rate (`machine.matmul_gflops`) and its vector extensions
(`machine.simd`): the two transformer encoders are compute-bound, so stage times scale with these across
hosts (the int8 sentiment classifier most with VNNI).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
DEMO_MENTIONS_AT_SCALE_1 = 2100
DEV_TWEETS = REPO.parent / "shared" / "data" / "semeval-sentiment" / "train.tsv"  # development data (its README)
INCREMENT_MENTIONS = 1000
# the support export holds ~875 records per unit of scale: one such file of ~1,000 records is the increment
INCREMENT_FILE, INCREMENT_SCALE = "support_export_twcs.csv", INCREMENT_MENTIONS / 875
INCREMENT_SEED = 12
FRAGMENT_WORDS = (3, 8)  # words of another tweet appended to each customer text in realistic mode


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def _matmul_gflops(size: int = 1024, repeats: int = 20) -> float:
    """float32 matrix-multiply rate of this machine (all cores), the unit the encoders' speed scales with."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        a @ a
    return round(repeats * 2 * size**3 / (time.perf_counter() - started) / 1e9, 1)


SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile")


def simd_flags() -> list[str]:
    """The vector extensions the CPU reports that torch's kernels use: int8 matmuls (the sentiment classifier)
    run several times faster with VNNI, so two hosts with the same float32 rate can differ."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return [flag for flag in SIMD_FLAGS if flag in flags]


def _run(data: Path, env: dict[str, str], timeout: float | None = None) -> tuple[float, float, int | None]:
    """Wall seconds, peak RSS (MiB) of `trustpulse run` in a child process, and its exit code (None: stopped
    at the deadline)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    log = data / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "run", "--data", str(data)],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if code:
        print(log.read_text()[-3000:], file=sys.stderr)
    return wall, max(peak, before) / 1024, code


def _stage_seconds(home: Path, since_run: int = 0) -> tuple[dict[str, float], dict[str, dict]]:
    """Seconds per finished step (summed over runs, from the `since_run`-th oldest on), and the steps still in
    flight (a stopped run): their elapsed seconds and last log message."""
    import dagster as dg

    totals: dict[str, float] = {}
    in_flight: dict[str, dict] = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in list(reversed(instance.get_runs()))[since_run:]:
            for step in instance.get_run_step_stats(run.run_id):
                if step.end_time and step.start_time:
                    totals[step.step_key] = totals.get(step.step_key, 0.0) + step.end_time - step.start_time
                elif step.start_time:
                    messages = [
                        e.user_message
                        for e in instance.all_logs(run.run_id)
                        if e.step_key == step.step_key and e.user_message and not e.is_dagster_event
                    ]
                    in_flight[step.step_key] = {
                        "elapsed_seconds": round(time.time() - step.start_time, 1),
                        "last_message": messages[-1] if messages else None,
                    }
    return {k: round(v, 2) for k, v in sorted(totals.items())}, in_flight


def development_tweets(path: Path = DEV_TWEETS) -> list[str]:
    """The development tweets' texts (`label<TAB>text`; the file writes some characters as \\uXXXX escapes)."""
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    texts = (line.split("\t", 1)[1] for line in lines if "\t" in line)
    return [re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), t).strip() for t in texts]


@contextmanager
def realistic_customer_texts(tweets: list[str]) -> Iterator[None]:
    """While open, the demo generator writes each customer text as a development tweet plus a fragment of another,
    adds such a fragment to the few fixed customer lines it picks from (follow-ups, posts about the industry), and
    signs each canned owner reply with the agent and the case number. All drawn with the generator's own seeded
    rng, so a seed still gives the same bytes."""
    from trustpulse import demo

    owner_parts = {*demo.CANNED, *demo.PERSONAL_OPENINGS, *demo.PERSONAL_ACTIONS}
    owner_parts |= {part for parts in demo.PERSONAL_BODIES.values() for part in parts}

    def fragment(rng: random.Random) -> str:
        words = tweets[rng.randrange(len(tweets))].split()
        start = rng.randrange(max(1, len(words) - FRAGMENT_WORDS[0]))
        return " ".join(words[start : start + rng.randint(*FRAGMENT_WORDS)])

    class RealisticRandom(random.Random):
        def choice(self, seq):  # type: ignore[no-untyped-def]
            item = super().choice(seq)
            fixed_line = isinstance(item, str) and len(item.split()) >= 3 and "{" not in item
            return f"{item} {fragment(self)}" if fixed_line and item not in owner_parts else item

    def customer_text(brand: demo.DemoBrand, rng: random.Random, kind: str) -> tuple[str, str]:
        text = f"{tweets[rng.randrange(len(tweets))]} {fragment(rng)}".strip()
        return text, text.split(",")[0][:40]

    templated_reply = demo._reply_text

    def reply_text(brand: demo.DemoBrand, rng: random.Random, kind: str, name: str, topic: str) -> str:
        text = templated_reply(brand, rng, kind, name, topic)
        if brand.reply_style == "canned":  # the same template, signed and with the case's number
            text += f" {rng.choice(demo.SIGNOFFS)} (case {rng.randint(100000, 999999)})"
        return text

    patched = {
        "_customer_text": customer_text,
        "_reply_text": reply_text,
        "random": SimpleNamespace(Random=RealisticRandom),
    }
    originals = {name: getattr(demo, name) for name in patched}
    for name, value in patched.items():
        setattr(demo, name, value)
    try:
        yield
    finally:
        for name, value in originals.items():
            setattr(demo, name, value)


def generate_dumps(out_dir: Path, seed: int, scale: float, realistic: bool) -> list[Path]:
    from trustpulse.demo import generate_demo_dumps

    if not realistic:
        return generate_demo_dumps(out_dir, seed=seed, scale=scale)
    with realistic_customer_texts(development_tweets()):
        return generate_demo_dumps(out_dir, seed=seed, scale=scale)


def _run_seconds(home: Path) -> dict[str, list[float]]:
    """Wall seconds of each Dagster run, by job, oldest first."""
    import dagster as dg

    out: dict[str, list[float]] = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in reversed(instance.get_runs()):
            stats = instance.get_run_stats(run.run_id)
            if stats.start_time and stats.end_time:
                out.setdefault(run.job_name, []).append(round(stats.end_time - stats.start_time, 2))
    return out


def bench_increment(data: Path, env: dict[str, str], full_wall: float, realistic: bool) -> dict:
    """Land one more dump of ~1,000 mentions and time what `trustpulse run` does with it."""
    import polars as pl

    runs_before = {job: len(times) for job, times in _run_seconds(data / "dagster_home").items()}
    with tempfile.TemporaryDirectory(prefix="tp-increment-") as tmp:
        generate_dumps(Path(tmp), INCREMENT_SEED, INCREMENT_SCALE, realistic)
        name = f"increment_{INCREMENT_FILE}"
        shutil.copy(Path(tmp) / INCREMENT_FILE, data / "landing" / name)
    wall, _, code = _run(data, env)
    runs = _run_seconds(data / "dagster_home")
    new = {job: times[runs_before.get(job, 0) :] for job, times in runs.items()}
    ingest, publish = sum(new.get("ingest_dump", [])), sum(new.get("publish", []))
    accounting = pl.read_parquet(data / "warehouse" / "ingest_accounting.parquet")
    row = accounting.filter(pl.col("dump_file") == name).row(0, named=True) if accounting.height else {}
    stages, _ = _stage_seconds(data / "dagster_home", since_run=sum(runs_before.values()))
    return {
        "dump_file": name,
        "raw_records": row.get("raw_records"),
        "kept": row.get("kept"),
        "exit_code": code,
        "cli_wall_seconds": round(wall, 1),
        "ingest_run_seconds": round(ingest, 2),
        "publish_run_seconds": round(publish, 2),
        "publish_share_of_full_run": round(publish / full_wall, 4),
        "ingest_and_publish_share_of_full_run": round((ingest + publish) / full_wall, 4),
        "stage_seconds": stages,
    }


def bench_size(
    n: int, workdir: Path, deadline_minutes: float | None = None, incremental: bool = False, realistic: bool = False
) -> dict:
    from trustpulse.demo import DEMO_BRANDS_FILE

    data = workdir / f"data_{n}"
    (data / "landing").mkdir(parents=True)
    (data / "brands.yaml").write_text(DEMO_BRANDS_FILE.read_text())
    generate_dumps(data / "landing", seed=11, scale=n / DEMO_MENTIONS_AT_SCALE_1, realistic=realistic)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(data / "dagster_home"),
        "HF_HUB_OFFLINE": "1",
        "TRUSTPULSE_PSEUDONYM_KEY": "bench",
    }
    (data / "dagster_home").mkdir()
    (data / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    wall, peak, code = _run(data, env, timeout=deadline_minutes * 60 if deadline_minutes else None)
    completed = code is not None
    rerun_wall: float | None = None
    rerun_code: int | None = None
    if completed:
        rerun_wall, _, rerun_code = _run(data, env)
    import polars as pl

    mentions_path = data / "warehouse" / "mentions.parquet"
    texts = (None, None)
    inputs: dict[str, int | None] = {"sentiment": None, "topics": None}
    if mentions_path.exists():
        from trustpulse.sentiment.windows import model_input_text
        from trustpulse.topics import topic_input

        texts = pl.scan_parquet(mentions_path).select(pl.len(), pl.col("text").n_unique()).collect().row(0)
        distinct = pl.read_parquet(mentions_path, columns=["text"])["text"].drop_nulls().unique().to_list()
        inputs = {
            "sentiment": len({model_input_text(t) for t in distinct}),
            "topics": len({topic_input(t) for t in distinct}),
        }
    stages, in_flight = _stage_seconds(data / "dagster_home")
    increment = bench_increment(data, env, wall, realistic) if incremental and completed else None
    return {
        "target_mentions": n,
        "texts": "realistic" if realistic else "template",
        "mentions_kept": texts[0],
        "distinct_texts": texts[1],
        "distinct_encoder_inputs": inputs,  # what each encoder runs on: its caches are keyed by these
        "completed": completed,
        "exit_code": code,
        "wall_seconds": round(wall, 1),
        "peak_rss_mib": round(peak, 1),
        "idle_rerun_seconds": round(rerun_wall, 1) if rerun_wall is not None else None,
        "idle_rerun_exit_code": rerun_code,
        "stage_seconds": stages,
        "in_flight_when_stopped": in_flight,
        "increment": increment,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "100000"))
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "scale.json"))
    parser.add_argument(
        "--deadline-minutes",
        type=float,
        default=float(os.environ.get("BENCH_DEADLINE_MIN", 0)) or None,
        help="stop a size's run after this long and record what it finished",
    )
    parser.add_argument("--incremental", action="store_true", help="then time one more ~1,000-mention dump")
    parser.add_argument("--realistic", action="store_true", help="customer texts from the development tweets")
    args = parser.parse_args()
    commit = git_commit()  # at the start: the code that runs is the code checked out now
    machine = {"cores": os.cpu_count(), "matmul_gflops": _matmul_gflops(), "simd": simd_flags()}
    print(f"machine: {machine}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="tp-scale-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            print(f"scale bench: {n:,} mentions ...", flush=True)
            results.append(bench_size(n, Path(tmp), args.deadline_minutes, args.incremental, args.realistic))
            print(json.dumps(results[-1], indent=2), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"commit": commit, "machine": machine, "results": results}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
