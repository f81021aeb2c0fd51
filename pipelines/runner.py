"""Run the pipeline on every landed dump through the Dagster definitions, on a persistent instance.

Used by `trustpulse run`: each new or changed dump is ingested in its own run (one partition), a dump
that fails is reported and the others go on, then the publish job builds the warehouse. Runs are
recorded in DAGSTER_HOME, so they appear in the Dagster UI afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

from pipelines.definitions import build_definitions
from pipelines.partitions import DUMPS_TAG, dumps_signature, last_published_signature, sync_dump_partitions
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import dump_is_complete, remove_stale_temp_files

DAGSTER_YAML = "telemetry:\n  enabled: false\n"
# Without --verbose, Dagster's console logger stays silent: a failed step is reported once, as one line
# (`_failure_message`), instead of as an event with a stack trace.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def ensure_dagster_home(settings: TrustpulseSettings) -> Path:
    """An absolute, persistent DAGSTER_HOME (default DATA_ROOT/dagster_home) with telemetry off."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@dataclass
class RunReport:
    ingested: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # dump file -> error
    removed: list[str] = field(default_factory=list)
    published: bool = False


# Errors whose message is already the one line a person needs (`file: position: reason`).
PLAIN_ERRORS = ("DumpParseError", "DumpNotFoundError", "ValueError")


def _root_cause(error: SerializableErrorInfo) -> SerializableErrorInfo:
    """What the asset raised: Dagster wraps it in its own step-execution error. The asset's own error is
    kept, not its causes (`ReportError` says more than the papermill error it was raised from)."""
    while error.cause is not None and (error.cls_name or "").startswith("Dagster"):
        error = error.cause
    return error


def _failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    """'check on asset: what it found' for each asset check that did not pass in the run."""
    out = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation is not None and not evaluation.passed:
                out.append(
                    f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}: "
                    f"{evaluation.description or 'failed'}"
                )
    return out


def _failure_message(result: dg.ExecuteInProcessResult, verbose: bool = False) -> str:
    """One line: the error an asset raised (a `DumpParseError` reads `file: position: reason`), not
    Dagster's wrapper; with `verbose`, the stack trace follows."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            wrapper = event.step_failure_data.error
            cause = _root_cause(wrapper)
            first = ((cause.message or "").strip().splitlines() or [""])[0]
            # Dagster's message reads "package.module.ClassName: what happened"
            what = first.split(f"{cause.cls_name}: ", 1)[-1] if cause.cls_name else first
            line = what if cause.cls_name in PLAIN_ERRORS else f"{cause.cls_name}: {what}"
            if cause.cls_name == "DagsterAssetCheckFailedError":
                line = "; ".join(_failed_checks(result)) or line
            return f"{line}\n{wrapper.to_string()}" if verbose else line
    return "run failed"


def run_pipeline(
    settings: TrustpulseSettings,
    *,
    force: bool = False,
    verbose: bool = False,
    progress: Callable[[str], None] = print,
) -> RunReport:
    ensure_dagster_home(settings)
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    if settings.warehouse_dir.exists() and (stale := remove_stale_temp_files(settings.warehouse_dir)):
        progress(f"removed {stale} temporary file(s) left by an interrupted run")
    defs = build_definitions(settings)
    run_config = None if verbose else QUIET_LOGS
    report = RunReport()
    with dg.DagsterInstance.get() as instance:
        sync = sync_dump_partitions(instance, settings)
        report.removed = sync.removed
        done = instance.get_materialized_partitions(dg.AssetKey("mentions"))
        total = len(sync.current)
        progress(f"{total} dump(s) in {settings.landing_dir}")
        for n, dump in enumerate(sync.current, start=1):
            if not force and dump.key in done and dump_is_complete(settings.warehouse_dir, dump.key):
                report.skipped.append(dump.name)
                progress(f"[{n}/{total}] {dump.name}: unchanged, already ingested")
                continue
            progress(f"[{n}/{total}] {dump.name}: ingesting ...")
            result = defs.resolve_job_def("ingest_dump").execute_in_process(
                instance=instance, partition_key=dump.key, raise_on_error=False, run_config=run_config
            )
            if result.success:
                report.ingested.append(dump.name)
            else:
                report.failed[dump.name] = _failure_message(result, verbose)
                progress(f"[{n}/{total}] {dump.name}: FAILED: {report.failed[dump.name]}")
        signature = dumps_signature([d.key for d in sync.current if d.name not in report.failed])
        if not force and not report.ingested and last_published_signature(instance) == signature:
            progress("no new or changed dumps since the last publish: nothing to recompute")
            report.published = True
            return report
        progress("publishing: sentiment, scores, report, warehouse.duckdb ...")
        result = defs.resolve_job_def("publish").execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config, tags={DUMPS_TAG: signature}
        )
        report.published = result.success
        if not result.success:
            report.failed["<publish>"] = _failure_message(result, verbose)
    return report
