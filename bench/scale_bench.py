"""Scale benchmark: generated dumps of N mentions from landing to report, wall time per stage, peak RSS.

    python bench/scale_bench.py --sizes 100000 [1000000] [--out bench/results/scale.json]

Each size runs `trustpulse run` in a fresh data root in a child process; stage times come from the Dagster
step statistics of its runs, peak RSS from the child's rusage. A second run with no new dumps measures the
idle re-run. Targets (issue 8): 100k mentions <= 15 min and <= 4 GiB on 2 cores; idle re-run <= 30 s.
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


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def _run(data: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) of `trustpulse run` in a child process, and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "trustpulse.cli", "run", "--data", str(data)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
    return wall, max(peak, before) / 1024, proc.returncode


def _stage_seconds(home: Path) -> dict[str, float]:
    import dagster as dg

    totals: dict[str, float] = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in instance.get_runs():
            for step in instance.get_run_step_stats(run.run_id):
                if step.end_time and step.start_time:
                    totals[step.step_key] = totals.get(step.step_key, 0.0) + step.end_time - step.start_time
    return {k: round(v, 2) for k, v in sorted(totals.items())}


def bench_size(n: int, workdir: Path) -> dict:
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
    wall, peak, code = _run(data, env)
    rerun_wall, _, rerun_code = _run(data, env)
    import polars as pl

    mentions = pl.scan_parquet(data / "warehouse" / "mentions.parquet").select(pl.len()).collect().item()
    return {
        "target_mentions": n,
        "mentions_kept": mentions,
        "exit_code": code,
        "wall_seconds": round(wall, 1),
        "peak_rss_mib": round(peak, 1),
        "idle_rerun_seconds": round(rerun_wall, 1),
        "idle_rerun_exit_code": rerun_code,
        "stage_seconds": _stage_seconds(data / "dagster_home"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "100000"))
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "scale.json"))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="tp-scale-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            print(f"scale bench: {n:,} mentions ...", flush=True)
            results.append(bench_size(n, Path(tmp)))
            print(json.dumps(results[-1], indent=2), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"commit": _git_commit(), "cores": os.cpu_count(), "results": results}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
