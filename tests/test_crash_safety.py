"""kill -9 in the middle of a run, run again: the tables equal an uninterrupted run's; and two runs on the
same dumps give identical tables. Parquet files are only ever renamed into place, so no half-written
table can be read."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import FIXTURES

REPO = Path(__file__).resolve().parent.parent
DUMPS = ("twcs_sample.csv", "blog_thread.txt", "reddit_comments.jsonl", "x_api_response.json")
TABLES = (
    "mentions",
    "quarantine",
    "duplicates",
    "ingest_accounting",
    "mention_sentiment",
    "needs_answer",
    "responsiveness",
    "trust_index",
)


def _data_root(tmp: Path, name: str) -> Path:
    root = tmp / name
    (root / "landing").mkdir(parents=True)
    for dump in DUMPS:
        shutil.copy(FIXTURES / dump, root / "landing" / dump)
    shutil.copy(FIXTURES / "brands.yaml", root / "brands.yaml")
    return root


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return {**env, "TRUSTPULSE_PSEUDONYM_KEY": "crash-test", "HF_HUB_OFFLINE": "1"}


def _run(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--data", str(root)],
        cwd=REPO,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _kill_when(root: Path, ready) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--data", str(root)],
        cwd=REPO,
        env=_env(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while not ready() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before the kill point was reached"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _tables(root: Path) -> dict[str, pl.DataFrame]:
    out = {}
    for table in TABLES:
        df = pl.read_parquet(root / "warehouse" / f"{table}.parquet")
        out[table] = df.drop([c for c in ("dump_key", "record_id") if c in df.columns]).sort(
            pl.all().exclude(pl.List, pl.Struct).cast(pl.String), nulls_last=True
        )
    return out


def _assert_same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    for table in TABLES:
        assert a[table].equals(b[table]), f"{table} differs"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, pl.DataFrame]:
    root = _data_root(tmp_path_factory.mktemp("crash"), "reference")
    result = _run(root)
    assert result.returncode == 0, result.stderr[-3000:]
    return _tables(root)


def test_two_runs_give_identical_tables(tmp_path, reference):
    root = _data_root(tmp_path, "again")
    assert _run(root).returncode == 0
    _assert_same(reference, _tables(root))


@pytest.mark.parametrize("point", ["during ingest", "during publish"])
def test_sigkill_then_rerun_equals_uninterrupted(tmp_path, reference, point):
    root = _data_root(tmp_path, "killed")
    wh = root / "warehouse"
    if point == "during ingest":
        _kill_when(
            root,
            lambda: (
                len(list((wh / "partitions" / "dump_manifest").glob("*.parquet"))) >= 1
                if (wh / "partitions" / "dump_manifest").exists()
                else False
            ),
        )
    else:
        _kill_when(root, lambda: (wh / "mentions.parquet").exists())
    # whatever the kill left behind is readable: no half-written parquet
    for path in wh.rglob("*.parquet"):
        pl.read_parquet(path)
    result = _run(root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not list(wh.rglob("*.tmp"))
    _assert_same(reference, _tables(root))
