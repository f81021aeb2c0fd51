"""The trustpulse Dagster code location."""

import dagster as dg

from assets.dataset import mention_dataset
from assets.ingest import clean_mentions, raw_mentions
from assets.warehouse import warehouse
from pipelines.jobs import ingest_dump_job, publish_job
from trustpulse.settings import TrustpulseSettings


def build_definitions(settings: TrustpulseSettings | None = None) -> dg.Definitions:
    """Definitions bound to one deployment's settings (default: from the environment)."""
    return dg.Definitions(
        assets=[raw_mentions, clean_mentions, mention_dataset, warehouse],
        jobs=[ingest_dump_job, publish_job],
        resources={"settings": settings or TrustpulseSettings()},
    )


defs = build_definitions()
