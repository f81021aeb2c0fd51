"""The landing sensor and the weekly schedule.

What publishes after an ingest is Dagster's declarative automation (pipelines/catalog.py), not this sensor:
one refresh of everything downstream once a batch of dumps is ingested, whoever launched the ingest.
"""

from __future__ import annotations

import dagster as dg

from assets.ingest import DUMPS
from pipelines.jobs import ingest_dump_job, publish_job
from pipelines.partitions import DUMPS_TAG, last_published_signature, remove_partition_files
from trustpulse.landing import diff_partitions, dumps_signature, landed_dumps
from trustpulse.settings import TrustpulseSettings

LANDING_SENSOR_DESCRIPTION = (
    "New dumps go into DATA_ROOT/landing/: this sensor keeps one `dumps` partition per file there (file name + "
    "content hash) and launches an `ingest_dump` run for each new or changed file; a removed or replaced file "
    "loses its partition and its parquet files, as in `trustpulse run`. Partitions are not added by hand. Once "
    "the batch is ingested, the default_automation_condition_sensor refreshes everything downstream in one "
    "run; a dump removed without a replacement asks for one `publish`."
)
SENSOR_INTERVAL_SECONDS = 30
IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
PARTITION_TAG = "dagster/partition"


def _running_partitions(instance: dg.DagsterInstance, keys: list[str]) -> set[str]:
    """Of `keys`, those with an ingest run queued or running (a hand-added key's run ends with its one-line
    error instead of Dagster's 'nonexistent partition' traceback; the partition goes on the next tick)."""
    return {
        key
        for key in keys
        if instance.get_runs(dg.RunsFilter(tags={PARTITION_TAG: key}, statuses=IN_PROGRESS), limit=1)
    }


@dg.sensor(
    jobs=[ingest_dump_job, publish_job],
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=LANDING_SENSOR_DESCRIPTION,
)
def landing_sensor(
    context: dg.SensorEvaluationContext, settings: dg.ResourceParam[TrustpulseSettings]
) -> dg.SensorResult:
    diff = diff_partitions(landed_dumps(settings.landing_dir), context.instance.get_dynamic_partitions(DUMPS.name))
    running = _running_partitions(context.instance, diff.stale)
    removed = [k for k in diff.stale if k not in running]
    added = diff.added
    if not added and not removed:
        return dg.SensorResult(skip_reason="landing/ and the dump partitions agree")
    remove_partition_files(settings, removed)
    run_requests = [dg.RunRequest(job_name=ingest_dump_job.name, partition_key=k, run_key=f"ingest-{k}") for k in added]
    if removed and not added and diff.current:
        # nothing new to ingest, so automation sees no update: publish the smaller set of dumps once
        signature = dumps_signature([d.key for d in diff.current])
        if last_published_signature(context.instance) != signature:
            run_requests.append(
                dg.RunRequest(job_name=publish_job.name, run_key=f"publish-{signature}", tags={DUMPS_TAG: signature})
            )
    return dg.SensorResult(
        dynamic_partitions_requests=[
            *([DUMPS.build_add_request(added)] if added else []),
            *([DUMPS.build_delete_request(removed)] if removed else []),
        ],
        run_requests=run_requests,
    )


weekly_report_schedule = dg.ScheduleDefinition(
    name="weekly_report",
    job=publish_job,
    cron_schedule="0 7 * * 1",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Monday 07:00 UTC: re-score and render the executive report for the week that ended (on by default).",
)
