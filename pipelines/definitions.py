"""The trustpulse Dagster code location: brand-mention dumps in, an executive report out.

Drop dumps into DATA_ROOT/landing/; `landing_sensor` gives each file a `dumps` partition and ingests it;
declarative automation then refreshes sentiment, topics, scores, the warehouse and the report once per batch
(pipelines/catalog.py). The executor is chosen in one place (pipelines/executor.py): by default every job runs
in one process, so the sentiment model and the encoder load once per run; with TRUSTPULSE_EXECUTOR=celery each
step is a Celery task and each worker process loads a model once.
"""

import dagster as dg

from assets.checks import ASSET_CHECKS
from assets.dataset import mention_dataset
from assets.enrichment import ENRICHMENT_ASSETS
from assets.ingest import clean_mentions, raw_mentions
from assets.report import REPORT_ASSETS
from assets.resources import SentimentResource, TopicsResource, TrustpulseSettingsResource
from assets.scoring import score_tables
from assets.sentiment import mention_sentiment
from assets.topics import TOPIC_ASSETS, topics_refit_job
from assets.warehouse import warehouse
from pipelines.catalog import AUTOMATED_KEYS, catalogued
from pipelines.executor import run_executor
from pipelines.jobs import ingest_dump_job, publish_job
from pipelines.sensors import landing_sensor, weekly_report_schedule
from trustpulse.settings import SentimentConfig, TopicStageConfig, TrustpulseSettings

AUTOMATION_SENSOR = "default_automation_condition_sensor"
AUTOMATION_INTERVAL_SECONDS = 30
LAUNCHED_BY_TAG = "trustpulse/launched_by"

automation_sensor = dg.AutomationConditionSensorDefinition(
    AUTOMATION_SENSOR,
    target=dg.AssetSelection.assets(*AUTOMATED_KEYS),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_INTERVAL_SECONDS,
    run_tags={LAUNCHED_BY_TAG: "automation"},
    description="Keeps sentiment, topics, scores, the warehouse and the report fresh: one run after a batch "
    "of dumps is ingested, after a topic refit or after a re-ingested partition (see each asset's automation "
    "condition).",
)


def build_definitions(
    settings: TrustpulseSettings | None = None, sentiment: SentimentConfig | None = None
) -> dg.Definitions:
    """Definitions bound to one deployment's settings (default: from the environment); the resources show
    the configuration in the UI and hand the core models to the assets."""
    return dg.Definitions(
        assets=catalogued(
            [
                raw_mentions,
                clean_mentions,
                *ENRICHMENT_ASSETS,
                mention_dataset,
                mention_sentiment,
                *TOPIC_ASSETS,
                score_tables,
                warehouse,
                *REPORT_ASSETS,
            ]
        ),
        asset_checks=ASSET_CHECKS,
        jobs=[ingest_dump_job, publish_job, topics_refit_job],
        sensors=[landing_sensor, automation_sensor],
        schedules=[weekly_report_schedule],
        resources={
            "settings": TrustpulseSettingsResource.from_core(settings or TrustpulseSettings()),
            "sentiment": SentimentResource.from_core(sentiment or SentimentConfig()),
            "topics": TopicsResource.from_core(TopicStageConfig()),
        },
        # every job, the UI's "Materialize all" and automation runs included: one process, models loaded once
        # (TRUSTPULSE_EXECUTOR=celery: one Celery task per step, pipelines/executor.py)
        executor=run_executor(),
        metadata={"description": __doc__ or ""},
    )


defs = build_definitions()
