"""Stage `warehouse`: `warehouse.duckdb`, one view per published parquet table."""

import dagster as dg

from assets.dataset import mention_dataset
from assets.inputs import published_tables
from assets.scoring import score_tables
from assets.sentiment import mention_sentiment
from assets.topics import TOPIC_ASSETS
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import build_duckdb_views

# Every asset that publishes a table under warehouse/ belongs here, so the views are rebuilt after it.
PUBLISHING_ASSETS = [mention_dataset, mention_sentiment, *TOPIC_ASSETS, *score_tables.keys]


@dg.asset(deps=PUBLISHING_ASSETS, group_name="publish", kinds={"duckdb"})
def warehouse(
    context: dg.AssetExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]
) -> dg.MaterializeResult:
    """Analysts query this file with `duckdb` or any SQL client."""
    tables = published_tables(context, settings)
    views = build_duckdb_views(settings.duckdb_path, tables)
    context.log.info(f"{settings.duckdb_path}: {len(tables)} views ({', '.join(tables)})")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(settings.duckdb_path)), "views": dg.MetadataValue.json(views)}
    )
