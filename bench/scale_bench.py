"""Scale benchmark: generated dumps of N mentions from landing to report, wall time per stage, peak RSS.

    python bench/scale_bench.py --sizes 100000[,1000000] [--deadline-minutes M] [--out bench/results/scale.json]

Each size runs `trustpulse run` in a fresh data root in a child process; stage times come from the Dagster
step statistics of its runs, peak RSS from the child's rusage. A second run with no new dumps measures the
idle re-run. Targets (issue 8): 100k mentions <= 15 min and <= 4 GiB on 2 cores; idle re-run <= 30 s.

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
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_MENTIONS_AT_SCALE_1 = 2100


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


def _stage_seconds(home: Path) -> tuple[dict[str, float], dict[str, dict]]:
    """Seconds per finished step (summed over runs), and the steps still in flight (a stopped run): their
    elapsed seconds and last log message."""
    import dagster as dg

    totals: dict[str, float] = {}
    in_flight: dict[str, dict] = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in instance.get_runs():
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


def bench_size(n: int, workdir: Path, deadline_minutes: float | None = None) -> dict:
    from trustpulse.demo import DEMO_BRANDS_FILE, generate_demo_dumps

    data = workdir / f"data_{n}"
    (data / "landing").mkdir(parents=True)
    (data / "brands.yaml").write_text(DEMO_BRANDS_FILE.read_text())
    generate_demo_dumps(data / "landing", seed=11, scale=n / DEMO_MENTIONS_AT_SCALE_1)
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
    return {
        "target_mentions": n,
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
    args = parser.parse_args()
    commit = git_commit()  # at the start: the code that runs is the code checked out now
    machine = {"cores": os.cpu_count(), "matmul_gflops": _matmul_gflops(), "simd": simd_flags()}
    print(f"machine: {machine}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="tp-scale-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            print(f"scale bench: {n:,} mentions ...", flush=True)
            results.append(bench_size(n, Path(tmp), args.deadline_minutes))
            print(json.dumps(results[-1], indent=2), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"commit": commit, "machine": machine, "results": results}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
