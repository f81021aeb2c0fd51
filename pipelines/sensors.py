"""The landing sensor and the weekly schedule.

The sensor keeps one `dumps` partition per file in landing/ (name + content hash): a new or changed
file gets a partition and an `ingest_dump` run for it alone; a removed or replaced one loses its
partition. Once every landed dump is ingested and the set of dumps differs from the one last published,
it requests one `publish` run (sentiment, scores, report, warehouse) for the new state.
"""

from __future__ import annotations

import dagster as dg

from assets.ingest import DUMPS
from pipelines.jobs import ingest_dump_job, publish_job
from pipelines.partitions import DUMPS_TAG, dumps_signature, last_published_signature
from trustpulse.landing import landed_dumps
from trustpulse.settings import TrustpulseSettings


@dg.sensor(
    jobs=[ingest_dump_job, publish_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=__doc__,
)
def landing_sensor(context: dg.SensorEvaluationContext, settings: TrustpulseSettings) -> dg.SensorResult:
    current = {d.key for d in landed_dumps(settings.landing_dir)}
    registered = set(context.instance.get_dynamic_partitions(DUMPS.name))
    added, removed = sorted(current - registered), sorted(registered - current)
    if added or removed:
        return dg.SensorResult(
            dynamic_partitions_requests=[
                *([DUMPS.build_add_request(added)] if added else []),
                *([DUMPS.build_delete_request(removed)] if removed else []),
            ],
            run_requests=[
                dg.RunRequest(job_name=ingest_dump_job.name, partition_key=k, run_key=f"ingest-{k}") for k in added
            ],
        )
    pending = sorted(current - context.instance.get_materialized_partitions(dg.AssetKey("mentions")))
    if pending or not current:
        return dg.SensorResult(
            skip_reason=f"waiting for {len(pending)} dump(s) to be ingested" if pending else "landing/ is empty"
        )
    signature = dumps_signature(sorted(current))
    if last_published_signature(context.instance) == signature:
        return dg.SensorResult(skip_reason="no new dumps since the last publish")
    # the run key makes Dagster request this publish once, even while it is still running
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(job_name=publish_job.name, run_key=f"publish-{signature}", tags={DUMPS_TAG: signature})
        ]
    )


weekly_report_schedule = dg.ScheduleDefinition(
    name="weekly_report",
    job=publish_job,
    cron_schedule="0 7 * * 1",
    execution_timezone="UTC",
    description="Monday 07:00 UTC: re-score and render the executive report for the week that ended.",
)
