"""Run the pipeline on every landed dump through the Dagster definitions, on a persistent instance.

Used by `trustpulse run`: each new or changed dump is ingested in its own run (one partition), a dump
that fails is reported and the others go on, then the publish job builds the warehouse. Runs are
recorded in DAGSTER_HOME, so they appear in the Dagster UI afterwards.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

from pipelines.definitions import build_definitions
from pipelines.partitions import DUMPS_TAG, last_published_signature, sync_dump_partitions
from trustpulse.landing import dumps_signature
from trustpulse.progress import duration
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import dump_is_complete, remove_stale_temp_files

DAGSTER_YAML = "telemetry:\n  enabled: false\n"
# Without --verbose, Dagster's console logger stays silent: a failed step is reported once, as one line
# (`_failure_message`), instead of as an event with a stack trace.
PROGRESS_LOGGER = "trustpulse_progress"
STEP_EVENTS = ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED")


class StageProgress(logging.Handler):
    """One line per stage of an in-process run, fed by the run's own log records: '[i/n] stage ...' with an
    estimate of the time left (from the last successful run of the same job), the stage's INFO lines
    (counts, texts scored), and '[i/n] stage: done in T'."""

    def __init__(self, steps: list[str], estimates: dict[str, float], say: Callable[[str], None]) -> None:
        super().__init__(logging.DEBUG)  # Dagster logs its step events at DEBUG
        self.steps, self.estimates, self.say = steps, estimates, say
        self.started: dict[str, float] = {}
        self.finished: set[str] = set()

    def _left(self, step: str) -> str:
        if not self.estimates:
            return ""
        todo = [s for s in self.steps if s not in self.finished and s != step and s not in self.started]
        seconds = self.estimates.get(step, 0.0) + sum(self.estimates.get(s, 0.0) for s in todo)
        return f" (about {duration(seconds)} left)" if seconds >= 1 else ""

    def _position(self, step: str) -> str:
        return f"[{self.steps.index(step) + 1 if step in self.steps else '?'}/{len(self.steps)}]"

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        step, event = meta.get("step_key"), meta.get("dagster_event")
        if step is None:
            return
        if event is None:  # the asset's own log line
            if record.levelno >= logging.INFO:
                self.say(f"      {meta.get('orig_message', record.getMessage())}")
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
            self.say(f"  {self._position(step)} {step} ...{self._left(step)}")
        elif kind in STEP_EVENTS:
            self.finished.add(step)
            took = time.perf_counter() - self.started.get(step, time.perf_counter())
            what = {"STEP_SUCCESS": "done", "STEP_FAILURE": "FAILED", "STEP_SKIPPED": "skipped"}[kind]
            self.say(f"  {self._position(step)} {step}: {what} in {duration(took)}")


def _progress_logger(handler: StageProgress) -> dg.LoggerDefinition:
    @dg.logger(description="Per-stage progress lines for `trustpulse run`.")
    def progress_logger(_: dg.InitLoggerContext) -> logging.Logger:
        log = logging.Logger(PROGRESS_LOGGER, logging.DEBUG)
        log.addHandler(handler)
        return log

    return progress_logger


def _step_estimates(instance: dg.DagsterInstance, job_name: str) -> dict[str, float]:
    """Seconds each step took in the last successful run of `job_name` (empty: no such run)."""
    runs = instance.get_runs(dg.RunsFilter(job_name=job_name, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    if not runs:
        return {}
    stats = instance.get_run_step_stats(runs[0].run_id)
    return {s.step_key: s.end_time - s.start_time for s in stats if s.start_time and s.end_time}


def execute_with_progress(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    say: Callable[[str], None],
    verbose: bool = False,
    **kwargs: object,
) -> dg.ExecuteInProcessResult:
    """`job.execute_in_process` with a progress line per stage on `say` (Dagster's console logger stays
    quiet unless `verbose`)."""
    steps = [node.name for node in job.nodes_in_topological_order]
    handler = StageProgress(steps, _step_estimates(instance, job.name), say)
    loggers = {"console": dg.colored_console_logger, PROGRESS_LOGGER: _progress_logger(handler)}
    console_level = "DEBUG" if verbose else "CRITICAL"
    run_config = {"loggers": {"console": {"config": {"log_level": console_level}}, PROGRESS_LOGGER: {}}}
    return job.with_logger_defs(loggers).execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config, **kwargs
    )


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
PLAIN_ERRORS = ("DumpParseError", "DumpNotFoundError", "ValueError", "Failure")


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


def _ingest_counts(result: dg.ExecuteInProcessResult) -> str:
    """'N raw records = kept + duplicates + quarantined (T)' from the run's `mentions` materialisation."""
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key == dg.AssetKey("mentions"):
            meta = {k: v.value for k, v in materialization.metadata.items()}
            return (
                f"{meta.get('raw_records', 0):,} raw records = {meta.get('kept', 0):,} kept + "
                f"{meta.get('duplicates', 0):,} duplicates + {meta.get('quarantined', 0):,} quarantined "
                f"({duration(float(meta.get('seconds', 0.0)))})"
            )
    return "ingested"


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
    report = RunReport()
    with dg.DagsterInstance.get() as instance:
        sync = sync_dump_partitions(instance, settings)
        report.removed = sync.stale
        done = instance.get_materialized_partitions(dg.AssetKey("mentions"))
        total = len(sync.current)
        progress(f"{total} dump(s) in {settings.landing_dir}")
        for n, dump in enumerate(sync.current, start=1):
            if not force and dump.key in done and dump_is_complete(settings.warehouse_dir, dump.key):
                report.skipped.append(dump.name)
                progress(f"[{n}/{total}] {dump.name}: unchanged, already ingested")
                continue
            progress(f"[{n}/{total}] {dump.name}: ingesting ...")
            # the dump's own progress too: reading, cleaning and scoring a large dump take minutes
            result = execute_with_progress(
                defs.resolve_job_def("ingest_dump"), instance, progress, verbose, partition_key=dump.key
            )
            if result.success:
                report.ingested.append(dump.name)
                progress(f"[{n}/{total}] {dump.name}: {_ingest_counts(result)}")
            else:
                report.failed[dump.name] = _failure_message(result, verbose)
                progress(f"[{n}/{total}] {dump.name}: FAILED: {report.failed[dump.name]}")
        signature = dumps_signature([d.key for d in sync.current if d.name not in report.failed])
        if not force and not report.ingested and last_published_signature(instance) == signature:
            progress("no new or changed dumps since the last publish: nothing to recompute")
            report.published = True
            return report
        started = time.perf_counter()
        progress("publishing: sentiment, topics, scores, warehouse.duckdb, report ...")
        result = execute_with_progress(
            defs.resolve_job_def("publish"), instance, progress, verbose, tags={DUMPS_TAG: signature}
        )
        progress(f"publish {'done' if result.success else 'FAILED'} in {duration(time.perf_counter() - started)}")
        report.published = result.success
        if not result.success:
            report.failed["<publish>"] = _failure_message(result, verbose)
    return report
