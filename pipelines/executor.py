"""Which executor every job runs on: the one place that reads `TRUSTPULSE_EXECUTOR`.

- unset or `in_process` (the default): each run is one process, so the sentiment model and the encoder load
  once per run (`trustpulse run`, `trustpulse ui`);
- `celery`: each step of a run is a Celery task on whichever `dagster-celery` worker takes it (a real
  multi-process deployment, deploy/distributed/). The broker and result backend come from
  `TRUSTPULSE_CELERY_BROKER` / `TRUSTPULSE_CELERY_BACKEND`, read when a run starts, so sensor- and
  automation-launched runs need no run config. Needs the `distributed` extra (dagster-celery).

`trustpulse run` executes in process whatever this says (`execute_in_process`).
"""

from __future__ import annotations

import os

import dagster as dg

EXECUTOR_ENV_VAR = "TRUSTPULSE_EXECUTOR"
BROKER_ENV_VAR = "TRUSTPULSE_CELERY_BROKER"
BACKEND_ENV_VAR = "TRUSTPULSE_CELERY_BACKEND"


def run_executor() -> dg.ExecutorDefinition:
    choice = os.environ.get(EXECUTOR_ENV_VAR, "").strip() or "in_process"
    if choice == "in_process":
        return dg.in_process_executor
    if choice == "celery":
        from dagster_celery import celery_executor

        return celery_executor.configured(
            {"broker": {"env": BROKER_ENV_VAR}, "backend": {"env": BACKEND_ENV_VAR}}, name="celery"
        )
    raise ValueError(f"{EXECUTOR_ENV_VAR}={choice!r}: expected 'in_process' or 'celery'")
