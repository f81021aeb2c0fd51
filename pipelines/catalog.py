"""The catalog around the assets: owners, tags, code versions, freshness policies, automation conditions,
column schemas (with the contract's descriptions) and column lineage, applied to every asset in one place.

Automation (evaluated by `default_automation_condition_sensor`, on by default, run by the daemon that
`trustpulse ui` starts):

- the ingest partitions (reading, cleaning, and the per-dump enrichment `dump_sentiment`) are
  launched by `landing_sensor` (one run per new or changed dump in landing/);
- `mention_dataset` refreshes once an upstream dump partition was (re-)ingested, and waits while any ingest
  is queued or running, so a batch of new dumps gives ONE refresh of everything downstream;
- everything downstream (sentiment, topics, scores, warehouse, report) is `eager`: it refreshes after any
  upstream update (a topic refit, a re-ingested partition), in the same run as its upstream when both are
  due, and not again once it was materialised after its upstream (whoever launched that run: the CLI,
  `publish` from the Launchpad, the schedule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import dagster as dg
import polars as pl

from assets.catalog import described_schema
from trustpulse.tables import (
    DUPLICATE_SCHEMA,
    MENTION_SCHEMA,
    MENTION_TOPICS_SCHEMA,
    QUARANTINE_SCHEMA,
    RAW_SCHEMA,
    SENTIMENT_SCHEMA,
    TREND_SCHEMA,
)

DATA_TEAM = "team:data-engineering"
INSIGHTS_TEAM = "team:insights"
DOMAIN_TAG = {"domain": "brand-trust"}
PII_MASKED = {"pii": "masked"}

# Bump an asset's code version when what it computes changes: the UI then flags its materialisations as
# computed by older code.
CODE_VERSIONS: dict[str, str] = {
    "raw_mentions": "1",
    "mentions": "1",
    "quarantine": "1",
    "duplicates": "1",
    "dump_sentiment": "1",
    "mention_dataset": "1",
    "mention_sentiment": "2",  # 2: `scored`, `not_scored_reason` (texts in a language the model cannot read)
    "topic_model": "1",
    "mention_topics": "1",
    "topic_trends": "1",
    "needs_answer": "1",
    "unanswered": "1",
    "responsiveness": "1",
    "trust_index": "1",
    "trust_drivers": "1",
    "warehouse": "1",
    "executive_report": "1",
    "published_report": "1",
}
INSIGHTS_ASSETS = {"executive_report", "published_report", "trust_index", "responsiveness", "trust_drivers"}
WITH_PERSONAL_DATA = {"raw_mentions", "mentions", "quarantine", "duplicates", "mention_dataset", "unanswered"}

# The report is weekly: what readers see should be at most a week old (warn) and never older than the
# freshness check's limit (fail).
WEEKLY = dg.FreshnessPolicy.time_window(fail_window=timedelta(days=8), warn_window=timedelta(days=7))
FRESHNESS: dict[str, dg.FreshnessPolicy] = {
    "mention_dataset": WEEKLY,
    "warehouse": WEEKLY,
    "published_report": WEEKLY,
}

INGEST_KEYS = {"raw_mentions", "mentions", "quarantine", "duplicates", "dump_sentiment"}
DATASET = "mention_dataset"

# mention_dataset: refresh after a dump partition was (re-)ingested, once no ingest is queued or running and
# every registered dump has been ingested: one refresh per batch. Unlike `eager()` it does not fire merely
# because it was never materialised (an empty landing/ publishes nothing).
AFTER_INGEST = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after a batch of dumps is ingested")
DOWNSTREAM = dg.AutomationCondition.eager()
# `mention_sentiment` scores any published dump that has no `dump_sentiment` partition itself (ingested by an
# earlier version, or held back by a failed check), so such a dump must not hold back its refresh: eager()
# alone waits for every upstream partition and would leave new mentions without sentiment.
SENTIMENT = "mention_sentiment"
AFTER_DATASET_SENTIMENT = DOWNSTREAM.ignore(dg.AssetSelection.assets("dump_sentiment"))


def automation_condition(name: str) -> dg.AutomationCondition | None:
    if name in INGEST_KEYS:
        return None  # launched by landing_sensor, one run per dump
    if name == DATASET:
        return AFTER_INGEST
    return AFTER_DATASET_SENTIMENT if name == SENTIMENT else DOWNSTREAM


COLUMN_SCHEMAS: dict[str, Mapping[str, pl.DataType]] = {
    "raw_mentions": RAW_SCHEMA,
    "mentions": MENTION_SCHEMA,
    "quarantine": QUARANTINE_SCHEMA,
    "duplicates": DUPLICATE_SCHEMA,
    "mention_dataset": MENTION_SCHEMA,
    "dump_sentiment": SENTIMENT_SCHEMA,
    "mention_sentiment": SENTIMENT_SCHEMA,
    "mention_topics": MENTION_TOPICS_SCHEMA,
    "topic_trends": TREND_SCHEMA,
}


def _same_columns(upstream: str, columns: Sequence[str]) -> dg.TableColumnLineage:
    key = dg.AssetKey(upstream)
    return dg.TableColumnLineage(deps_by_column={c: [dg.TableColumnDep(asset_key=key, column_name=c)] for c in columns})


def _sentiment_lineage() -> dg.TableColumnLineage:
    text = [dg.TableColumnDep(asset_key=dg.AssetKey(DATASET), column_name="text")]
    deps = {c: text for c in SENTIMENT_SCHEMA if c not in ("mention_id", "model_id")}
    deps["mention_id"] = [dg.TableColumnDep(asset_key=dg.AssetKey(DATASET), column_name="mention_id")]
    return dg.TableColumnLineage(deps_by_column=deps)


COLUMN_LINEAGE: dict[str, dg.TableColumnLineage] = {
    "mention_dataset": _same_columns("mentions", list(MENTION_SCHEMA)),
    "mention_sentiment": _sentiment_lineage(),
}


def _catalogued(spec: dg.AssetSpec) -> dg.AssetSpec:
    name = spec.key.to_user_string()
    metadata = dict(spec.metadata)
    if name in COLUMN_SCHEMAS:
        metadata["dagster/column_schema"] = described_schema(dict(COLUMN_SCHEMAS[name]))
    if name in COLUMN_LINEAGE:
        metadata["dagster/column_lineage"] = COLUMN_LINEAGE[name]
    tags = {**spec.tags, **DOMAIN_TAG, **(PII_MASKED if name in WITH_PERSONAL_DATA else {})}
    return spec.replace_attributes(
        owners=[INSIGHTS_TEAM if name in INSIGHTS_ASSETS else DATA_TEAM],
        tags={k: v for k, v in tags.items() if not k.startswith("dagster/kind/")},
        code_version=CODE_VERSIONS.get(name, spec.code_version),
        freshness_policy=FRESHNESS.get(name, spec.freshness_policy),
        automation_condition=automation_condition(name),
        metadata=metadata,
    )


def catalogued(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets with their owners, tags, code versions, freshness, automation and column schemas."""
    return [a.map_asset_specs(_catalogued) for a in assets]


AUTOMATED_KEYS = [dg.AssetKey(name) for name in CODE_VERSIONS if automation_condition(name) is not None]
