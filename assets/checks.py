"""Asset checks: the contract, uniqueness, the accounting, the quarantine ceiling, sentiment drift, freshness,
and the report's reconciliation with the warehouse. Rules live in `trustpulse.checks`, `trustpulse.dataset`,
`trustpulse.topics.stage` and `trustpulse.report.reconcile`; these wrappers read the tables.

Blocking checks (a failure stops every asset downstream of the checked one in the same run, and fails the run):
every record of a cleaned dump accounted for (`dump_records_accounted`, declared and evaluated by the
`clean_mentions` multi-asset itself, per dump partition), raw_mentions holding what the dumps'
readers read (`raw_records_read`), one mention_topics row per mention (`mention_topics_complete`), and the
report agreeing with the warehouse (`report_reconciles`: a report that fails it is not published)."""

import time

import dagster as dg
import polars as pl

from assets.dataset import mention_dataset
from assets.report import executive_report
from assets.sentiment import mention_sentiment
from assets.topics import mention_topics
from trustpulse.checks import (
    contract_violations,
    duplicated_values,
    label_shares,
    quarantine_share,
    total_variation,
    unbalanced_dumps,
)
from trustpulse.dataset import raw_records_unlike_manifests
from trustpulse.report.render import ReportError, read_staged, reconcile_staged
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import StorePath, parquet_rows, read_parquet, read_partitions, table_path
from trustpulse.tables import ACCOUNTING_SCHEMA, MANIFEST_SCHEMA, MENTION_SCHEMA, SENTIMENT_SCHEMA
from trustpulse.topics.stage import mentions_without_topic_row

# Automation runs a check together with its asset (in the run that materialises it), never on its own.
WITH_ITS_ASSET = dg.AutomationCondition.any_deps_match(dg.AutomationCondition.will_be_requested()).with_label(
    "with its asset"
)


def _read(settings: TrustpulseSettings, table: str) -> pl.DataFrame:
    return read_parquet(table_path(settings.warehouse_dir, table))


def _rows(path: StorePath) -> int:
    """Rows of a parquet file, without reading its columns."""
    return parquet_rows(path)


def _problem(problem: str | None) -> dg.AssetCheckResult:
    """A blocking check's result: passed when there is no problem, else failed (ERROR) saying what is wrong."""
    return dg.AssetCheckResult(
        passed=problem is None,
        severity=dg.AssetCheckSeverity.ERROR,
        description=problem,
        metadata={"problem": problem or ""},
    )


@dg.asset_check(
    automation_condition=WITH_ITS_ASSET,
    asset=mention_dataset,
    blocking=True,
    description="raw_mentions.parquet holds every record the published dumps' readers read (their manifests); "
    "blocking.",
)
def raw_records_read(settings: dg.ResourceParam[TrustpulseSettings]) -> dg.AssetCheckResult:
    dumps = _read(settings, "ingest_accounting")["dump_key"].to_list()
    manifests = read_partitions(settings.warehouse_dir, "dump_manifest", dumps, MANIFEST_SCHEMA)
    raw_records = _rows(table_path(settings.warehouse_dir, "raw_mentions"))
    return _problem(raw_records_unlike_manifests(raw_records, manifests))


@dg.asset_check(
    automation_condition=WITH_ITS_ASSET,
    asset=mention_topics,
    blocking=True,
    description="mention_topics has exactly one placed row (a topic id) per mention with a text; blocking.",
)
def mention_topics_complete(settings: dg.ResourceParam[TrustpulseSettings]) -> dg.AssetCheckResult:
    problem = mentions_without_topic_row(
        _read(settings, "mention_topics"),
        read_parquet(table_path(settings.warehouse_dir, "mentions"), columns=["text"]),
    )
    return _problem(problem)


@dg.asset_check(
    automation_condition=WITH_ITS_ASSET,
    asset=mention_dataset,
    description="mentions.parquet has every contract column with its type.",
)
def mentions_contract(settings: dg.ResourceParam[TrustpulseSettings]) -> dg.AssetCheckResult:
    problems = contract_violations(_read(settings, "mentions"), MENTION_SCHEMA)
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": dg.MetadataValue.json(problems)})


@dg.asset_check(
    automation_condition=WITH_ITS_ASSET, asset=mention_dataset, description="mention_id is unique in mentions.parquet."
)
def mention_id_unique(settings: dg.ResourceParam[TrustpulseSettings]) -> dg.AssetCheckResult:
    dupes = duplicated_values(_read(settings, "mentions"), "mention_id")
    return dg.AssetCheckResult(passed=not dupes, metadata={"duplicated": len(dupes), "examples": dupes[:10]})


