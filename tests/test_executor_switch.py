"""TRUSTPULSE_EXECUTOR (pipelines/executor.py): in-process by default, Celery for deploy/distributed/."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines.executor import EXECUTOR_ENV_VAR, run_executor

REPO = Path(__file__).resolve().parent.parent


def test_in_process_unless_asked(monkeypatch):
    monkeypatch.delenv(EXECUTOR_ENV_VAR, raising=False)
    assert run_executor() is dg.in_process_executor
    monkeypatch.setenv(EXECUTOR_ENV_VAR, "in_process")
    assert run_executor() is dg.in_process_executor


def test_an_unknown_executor_is_refused(monkeypatch):
    monkeypatch.setenv(EXECUTOR_ENV_VAR, "multiprocess")
    with pytest.raises(ValueError, match="TRUSTPULSE_EXECUTOR='multiprocess'"):
        run_executor()


def test_celery_reaches_every_job():
    """Every job, the automation's included, runs on Celery when asked (the jobs are built at import time,
    hence a fresh interpreter)."""
    pytest.importorskip("dagster_celery")
    code = (
        "from pipelines.definitions import defs\n"
        "jobs = ['publish', 'ingest_dump', 'topics_refit', '__ASSET_JOB']\n"
        "print(sorted({defs.resolve_job_def(j).executor_def.name for j in jobs}))\n"
    )
    env = dict(os.environ, **{EXECUTOR_ENV_VAR: "celery"})
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['celery']"
