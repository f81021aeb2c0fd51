"""Stage `report`: the executive report, rendered from the warehouse by the papermill notebook, then published.

The work is in `trustpulse.report` (notebook `reports/executive_report.ipynb`). Publication is gated:

1. `executive_report` renders into DATA_ROOT/reports/staging/ (the HTML, the executed notebook and
   `stated_counts.json`, every count the report states); nothing a reader sees changes.
2. `report_reconciles` (assets/checks.py), a *blocking* asset check on `executive_report`, recounts each stated
   count from the warehouse parquet files. Failing, it stops the run before any asset downstream of the report.
3. `published_report`, downstream of `executive_report`, copies the staged report to
   DATA_ROOT/reports/<run date>/ and then to DATA_ROOT/reports/latest.html. Dagster never starts it in a run where
   the blocking check failed, so a report that disagrees with the warehouse is never published.
"""

import dagster as dg
import polars as pl
from pydantic import Field

from assets.inputs import read_staged_report
from trustpulse.report.data import producing_assets
from trustpulse.report.render import publish_report, reconcile_staged, stage_report
from trustpulse.serve import report_url
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import StorePath, read_parquet, table_path
from trustpulse.tables import ALL_PERIODS

# Everything the report reads; `mention_topics` / `topic_trends` are read only when their files exist.
REPORT_DEPS = [dg.AssetKey(name) for name in producing_assets()]


def _number(value: object, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def headline_summary(warehouse_dir: StorePath) -> str:
    """Markdown: per brand, over all periods, the figures the report opens with (audience mentions, needing an
    answer, answered, response rate, trust index), read from the published trust_index table."""
    path = table_path(warehouse_dir, "trust_index")
    if not path.exists():
        return "_no trust_index table yet_"
    rows = read_parquet(path).filter(pl.col("period") == ALL_PERIODS).sort("brand").iter_rows(named=True)
    lines = [
        "| brand | audience mentions | need an answer | answered | response rate | trust index |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        needs, answered = int(r.get("n_needs") or 0), int(r.get("n_answered") or 0)
        rate = f"{answered / needs:.0%}" if needs else "n/a"
        lines.append(
            f"| {r['brand']} | {int(r.get('n_audience') or 0):,} | {needs:,} | {answered:,} | {rate} | "
            f"{_number(r.get('trust_index'))} |"
        )
    return "\n".join(lines)


class ReportConfig(dg.Config):
    period: str = Field(default="latest", description="'latest', 'all', or a period start such as 2026-11-02.")
    brands: list[str] = Field(default_factory=list, description="Brands to report on; empty: every brand.")
    run_date: str = Field(default="", description="YYYY-MM-DD naming the report folder; empty: today (UTC).")


@dg.asset(deps=REPORT_DEPS, group_name="report", kinds={"jupyter", "html"})
def executive_report(
    context: dg.AssetExecutionContext, config: ReportConfig, settings: dg.ResourceParam[TrustpulseSettings]
) -> dg.MaterializeResult:
    """One HTML page an executive reads in two minutes, then the details, staged in DATA_ROOT/reports/staging
    until `report_reconciles` passes and `published_report` publishes it."""
    staged = stage_report(
        settings.root,
        period=config.period,
        brands=config.brands,
        run_date=config.run_date,
        min_kpi_n=settings.min_kpi_n,
    )
    context.log.info(
        f"executive report staged: {staged.html} ({staged.chart_count} charts, {staged.size_bytes:,} bytes, "
        f"{staged.seconds:.1f} s); the report_reconciles check decides whether it is published"
    )
    reports_dir = settings.root / "reports"
    return dg.MaterializeResult(
        metadata={
            "open staged report": dg.MetadataValue.url(report_url(reports_dir, staged.html)),
            "headline": dg.MetadataValue.md(headline_summary(settings.warehouse_dir)),
            "staged": dg.MetadataValue.path(str(staged.html)),
            "stated_counts": dg.MetadataValue.path(str(staged.stated)),
            "run_date": staged.run_date,
            "notebook": dg.MetadataValue.path(str(staged.notebook)),
            "size_bytes": dg.MetadataValue.int(staged.size_bytes),
            "chart_count": dg.MetadataValue.int(staged.chart_count),
            "seconds": dg.MetadataValue.float(staged.seconds),
        }
    )


@dg.asset(deps=[executive_report], group_name="report", kinds={"html"})
def published_report(
    context: dg.AssetExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]
) -> dg.MaterializeResult:
    """The reconciled report where readers find it: DATA_ROOT/reports/<run date>/ and DATA_ROOT/reports/latest.html.
    Runs only after the blocking `report_reconciles` check on `executive_report` passed."""
    staged = read_staged_report(context, settings)
    # the blocking check gates this asset within a run; materialised on its own, it checks again itself
    result = reconcile_staged(settings.root, staged)
    if not result.passed:
        raise dg.Failure(description=f"not published: {result.summary()}")
    report = publish_report(settings.root, staged)
    context.log.info(f"executive report published: {report.latest} (and {report.path})")
    reports_dir = settings.root / "reports"
    return dg.MaterializeResult(
        metadata={
            "open report": dg.MetadataValue.url(report_url(reports_dir, report.latest)),
            "open this run's report": dg.MetadataValue.url(report_url(reports_dir, report.path)),
            "headline": dg.MetadataValue.md(headline_summary(settings.warehouse_dir)),
            "path": dg.MetadataValue.path(str(report.path)),
            "latest": dg.MetadataValue.path(str(report.latest)),
            "notebook": dg.MetadataValue.notebook(str(report.notebook)),
            "stated_counts": dg.MetadataValue.path(str(report.stated)),
            "size_bytes": dg.MetadataValue.int(report.size_bytes),
            "chart_count": dg.MetadataValue.int(report.chart_count),
        }
    )


REPORT_ASSETS = [executive_report, published_report]