@dg.asset_check(
    automation_condition=WITH_ITS_ASSET,
    asset=mention_dataset,
    description="Per dump: raw records = kept + duplicates + quarantined.",
)
def accounting_balanced(settings: dg.ResourceParam[TrustpulseSettings]) -> dg.AssetCheckResult:
    accounting = _read(settings, "ingest_accounting")
    bad = unbalanced_dumps(accounting) + contract_violations(accounting, ACCOUNTING_SCHEMA)
    return dg.AssetCheckResult(
        passed=not bad,
        metadata={"unbalanced": dg.MetadataValue.json(bad), "raw_records": int(accounting["raw_records"].sum())},
    )


@dg.asset_check(
    automation_condition=WITH_ITS_ASSET,
    asset=mention_dataset,
    description="The quarantined share of raw records is under the ceiling.",
)
def quarantine_under_ceiling(settings: dg.ResourceParam[TrustpulseSettings]) -> dg.AssetCheckResult:
    share = quarantine_share(_read(settings, "ingest_accounting"))
    return dg.AssetCheckResult(
        passed=share <= settings.max_quarantine_share,
        metadata={"quarantined_share": round(share, 4), "ceiling": settings.max_quarantine_share},
    )


@dg.asset_check(
    automation_condition=WITH_ITS_ASSET,
    asset=mention_sentiment,
    description="Sentiment label mix moved less than the drift threshold "
    "(total-variation distance) since the previous materialisation.",
)
def sentiment_drift(
    context: dg.AssetCheckExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]
) -> dg.AssetCheckResult:
    sentiment = _read(settings, "mention_sentiment")
    problems = contract_violations(sentiment, SENTIMENT_SCHEMA)
    current = label_shares(sentiment)
    records = context.instance.fetch_materializations(mention_sentiment.key, limit=2).records
    previous: dict[str, float] = {}
    if len(records) == 2:
        meta = records[1].asset_materialization.metadata if records[1].asset_materialization else {}
        if "label_shares" in meta:
            previous = dict(meta["label_shares"].value)
    drift = total_variation(previous, current) if previous else 0.0
    return dg.AssetCheckResult(
        passed=not problems and drift <= settings.max_sentiment_drift,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "drift": round(drift, 4),
            "threshold": settings.max_sentiment_drift,
            "previous": dg.MetadataValue.json(previous),
            "current": dg.MetadataValue.json(current),
            "problems": dg.MetadataValue.json(problems),
        },
    )


@dg.asset_check(
    automation_condition=WITH_ITS_ASSET,
    asset=mention_dataset,
    description="The published mention tables are fresher than the limit.",
)
def mentions_fresh(settings: dg.ResourceParam[TrustpulseSettings]) -> dg.AssetCheckResult:
    path = table_path(settings.warehouse_dir, "mentions")
    age_hours = (time.time() - path.stat().st_mtime) / 3600 if path.exists() else float("inf")
    return dg.AssetCheckResult(
        passed=age_hours <= settings.freshness_hours,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"age_hours": round(age_hours, 2) if path.exists() else -1, "limit_hours": settings.freshness_hours},
    )


MISMATCHES_SHOWN = 20  # mismatched counts listed in the check's metadata


@dg.asset_check(
    automation_condition=WITH_ITS_ASSET,
    asset=executive_report,
    blocking=True,
    description="Every count the staged report states (mentions per brand, needing an answer, answered, "
    "unanswered, undated, quarantined, raw records) equals the warehouse's own count; blocking: the report is "
    "published (published_report, latest.html) only when this passes.",
)
def report_reconciles(settings: dg.ResourceParam[TrustpulseSettings]) -> dg.AssetCheckResult:
    try:
        staged = read_staged(settings.root)
        result = reconcile_staged(settings.root, staged)
    except (ReportError, OSError, ValueError) as exc:
        return dg.AssetCheckResult(passed=False, metadata={"error": str(exc)})
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=result.summary(),
        metadata={
            "checked": result.checked,
            "mismatched": len(result.mismatches),
            "unverified": len(result.unverified),
            "mismatches": dg.MetadataValue.json(result.mismatches[:MISMATCHES_SHOWN]),
            "unverified_metrics": dg.MetadataValue.json(sorted({u["metric"] for u in result.unverified})),
            "stated_counts": dg.MetadataValue.path(str(staged.stated)),
        },
    )


ASSET_CHECKS = [
    raw_records_read,
    mention_topics_complete,
    mentions_contract,
    mention_id_unique,
    accounting_balanced,
    quarantine_under_ceiling,
    sentiment_drift,
    mentions_fresh,
    report_reconciles,
]
