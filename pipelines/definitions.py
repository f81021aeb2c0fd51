"""The trustpulse Dagster code location."""

import dagster as dg

from assets.checks import ASSET_CHECKS
from assets.dataset import mention_dataset
from assets.ingest import clean_mentions, raw_mentions
from assets.report import REPORT_ASSETS
from assets.scoring import score_tables
from assets.sentiment import SentimentResource, mention_sentiment
from assets.topics import TOPIC_ASSETS, TopicsResource, topics_refit_job
from assets.warehouse import warehouse
from pipelines.jobs import ingest_dump_job, publish_job
from pipelines.sensors import landing_sensor, weekly_report_schedule
from trustpulse.settings import TrustpulseSettings


def build_definitions(
    settings: TrustpulseSettings | None = None, sentiment: SentimentResource | None = None
) -> dg.Definitions:
    """Definitions bound to one deployment's settings (default: from the environment)."""
    return dg.Definitions(
        assets=[
            raw_mentions,
            clean_mentions,
            mention_dataset,
            mention_sentiment,
            *TOPIC_ASSETS,
            score_tables,
            warehouse,
            *REPORT_ASSETS,
        ],
        asset_checks=ASSET_CHECKS,
        jobs=[ingest_dump_job, publish_job, topics_refit_job],
        sensors=[landing_sensor],
        schedules=[weekly_report_schedule],
        resources={
            "settings": settings or TrustpulseSettings(),
            "sentiment": sentiment or SentimentResource(),
            "topics": TopicsResource(),
        },
    )


defs = build_definitions()
